import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/tensor/create.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, SafetensorsError } from '../../src/io/safetensors.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors-file.js';
import { RUNS, SEED } from '../helpers.js';

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const u64 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0]; // n < 2³²

/** A file from a header text (padded with spaces to a multiple of 8 unless `pad` is false) and data bytes. */
function file(header: string, data: number[] = [], pad = true): Uint8Array {
  const text = pad ? header.padEnd(Math.ceil(header.length / 8) * 8, ' ') : header;
  const head = new TextEncoder().encode(text);
  return Uint8Array.from([...u64(head.length), ...head, ...data]);
}

const bytesOf = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('safetensors byte layout', () => {
  it('writes a tiny file byte for byte as the format describes', () => {
    const bytes = encodeSafetensors({ b: tensor([1, -2]), a: tensor(0.5, { dtype: 'float64' }) }, { k: 'v' });
    // F64 before F32 (decreasing alignment), then by name; __metadata__ first; compact JSON
    const header = '{"__metadata__":{"k":"v"},"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
    expect(header.length).toBe(132); // padded with 4 spaces to 136
    const expected = [
      136,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // N = 136, u64 little-endian
      ...ascii(header),
      0x20,
      0x20,
      0x20,
      0x20, // the header, then spaces up to a multiple of 8
      0,
      0,
      0,
      0,
      0,
      0,
      0xe0,
      0x3f, // a = 0.5 as float64 LE (0x3FE0000000000000)
      0,
      0,
      0x80,
      0x3f, // b[0] = 1 as float32 LE (0x3F800000)
      0,
      0,
      0,
      0xc0, // b[1] = −2 as float32 LE (0xC0000000)
    ];
    expect([...bytes]).toEqual(expected);
    expect(bytes.length).toBe(8 + 136 + 16);
  });

  it('matches the reference implementation’s serialization of its own test tensors', () => {
    // From huggingface/safetensors' Rust tests: "attn0", F32, shape [1, 1, 2, 3], values 0..5,
    // serializes to N = 72 (a 65-byte header and 7 spaces) followed by the 24 data bytes.
    const attn0 = tensor([0, 1, 2, 3, 4, 5], { shape: [1, 1, 2, 3] });
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const floats = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
    expect([...encodeSafetensors({ attn0 })]).toEqual([72, 0, 0, 0, 0, 0, 0, 0, ...ascii(header), ...Array(7).fill(32), ...floats]);
    // and the empty file, with and without metadata
    expect([...encodeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...encodeSafetensors({}, { framework: 'pt' })]).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...ascii('{"__metadata__":{"framework":"pt"}}'),
      32,
      32,
      32,
      32,
      32,
    ]);
  });

  it('reads files whose tensors are listed in any order, with unpadded headers', () => {
    const { tensors, metadata } = decodeSafetensors(
      file(
        '{"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"x":{"shape":[1],"dtype":"F32","data_offsets":[0,4]}}',
        [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40],
        false,
      ),
    );
    expect(tensors.x!.toArray()).toEqual([1]);
    expect(tensors.y!.toArray()).toEqual([2]);
    expect(metadata).toEqual({});
  });
});

describe('safetensors round trip', () => {
  const arbShape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });
  const arbTensor = fc.tuple(arbShape, fc.constantFrom('float32', 'float64' as const), fc.infiniteStream(fc.double())).map(([shape, dtype, values]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    const it = values[Symbol.iterator]();
    for (let i = 0; i < n; i++) data[i] = it.next().value as number;
    return new Tensor(data, shape);
  });
  const arbName = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s !== '__metadata__');

  it('decode(encode(x)) gives back every tensor bit for bit, and the metadata', () => {
    fc.assert(
      fc.property(
        fc.dictionary(arbName, arbTensor, { maxKeys: 5 }),
        fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), { nil: undefined }),
        (tensors, metadata) => {
          const bytes = encodeSafetensors(tensors, metadata);
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(n % 8).toBe(0);
          const out = decodeSafetensors(bytes);
          expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [name, t] of Object.entries(tensors)) {
            const back = out.tensors[name]!;
            expect(back.shape).toEqual(t.shape);
            expect(back.dtype).toBe(t.dtype);
            expect(bytesOf(back)).toEqual(bytesOf(t));
          }
          expect(out.metadata).toEqual(metadata ?? {});
          // every tensor starts at a file offset that is a multiple of its element size
          const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
          for (const [name, info] of Object.entries(header)) {
            if (name !== '__metadata__') expect((8 + n + info.data_offsets[0]) % (info.dtype === 'F64' ? 8 : 4)).toBe(0);
          }
        },
      ),
      { numRuns: Math.max(100, RUNS), seed: SEED },
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'elbo-safetensors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves atomically and loads from a path', () => {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old contents');
    saveSafetensors(
      path,
      {
        w: tensor([
          [1, 2],
          [3, 4],
        ]),
      },
      { step: '3' },
    );
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temporary file left behind
    const { tensors, metadata } = loadSafetensors(path);
    expect(tensors.w!.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(metadata).toEqual({ step: '3' });
    expect([...readFileSync(path)]).toEqual([
      ...encodeSafetensors(
        {
          w: tensor([
            [1, 2],
            [3, 4],
          ]),
        },
        { step: '3' },
      ),
    ]);
    expect(() => saveSafetensors(join(dir, 'missing', 'x.safetensors'), {})).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('refuses what it cannot write', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow('safetensors: "__metadata__" is reserved and cannot name a tensor');
    expect(() => encodeSafetensors({ x: [1] as unknown as Tensor })).toThrow('safetensors: tensor "x": value is not a Tensor');
    expect(() => encodeSafetensors({}, { n: 1 as unknown as string })).toThrow('safetensors: __metadata__ value for "n" is number, expected a string');
  });
});

