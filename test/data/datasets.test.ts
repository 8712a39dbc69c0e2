import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/dataset.js';
import { FASHION_MNIST_CLASSES, loadDataset } from '../../src/data/datasets.js';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';
import { FASHION_MNIST, has } from '../system.js';

/** A directory with the four standard IDX files: train 6 images, test 2 (train gzipped, test plain, test with the '.idx' spelling). */
function idxDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'elbo-ds-'));
  const img = (n: number): Uint8Array =>
    encodeIdx(
      Uint8Array.from({ length: n * 4 }, (_, i) => i % 256),
      [n, 2, 2],
    );
  const lab = (n: number): Uint8Array =>
    encodeIdx(
      Uint8Array.from({ length: n }, (_, i) => i % 10),
      [n],
    );
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(img(6)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(lab(6)));
  writeFileSync(join(dir, 't10k-images.idx3-ubyte'), img(2));
  writeFileSync(join(dir, 't10k-labels.idx1-ubyte'), lab(2));
  return dir;
}

describe('loadDataset', () => {
  it("'mnist' is the embedded, cached data set", () => {
    expect(loadDataset('mnist')).toBe(loadMnist());
  });

  it('reads a directory of the four standard IDX files (gz or not), by path or { dir }', () => {
    const dir = idxDir();
    for (const data of [loadDataset(dir), loadDataset({ dir, name: 'tiny' })]) {
      expect([data.train.n, data.test.n, data.train.rows, data.train.cols]).toEqual([6, 2, 2, 2]);
      expect(Array.from(data.train.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    }
    expect(loadDataset({ dir, name: 'tiny' }).test.name).toBe('tiny/test');
  });

  it('reads explicit { train, test } IDX paths', () => {
    const dir = idxDir();
    const pair = (split: string, sep: string, gz: string): { images: string; labels: string } => ({
      images: join(dir, `${split}-images${sep}idx3-ubyte${gz}`),
      labels: join(dir, `${split}-labels${sep}idx1-ubyte${gz}`),
    });
    const data = loadDataset({ train: pair('train', '-', '.gz'), test: pair('t10k', '.', ''), name: 'x' });
    expect([data.train.n, data.test.n, data.train.name]).toEqual([6, 2, 'x/train']);
  });

  it('names the missing files of an incomplete directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-empty-'));
    expect(() => loadDataset(dir)).toThrow(
      new DataError(
        `${dir}: missing IDX files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]`,
      ),
    );
  });

  it('lists the choices for an unknown name', () => {
    expect(() => loadDataset('cifar')).toThrow(DataError);
    expect(() => loadDataset('cifar')).toThrow(/^unknown data set "cifar": choose 'mnist', 'fashion-mnist', a directory holding the four IDX files/);
  });

  // .ci/run installs Debian's dataset-fashion-mnist, so this runs in CI; elsewhere it skips, saying so.
  it.skipIf(!has(FASHION_MNIST, "'fashion-mnist' reads Debian's files"))(
    "'fashion-mnist' reads Debian's dataset-fashion-mnist: 60,000 / 10,000 images in [0, 1]",
    () => {
      const { train, test } = loadDataset('fashion-mnist');
      expect([train.n, test.n, train.rows, train.cols]).toEqual([60000, 10000, 28, 28]);
      expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
      expect(train.classes).toBe(FASHION_MNIST_CLASSES);
      let [lo, hi] = [Infinity, -Infinity];
      for (const v of test.images) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      expect([lo, hi]).toEqual([0, 1]);
    },
  );

  it("'fashion-mnist' says how to install it when missing", () => {
    const saved = process.env.ELBO_FASHION_MNIST_DIR;
    process.env.ELBO_FASHION_MNIST_DIR = '/nonexistent/fashion-mnist';
    try {
      expect(() => loadDataset('fashion-mnist')).toThrow(
        'fashion-mnist: not installed (no /nonexistent/fashion-mnist); run `apt-get install dataset-fashion-mnist`',
      );
    } finally {
      if (saved === undefined) delete process.env.ELBO_FASHION_MNIST_DIR;
      else process.env.ELBO_FASHION_MNIST_DIR = saved;
    }
  });
});
