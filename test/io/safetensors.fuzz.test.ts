import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { SEED } from '../helpers.js';
import { referenceVerdict } from './safetensors-reference.js';

/**
 * Fuzzing the decoder: whatever the bytes, decodeSafetensors either throws a SafetensorsError
 * with a one-line message, or returns tensors that are exactly what the header describes; and it
 * accepts exactly the files the reference rules accept (./safetensors-reference.ts), except those
 * holding a dtype elbo does not read (an error, never a wrong load). A few thousand cases by
 * default; ELBO_SLOW=1 runs ten times as many.
 */

const u64 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0];

/** Decodes `bytes` and checks the outcome; returns 'ok' or 'error' so properties can count them. */
function check(bytes: Uint8Array): 'ok' | 'error' {
  const verdict = referenceVerdict(bytes);
  let out: ReturnType<typeof decodeSafetensors>;
  try {
    out = decodeSafetensors(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(/^safetensors: [^\n]+$/);
    expect(verdict, (error as Error).message).not.toBe('accept');
    return 'error';
  }
  expect(verdict).toBe('accept');
  // A correct load: each tensor is the header's dtype and shape, holding the bytes at its offsets.
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  // No duplicate keys in an accepted file, so JSON.parse reads its header the same way.
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
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

const arbTensor = fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.boolean(), fc.integer()).map(([shape, f64, seed]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((seed + i * 7919) % 1000) / 7;
  return new Tensor(data, shape);
});
const arbName = fc.string({ maxLength: 6 }).filter((s) => s !== '__metadata__');
const arbFile = fc
  .tuple(
    fc.dictionary(arbName, arbTensor, { minKeys: 1, maxKeys: 4 }),
    fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }), { nil: undefined }),
  )
  .map(([tensors, metadata]) => encodeSafetensors(tensors, metadata));

const SCALE = process.env.ELBO_SLOW ? 10 : 1;
const options = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: numRuns * SCALE, seed: SEED });

