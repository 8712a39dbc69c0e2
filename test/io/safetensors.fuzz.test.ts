import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { SEED } from '../helpers.js';

/**
 * Fuzzing the decoder: whatever the bytes, decodeSafetensors either throws a SafetensorsError
 * with a one-line message, or returns tensors that are exactly what the header describes.
 */

const u64 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0];

/** Decodes `bytes` and checks the outcome; returns 'ok' or 'error' so properties can count them. */
function check(bytes: Uint8Array): 'ok' | 'error' {
  let out: ReturnType<typeof decodeSafetensors>;
  try {
    out = decodeSafetensors(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(/^safetensors: [^\n]+$/);
    return 'error';
  }
  // A correct load: each tensor is the header's dtype and shape, holding the bytes at its offsets.
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  expect(Object.keys(out.tensors).sort()).toEqual(names.sort());
  let total = 0;
  for (const name of names) {
    const info = header[name]!;
    expect(['F32', 'F64']).toContain(info.dtype);
    expect(info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(info.data_offsets.length).toBe(2);
    const t = out.tensors[name]!;
    expect(t).toBeInstanceOf(Tensor);
    expect(t.dtype).toBe(info.dtype === 'F64' ? 'float64' : 'float32');
    expect(t.shape).toEqual(info.shape);
    expect(t.numel()).toBe(info.shape.reduce((a, b) => a * b, 1));
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    expect(raw).toEqual(bytes.subarray(8 + n + info.data_offsets[0], 8 + n + info.data_offsets[1]));
    total += raw.length;
  }
  expect(total).toBe(bytes.length - 8 - n);
  expect(out.metadata).toEqual(header.__metadata__ ?? {});
  for (const v of Object.values(out.metadata)) expect(typeof v).toBe('string');
  return 'ok';
}

const arbTensor = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.boolean(), fc.integer())
  .map(([shape, f64, seed]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = f64 ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((seed + i * 7919) % 1000) / 7;
    return new Tensor(data, shape);
  });
const arbName = fc.string({ maxLength: 6 }).filter((s) => s !== '__metadata__');
const arbFile = fc
  .tuple(fc.dictionary(arbName, arbTensor, { minKeys: 1, maxKeys: 4 }), fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }), { nil: undefined }))
  .map(([tensors, metadata]) => encodeSafetensors(tensors, metadata));

const options = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, seed: SEED });

describe('decodeSafetensors under fuzzing', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void check(bytes)), options(1000));
  });

  it('random bytes after a plausible header length', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 }), (n, rest) => void check(Uint8Array.from([...u64(n), ...rest]))), options(1000));
  });

  it('valid files decode correctly', () => {
    fc.assert(fc.property(arbFile, (bytes) => {
      expect(check(bytes)).toBe('ok');
    }), options(300));
  });

  it('valid files truncated at every kind of length', () => {
    fc.assert(
      fc.property(arbFile, fc.nat(), (bytes, cut) => {
        const k = cut % bytes.length; // strictly shorter than the file
        expect(check(bytes.slice(0, k))).toBe('error');
      }),
      options(500),
    );
  });

  it('valid files with bytes overwritten or appended', () => {
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(arbFile, fc.array(edit, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 3 }), (bytes, edits, tail) => {
        const copy = Uint8Array.from([...bytes, ...tail]);
        for (const { at, value } of edits) copy[at % copy.length] = value;
        check(copy);
      }),
      options(1000),
    );
  });

  it('valid files with a mutated header (fields replaced, removed, shifted, or added)', () => {
    const interesting = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('F32', 'F64', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'f32', ''),
      fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 3 }),
      fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(2 ** 64), fc.constant(-0), fc.constant(1.5),
    );
    const mutation = fc.record({
      target: fc.nat(),
      field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra', '__entry__', '__metadata__'),
      action: fc.constantFrom('set', 'delete', 'shift', 'append'),
      value: interesting,
      delta: fc.integer({ min: -9, max: 9 }),
    });
    fc.assert(
      fc.property(arbFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: -8, max: 8 }), (bytes, mutations, resize) => {
        const n = new DataView(bytes.buffer).getUint32(0, true);
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
        for (const m of mutations) {
          const keys = Object.keys(header);
          const key = keys[m.target % Math.max(1, keys.length)] ?? 'x';
          if (m.field === '__metadata__') header.__metadata__ = m.action === 'delete' ? undefined : m.value;
          else if (m.field === '__entry__') header[m.action === 'set' ? `${key}!` : key] = m.action === 'delete' ? undefined : m.value;
          else {
            const entry = header[key];
            if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
            const fields = entry as Record<string, unknown>;
            if (m.action === 'delete') delete fields[m.field];
            else if (m.action === 'set') fields[m.field] = m.value;
            else if (!Array.isArray(fields[m.field])) continue;
            else if (m.action === 'append') fields[m.field] = [...(fields[m.field] as unknown[]), Math.abs(m.delta)];
            else fields[m.field] = (fields[m.field] as unknown[]).map((v) => (typeof v === 'number' ? v + m.delta : v));
          }
        }
        const text = new TextEncoder().encode(JSON.stringify(header));
        const data = bytes.subarray(8 + n);
        const resized = resize >= 0 ? Uint8Array.from([...data, ...new Array<number>(resize).fill(0)]) : data.subarray(0, Math.max(0, data.length + resize));
        check(Uint8Array.from([...u64(text.length), ...text, ...resized]));
      }),
      options(1000),
    );
  });
});
