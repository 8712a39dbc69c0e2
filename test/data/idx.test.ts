import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/dataset.js';
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from '../../src/data/idx.js';
import { loadIdxDataset } from '../../src/data/idx-file.js';
import { SEED } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'elbo-idx-'));
const write = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** 7 images of 4 × 3 with every byte value pattern, and their labels. */
const pixels = Uint8Array.from({ length: 7 * 4 * 3 }, (_, i) => (i * 37 + 11) % 256);
const labels = Uint8Array.of(3, 1, 4, 1, 5, 9, 2);
const imageFile = encodeIdx(pixels, [7, 4, 3]);
const labelFile = encodeIdx(labels, [7]);

describe('IDX files', () => {
  it('encodes the standard header: magic 0x00000803, big-endian sizes, then the bytes', () => {
    expect(Array.from(imageFile.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 3]);
    expect(Array.from(labelFile.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 0, 0, 7]);
    expect(imageFile.length).toBe(16 + 84);
  });

  for (const gz of [false, true]) {
    it(`round-trips images (scaled by 1/255) and labels through ${gz ? 'gzipped' : 'plain'} files`, () => {
      const wrap = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
      const suffix = gz ? '.gz' : '';
      const data = loadIdxDataset(write(`rt-images${suffix}`, wrap(imageFile)), write(`rt-labels${suffix}`, wrap(labelFile)), 'rt');
      expect([data.n, data.rows, data.cols, data.name]).toEqual([7, 4, 3, 'rt']);
      expect(Array.from(data.images)).toEqual(Array.from(pixels, (b) => Math.fround(b / 255)));
      expect(Array.from(data.labels)).toEqual(Array.from(labels));
    });
  }

  it('rejects a bad magic number, showing it in hex and naming the file', () => {
    const path = write('labels-as-images', labelFile);
    expect(() => loadIdxDataset(path, path)).toThrow(
      new DataError(`${path}: bad magic number 0x00000801 (expected 0x00000803: IDX images, unsigned bytes, 3 dimensions)`),
    );
    const junk = write('junk', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0));
    expect(() => loadIdxDataset(junk, path)).toThrow(/junk: bad magic number 0x504b0304/);
  });

  it('rejects a type code other than unsigned byte', () => {
    const floats = Uint8Array.from(imageFile);
    floats[2] = 0x0d;
    const path = write('floats', floats);
    expect(() => loadIdxDataset(path, write('l', labelFile))).toThrow(
      `${path}: unsupported IDX type code 0x0d (float32); only 0x08 (unsigned byte) is supported`,
    );
  });

  it('rejects truncated files, stating expected and actual bytes', () => {
    const path = write('short', imageFile.subarray(0, imageFile.length - 5));
    expect(() => loadIdxDataset(path, write('l', labelFile))).toThrow(`${path}: truncated: expected 100 bytes (16-byte header + 7 × 4 × 3), got 95`);
    const header = write('header', imageFile.subarray(0, 10));
    expect(() => loadIdxDataset(header, write('l', labelFile))).toThrow(`${header}: truncated: expected a 16-byte header, got 10 bytes`);
  });

  it('rejects trailing bytes, corrupt gzip and missing files', () => {
    const long = write('long', Uint8Array.from([...labelFile, 0, 0]));
    expect(() => parseIdx(readFileSync(long), long, IDX_LABELS_MAGIC)).toThrow(`${long}: 2 unexpected trailing bytes after 15 bytes (8-byte header + 7)`);
    const gz = gzipSync(labelFile).subarray(0, 12);
    expect(() => parseIdx(gz, 'cut.gz', IDX_LABELS_MAGIC)).toThrow(/^cut\.gz: not valid gzip/);
    expect(() => loadIdxDataset(join(dir, 'nope'), join(dir, 'nope'))).toThrow(`${join(dir, 'nope')}: cannot read (ENOENT)`);
  });

  it('refuses a FIFO or a folder instead of blocking on it', () => {
    const fifo = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => loadIdxDataset(fifo, fifo)).toThrow(new DataError(`${fifo} is a FIFO (named pipe), not a regular file; nothing was read`));
    expect(() => loadIdxDataset(dir, dir)).toThrow(`${dir} is a folder, not a regular file`);
  });

  it('rejects images and labels of different counts', () => {
    const images = write('i7', imageFile);
    const six = write('l6', encodeIdx(labels.subarray(0, 6), [6]));
    expect(() => loadIdxDataset(images, six)).toThrow(new DataError(`count mismatch: ${images} has 7 images but ${six} has 6 labels`));
  });
});

describe('IDX parser fuzz: any bytes give an array or a DataError, never another exception', () => {
  const onlyDataError = (bytes: Uint8Array, magic: number): void => {
    try {
      const { dims, data } = parseIdx(bytes, 'fuzz', magic);
      expect(data.length).toBe(dims.reduce((a, b) => a * b, 1));
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message).not.toContain('\n');
    }
  };
  const magic = fc.constantFrom(IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC);

  it('random bytes, plain and gzipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), magic, (bytes, gz, m) => onlyDataError(gz ? gzipSync(bytes) : bytes, m)),
      { numRuns: 500, seed: SEED },
    );
  });

  it('valid headers with random sizes and truncations', () => {
    const arb = fc.tuple(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 3, maxLength: 3 }), fc.uint8Array({ maxLength: 64 }), fc.nat(80));
    fc.assert(
      fc.property(arb, ([dims, body, cut]) => {
        const header = new Uint8Array(16);
        const view = new DataView(header.buffer);
        view.setUint32(0, IDX_IMAGES_MAGIC);
        dims.forEach((d, k) => view.setUint32(4 + 4 * k, d % 5 === 0 ? d : d % 4));
        onlyDataError(Uint8Array.from([...header, ...body]).subarray(0, cut), IDX_IMAGES_MAGIC);
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('every truncation of a valid file is reported as truncated', () => {
    fc.assert(
      fc.property(fc.nat(imageFile.length - 1), (cut) => {
        expect(() => parseIdx(imageFile.subarray(0, cut), 'cut', IDX_IMAGES_MAGIC)).toThrow(/^cut: truncated: expected/);
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});