describe('safetensors validation', () => {
  const f32 = (name: string, shape: string, offsets: string) => `"${name}":{"dtype":"F32","shape":${shape},"data_offsets":${offsets}}`;
  const cases: Array<[string, Uint8Array, string]> = [
    ['a file shorter than 8 bytes', Uint8Array.from([1, 2, 3]), 'file is 3 bytes, too short for the 8-byte header length'],
    ['a header length over 2³²', Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 123, 125]), 'header length 4294967296 is over the 100000000-byte limit'],
    ['a header length over 100 MB', Uint8Array.from([...u64(MAX_HEADER_BYTES + 1), 123, 125]), 'header length 100000001 is over the 100000000-byte limit'],
    [
      'a header length past the end',
      Uint8Array.from([...u64(100), ...ascii('{}        ')]),
      'header length 100 runs past the end of the file (10 bytes after the length)',
    ],
    ['a header that is not UTF-8', Uint8Array.from([...u64(2), 0xff, 0xfe]), 'header is not valid UTF-8'],
    ['a header that is not an object', file('[1, 2]'), 'header must be a JSON object, got an array'],
    ['a header that is not JSON', file('{"a": '), 'header is not valid JSON'],
    [
      'an unsupported dtype',
      file('{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', Array(8).fill(0)),
      'tensor "x": unsupported dtype "I64" (only F32 and F64 are supported)',
    ],
    [
      'a dtype that is not a string',
      file('{"x":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', Array(4).fill(0)),
      'tensor "x": dtype must be a string, got a number',
    ],
    ['a tensor entry that is not an object', file('{"x":[1]}'), 'tensor "x": expected an object with dtype, shape and data_offsets, got an array'],
    ['a negative size', file(`{${f32('x', '[-1]', '[0,0]')}}`), 'tensor "x": shape must be an array of non-negative integers (digits only), got [-1]'],
    [
      'a fractional size',
      file(`{${f32('x', '[1.5]', '[0,4]')}}`, Array(4).fill(0)),
      'tensor "x": shape must be an array of non-negative integers (digits only), got [1.5]',
    ],
    [
      'missing data_offsets',
      file('{"x":{"dtype":"F32","shape":[1]}}', Array(4).fill(0)),
      'tensor "x": data_offsets must be two non-negative integers [begin, end] (digits only), got nothing',
    ],
    ['offsets that end before they begin', file(`{${f32('x', '[0]', '[4,0]')}}`, Array(4).fill(0)), 'tensor "x": data_offsets [4, 0] end before they begin'],
    ['offsets past the data', file(`{${f32('x', '[2]', '[0,8]')}}`, Array(4).fill(0)), 'tensor "x": data_offsets [0, 8] run past the data section (4 bytes)'],
    [
      'a byte count that is not numel × 4',
      file(`{${f32('x', '[3]', '[0,8]')}}`, Array(8).fill(0)),
      'tensor "x": F32 [3] needs 12 bytes, but data_offsets [0, 8] hold 8',
    ],
    [
      'overlapping tensors',
      file(`{${f32('x', '[2]', '[0,8]')},${f32('y', '[1]', '[4,8]')}}`, Array(8).fill(0)),
      'tensor "y": data_offsets [4, 8] overlap the previous tensor (expected it to begin at 8)',
    ],
    [
      'a gap between tensors',
      file(`{${f32('x', '[1]', '[0,4]')},${f32('y', '[1]', '[8,12]')}}`, Array(12).fill(0)),
      'tensor "y": data_offsets [8, 12] leave a gap (expected it to begin at 4)',
    ],
    ['data not covered by any tensor', file(`{${f32('x', '[1]', '[0,4]')}}`, Array(8).fill(0)), 'the tensors cover 4 bytes of the 8-byte data section'],
    ['a metadata value that is not a string', file('{"__metadata__":{"n":1}}'), '__metadata__ value for "n" is a number, expected a string'],
    ['metadata that is not an object', file('{"__metadata__":["a"]}'), '__metadata__ must be an object of strings, got an array'],
    [
      'a size product too large',
      file(`{${f32('x', '[4294967296,4294967296]', '[0,4]')}}`, Array(4).fill(0)),
      'tensor "x": F32 [4294967296, 4294967296] needs too many bytes, but data_offsets [0, 4] hold 4',
    ],
  ];

  it.each(cases)('rejects %s with a one-line SafetensorsError', (_, bytes, message) => {
    let error: unknown;
    try {
      decodeSafetensors(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toContain(`safetensors: ${message}`);
    expect((error as Error).message).not.toContain('\n');
  });
});
