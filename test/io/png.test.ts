import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, decodePng, encodePng, PNG_SIGNATURE, PngError, type PngImage, writePng } from '../../src/io/png.js';
import { SEED } from '../helpers.js';

interface Chunk {
  type: string;
  data: Uint8Array;
  crc: number;
  start: number;
}

/** The chunks of a PNG, read independently of the decoder under test. */
function chunks(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    out.push({
      type: Buffer.from(bytes.subarray(at + 4, at + 8)).toString('latin1'),
      data: bytes.subarray(at + 8, at + 8 + length),
      crc: view.getUint32(at + 8 + length),
      start: at,
    });
    at += 12 + length;
  }
  return out;
}

const arbImage: fc.Arbitrary<PngImage> = fc
  .record({ width: fc.integer({ min: 1, max: 9 }), height: fc.integer({ min: 1, max: 9 }), channels: fc.constantFrom(1 as const, 3 as const) })
  .chain(({ width, height, channels }) =>
    fc.uint8Array({ minLength: width * height * channels, maxLength: width * height * channels }).map((data) => ({ width, height, channels, data })),
  );

describe('PNG encoder', () => {
  it('computes the standard CRC-32 (check value of "123456789" is 0xcbf43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes the signature, then IHDR, IDAT, IEND with valid CRCs and the right header fields', () => {
    const png = encodePng({ width: 3, height: 2, channels: 3, data: new Uint8Array(18).fill(200) });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of cs) expect(crc32(png.subarray(c.start + 4, c.start + 8 + c.data.length))).toBe(c.crc);
    const ihdr = new DataView(cs[0]!.data.buffer, cs[0]!.data.byteOffset, 13);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), ...cs[0]!.data.subarray(8)]).toEqual([3, 2, 8, 2, 0, 0, 0]); // 8-bit RGB
    expect(cs[0]!.data[9]).toBe(2);
    expect(chunks(encodePng({ width: 1, height: 1, channels: 1, data: Uint8Array.of(7) }))[0]!.data[9]).toBe(0); // gray
  });

  it('stores the pixels: inflated IDAT is each row prefixed by filter byte 0', () => {
    fc.assert(
      fc.property(arbImage, (image) => {
        const idat = chunks(encodePng(image)).find((c) => c.type === 'IDAT')!;
        const raw = new Uint8Array(inflateSync(idat.data));
        const stride = image.width * image.channels;
        expect(raw.length).toBe(image.height * (stride + 1));
        for (let y = 0; y < image.height; y++) {
          expect(raw[y * (stride + 1)]).toBe(0);
          expect(Array.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)))).toEqual(Array.from(image.data.subarray(y * stride, (y + 1) * stride)));
        }
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  it('round-trips through decodePng', () => {
    fc.assert(
      fc.property(arbImage, (image) => {
        const back = decodePng(encodePng(image));
        expect({ ...back, data: Array.from(back.data) }).toEqual({ ...image, data: Array.from(image.data) });
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  it('decodePng detects a corrupted chunk', () => {
    const png = encodePng({ width: 2, height: 2, channels: 1, data: Uint8Array.of(1, 2, 3, 4) });
    png[20]! ^= 1; // inside IHDR
    expect(() => decodePng(png)).toThrow('decodePng: bad CRC in IHDR chunk at byte 8');
    expect(() => decodePng(Uint8Array.of(1, 2, 3))).toThrow(PngError);
  });

  it('rejects images whose data does not fill width × height × channels', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow('encodePng: 11 bytes do not fill 2 × 2 × 3 (12 needed)');
    expect(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) })).toThrow(PngError);
  });

  it('writePng writes the file atomically into a new directory, leaving no temporary file', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'elbo-png-')), 'nested');
    const image: PngImage = { width: 4, height: 3, channels: 1, data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) };
    writePng(join(dir, 'a.png'), image);
    expect(readdirSync(dir)).toEqual(['a.png']);
    const bytes = new Uint8Array(readFileSync(join(dir, 'a.png')));
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(PNG_SIGNATURE));
    expect(Array.from(decodePng(bytes).data)).toEqual(Array.from(image.data));
  });
});
