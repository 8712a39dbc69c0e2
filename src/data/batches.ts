import { tensor } from '../tensor/create.js';
import { assertDType, type DType } from '../tensor/dtype.js';
import { defaultGenerator, Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataError, type Dataset, imageSize } from './dataset.js';

/**
 * How pixels in [0, 1] become the {0, 1} values a Bernoulli decoder models.
 * - `'none'`: pixels as they are (for continuous likelihoods, or the continuous-Bernoulli trick).
 * - `'static'`: a fixed threshold, x > 0.5 → 1 else 0, the same every epoch (as is common in
 *   PyTorch VAE code). For the Larochelle & Murray style "one fixed random draw", use
 *   {@link binarizeSampled} once on the data set instead.
 * - `'dynamic'`: a fresh draw b ~ Bernoulli(x) per pixel for every batch (Salakhutdinov & Murray;
 *   the IWAE paper's setting), from the batch iterator's generator.
 */
export type Binarization = 'none' | 'static' | 'dynamic';

/** The threshold of static binarization: x > 0.5 becomes 1. */
export const STATIC_THRESHOLD = 0.5;

/** One mini-batch: `size` images, row-major, `dim` pixels each. */
export interface Batch {
  /** size × dim pixels, row-major (a fresh array; yours to keep). */
  readonly x: Float32Array | Float64Array;
  readonly labels: Uint8Array;
  /** Images in this batch: batchSize, except possibly the last. */
  readonly size: number;
  /** Pixels per image (rows × cols). */
  readonly dim: number;
  /** The data-set index of each image in the batch. */
  readonly indices: Uint32Array;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  batchSize: number;
  /** Visit the images in a fresh random order (one permutation per call). Default false. */
  shuffle?: boolean;
  /** Default `'none'`. See {@link Binarization}. */
  binarize?: Binarization;
  /** The element type of `x`; default float32. */
  dtype?: DType;
  /** The source of the permutation and the dynamic draws; the default generator when omitted. */
  rng?: Generator;
  /** Drop a last batch smaller than batchSize. Default false: the last partial batch is kept. */
  dropLast?: boolean;
}

/** A random order of 0..n-1 drawn from `rng` (Fisher-Yates via `rng.permutation`). */
export function shuffledIndices(n: number, rng: Generator = defaultGenerator): Uint32Array {
  return Uint32Array.from(rng.permutation(n));
}

/** The number of batches one pass over n images yields. */
export function numBatches(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** A copy of the data set with every pixel set to 1 when x > threshold, else 0. */
export function binarizeStatic(data: Dataset, threshold = STATIC_THRESHOLD): Dataset {
  const images = data.images.map((x) => (x > threshold ? 1 : 0));
  return { ...data, images, name: `${data.name} (x > ${threshold})` };
}

/**
 * A copy of the data set with each pixel replaced by one draw b ~ Bernoulli(x): b = 1 when
 * u < x, u uniform in [0, 1) from `rng`, drawn pixel by pixel in row-major order. Done once, this
 * is the fixed ("static, sampled") binarization of Larochelle & Murray (2011).
 */
export function binarizeSampled(data: Dataset, rng: Generator = defaultGenerator): Dataset {
  const images = new Float32Array(data.images.length);
  bernoulliInto(data.images, images, rng);
  return { ...data, images, name: `${data.name} (Bernoulli sample)` };
}

/**
 * The seed of the one fixed Bernoulli draw of a test set that every dynamically binarized run is
 * scored on (see {@link sampledTestSet}). A constant, not the run's seed, so that every run and
 * every command (train, eval, baselines, the PyTorch peer) scores the very same binary digits.
 */
export const SAMPLED_TEST_SEED = 0;

/**
 * The standard test protocol for dynamically binarized data: the test set binarized ONCE,
 * b ~ Bernoulli(x), from `new Generator(SAMPLED_TEST_SEED)`, pixel by pixel in row-major order
 * over the whole set ({@link binarizeSampled}). Its values are a density's data, so ELBO, IWAE
 * and ln p(x) on it are in nats; thresholding at 0.5 instead ({@link binarizeStatic}) gives
 * easier digits and bounds ~12 nats higher.
 */
export function sampledTestSet(test: Dataset): Dataset {
  const sampled = binarizeSampled(test, new Generator(SAMPLED_TEST_SEED));
  return { ...sampled, name: `${test.name} (Bernoulli sample, seed ${SAMPLED_TEST_SEED})` };
}

/** out[i] = 1 when u < p[i] else 0, with u = rng.uniform() drawn for each i in order. */
export function bernoulliInto(p: ArrayLike<number>, out: Float32Array | Float64Array, rng: Generator): void {
  for (let i = 0; i < p.length; i++) out[i] = rng.uniform() < p[i]! ? 1 : 0;
}

/**
 * Mini-batches over a data set. Deterministic given the generator's state: the permutation (when
 * `shuffle`) is drawn from `rng` when this function is called; then, when `binarize` is
 * `'dynamic'`, each batch draws its pixels' uniforms in row-major order as it is produced. The
 * last batch holds the remaining n mod batchSize images unless `dropLast`.
 *
 * @example
 * const rng = new Generator(1);
 * for (const batch of batches(train, { batchSize: 100, shuffle: true, binarize: 'dynamic', rng })) {
 *   const x = batchTensor(batch); // [100, 784]
 * }
 */
export function batches(data: Dataset, options: BatchOptions): IterableIterator<Batch> {
  const { batchSize, shuffle = false, binarize = 'none', dropLast = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError(`batches: batchSize must be a positive integer, got ${batchSize}`);
  if (binarize !== 'none' && binarize !== 'static' && binarize !== 'dynamic') {
    throw new DataError(`batches: unknown binarize ${JSON.stringify(binarize)} (expected 'none', 'static' or 'dynamic')`);
  }
  const dtype = assertDType('batches', options.dtype ?? 'float32');
  const rng = options.rng ?? defaultGenerator;
  const order = shuffle ? shuffledIndices(data.n, rng) : Uint32Array.from({ length: data.n }, (_, i) => i);
  const dim = imageSize(data);
  const count = numBatches(data.n, batchSize, dropLast);
  function* generate(): IterableIterator<Batch> {
    for (let b = 0; b < count; b++) {
      const indices = order.slice(b * batchSize, Math.min((b + 1) * batchSize, data.n));
      const size = indices.length;
      const x = dtype === 'float64' ? new Float64Array(size * dim) : new Float32Array(size * dim);
      const labels = new Uint8Array(size);
      indices.forEach((i, k) => {
        x.set(data.images.subarray(i * dim, (i + 1) * dim), k * dim);
        labels[k] = data.labels[i]!;
      });
      if (binarize === 'static') for (let j = 0; j < x.length; j++) x[j] = x[j]! > STATIC_THRESHOLD ? 1 : 0;
      else if (binarize === 'dynamic') bernoulliInto(x, x, rng);
      yield { x, labels, size, dim, indices };
    }
  }
  return generate();
}

/** The batch's pixels as a tensor of shape [size, dim] (copied; dtype defaults to the batch's). */
export function batchTensor(batch: Batch, options: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  return tensor(batch.x, { shape: [batch.size, batch.dim], ...options });
}

/** A whole data set as one tensor of shape [n, rows × cols] (e.g. for evaluation). */
export function datasetTensor(data: Dataset, options: { dtype?: DType } = {}): Tensor {
  return tensor(data.images, { shape: [data.n, imageSize(data)], ...options });
}