describe('decodeSafetensors under fuzzing', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void check(bytes)),
      options(1000),
    );
  });

  it('random bytes after a plausible header length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 }), (n, rest) => void check(Uint8Array.from([...u64(n), ...rest]))),
      options(1000),
    );
  });

  it('valid files decode correctly', () => {
    fc.assert(
      fc.property(arbFile, (bytes) => {
        expect(check(bytes)).toBe('ok');
      }),
      options(300),
    );
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
      fc.constant(Number.MAX_SAFE_INTEGER),
      fc.constant(2 ** 64),
      fc.constant(-0),
      fc.constant(1.5),
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

/** A file from a header text (spaces up to a multiple of 8 when `pad`) and the data bytes. */
function fileOf(header: string, data: Uint8Array | number[], pad = true): Uint8Array {
  const text = new TextEncoder().encode(header);
  const n = pad ? Math.ceil(text.length / 8) * 8 : text.length;
  return Uint8Array.from([...u64(n), ...text, ...new Array<number>(n - text.length).fill(0x20), ...data]);
}

/** The header text and data section of a file written by encodeSafetensors. */
function split(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { header: new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd(), data: bytes.subarray(8 + n) };
}

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('decodeSafetensors against the reference rules, on headers edited as text', () => {
  /** Edits that the reference accepts or rejects for reasons JSON.parse does not see. */
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('space before' as const), ws: fc.constantFrom(' ', '\n', '\t', '\r\n', '   ') }),
    fc.record({
      kind: fc.constant('integer' as const),
      at: fc.nat(),
      form: fc.constantFrom('%.0', '%e0', '%E+0', '-%', '-0', '0%', '%.5', '18446744073709551616', '18446744073709551615', '9007199254740993', '1e400'),
    }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), where: fc.constantFrom('tensor', 'field', 'metadata', 'metadata key') }),
    fc.record({
      kind: fc.constant('escape' as const),
      at: fc.nat(),
      escape: fc.constantFrom('\\ud800', '\\udc00', '\\ud83d\\ude00', '\\ud83d', '\\ud83dx', '\\u0041', '\\u00', '\\x41', '\\/'),
    }),
    fc.record({
      kind: fc.constant('nesting' as const),
      at: fc.nat(),
      depth: fc.constantFrom(1, 2, 100, 125, 126, 127, 128, 5000),
      into: fc.constantFrom('extra', 'shape'),
    }),
    fc.record({
      kind: fc.constant('extra number' as const),
      at: fc.nat(),
      value: fc.constantFrom('1e400', '-1e400', '1e308', '-0', '0.5', '123456789012345678901234567890'),
    }),
  );
  type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

  /** `header` with the edit `e` made; `names` are the tensor names of the unedited header. */
  function apply(header: string, e: Edit, names: string[]): string {
    const pick = <T>(list: T[], at: number): T | undefined => list[at % Math.max(1, list.length)];
    const entry = (name: string | undefined): RegExp | undefined =>
      name === undefined ? undefined : new RegExp(`${escapeRegExp(JSON.stringify(name))}:\\{[^{}]*\\}`);
    switch (e.kind) {
      case 'space before':
        return e.ws + header;
      case 'integer': {
        const spots = [...header.matchAll(/(?<=[[,])\d+(?=[\],])/g)];
        const spot = pick(spots, e.at);
        if (!spot) return header;
        const replaced = e.form.replace('%', spot[0]);
        return header.slice(0, spot.index) + replaced + header.slice(spot.index! + spot[0].length);
      }
      case 'duplicate': {
        if (e.where === 'metadata') return header.replace(/}$/, ',"__metadata__":{"likelihood":"gaussian","sigma":"0.001"}}');
        if (e.where === 'metadata key') return header.replace('"__metadata__":{', '"__metadata__":{"k":"a","k":"b",');
        const match = entry(pick(names, e.at)) && header.match(entry(pick(names, e.at))!);
        if (!match) return header;
        if (e.where === 'tensor') return header.replace(/}$/, `,${match[0]}}`);
        return header.replace(match[0], match[0].replace('"dtype":', '"dtype":"F16","dtype":'));
      }
      case 'escape': {
        const name = pick(names, e.at);
        if (name === undefined) return header;
        const quoted = JSON.stringify(name);
        return header.replace(`${quoted}:`, `${quoted.slice(0, -1)}${e.escape}":`);
      }
      case 'nesting': {
        const match = entry(pick(names, e.at)) && header.match(entry(pick(names, e.at))!);
        if (!match) return header;
        const changed =
          e.into === 'extra' ? match[0].replace(/}$/, `,"extra":${nested(e.depth)}}`) : match[0].replace(/"shape":\[[^\]]*\]/, `"shape":${nested(e.depth)}`);
        return header.replace(match[0], changed);
      }
      case 'extra number': {
        const match = entry(pick(names, e.at)) && header.match(entry(pick(names, e.at))!);
        return match ? header.replace(match[0], match[0].replace(/}$/, `,"extra":${e.value}}`)) : header;
      }
    }
  }

  it('accepts exactly what the reference accepts (dtypes elbo does not read aside)', () => {
    const outcomes = { ok: 0, error: 0 };
    fc.assert(
      fc.property(arbFile, fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), (bytes, edits, pad) => {
        const { header, data } = split(bytes);
        const names = Object.keys(JSON.parse(header) as object).filter((k) => k !== '__metadata__');
        outcomes[
          check(
            fileOf(
              edits.reduce((text, e) => apply(text, e, names), header),
              data,
              pad,
            ),
          )
        ]++;
      }),
      options(2000),
    );
    // both sides of the line are exercised: valid edits load, invalid ones are refused
    expect(outcomes.ok).toBeGreaterThan(100 * SCALE);
    expect(outcomes.error).toBeGreaterThan(500 * SCALE);
  });

  // The cases of issue 14, each as the adversarial pass found it.
  const f32 = '"dtype":"F32","shape":[1],"data_offsets":[0,4]';
  const fixtures: Array<[string, Uint8Array, 'accept' | RegExp]> = [
    [
      'a shape nested 5,000 deep (was a RangeError)',
      fileOf(`{"x":{"dtype":"F32","shape":${nested(5000)},"data_offsets":[0,4]}}`, [0, 0, 0, 0]),
      /nesting deeper than 127 levels/,
    ],
    [
      'a second __metadata__ (was: last one wins)',
      fileOf(`{"__metadata__":{"likelihood":"bernoulli"},"x":{${f32}},"__metadata__":{"likelihood":"gaussian","sigma":"0.001"}}`, [0, 0, 0, 0]),
      /duplicate key "__metadata__"/,
    ],
    ['a tensor named twice', fileOf(`{"x":{${f32}},"x":{${f32}}}`, [0, 0, 0, 0]), /duplicate key "x"/],
    ['a field named twice', fileOf(`{"x":{"dtype":"F64",${f32}}}`, [0, 0, 0, 0]), /duplicate key "dtype"/],
    ['a metadata key twice', fileOf(`{"__metadata__":{"a":"1","a":"2"},"x":{${f32}}}`, [0, 0, 0, 0]), /duplicate key "a"/],
    ['a lone high surrogate', fileOf(`{"x\\ud800":{${f32}}}`, [0, 0, 0, 0]), /lone high surrogate/],
    ['a lone low surrogate', fileOf(`{"__metadata__":{"k":"\\udc00"},"x":{${f32}}}`, [0, 0, 0, 0]), /lone low surrogate/],
    [
      'an offset written 4.0',
      fileOf('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', [0, 0, 0, 0]),
      /data_offsets must be two non-negative integers/,
    ],
    [
      'an offset written 4e0',
      fileOf('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', [0, 0, 0, 0]),
      /data_offsets must be two non-negative integers/,
    ],
    ['an offset written -0', fileOf('{"x":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}', [0, 0, 0, 0]), /data_offsets must be two non-negative integers/],
    ['a size written 1.0', fileOf('{"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /shape must be an array of non-negative integers/],
    ['whitespace before { (valid)', fileOf(` \n\t{"x":{${f32}}}`, [0, 0, 0x80, 0x3f]), 'accept'],
    ['an unpadded header with a surrogate pair (valid)', fileOf(`{"x\\ud83d\\ude00":{${f32}}}`, [0, 0, 0x80, 0x3f], false), 'accept'],
  ];

  it.each(fixtures)('%s', (_, bytes, expected) => {
    if (expected === 'accept') {
      expect(referenceVerdict(bytes)).toBe('accept');
      expect(check(bytes)).toBe('ok');
      return;
    }
    expect(referenceVerdict(bytes)).toBe('reject');
    expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(bytes)).toThrow(expected);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
