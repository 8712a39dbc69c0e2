import { noGrad } from '../autograd/engine.js';
import { batches, batchTensor, type Binarization } from '../data/batches.js';
import { type Dataset, subset } from '../data/dataset.js';
import { scratchScope } from '../tensor/device.js';
import { Generator } from '../tensor/random.js';
import { elbo } from './elbo.js';
import { iwae } from './iwae.js';
import { oneHot, type VAE } from './model.js';

/** Mean per-example terms over a data set, in nats. */
export interface Evaluation {
  /** Mean one-sample ELBO estimate. */
  elbo: number;
  /** Mean ln p(x|z) at one draw. */
  reconstruction: number;
  /** Mean KL(q(z|x) || p(z)). */
  kl: number;
  /** Mean IWAE_k bound, when k was asked for. */
  iwae?: number;
  k?: number;
  /** Number of examples. */
  n: number;
}

/** How {@link evaluate} scores a data set. */
export interface EvaluateOptions {
  batchSize?: number;
  /** Importance samples for the IWAE bound (0 or absent: skip it). */
  iwaeK?: number;
  /** Seed of the evaluation noise, so the same model gives the same numbers. */
  seed?: number;
  binarize?: Binarization;
  /**
   * Evaluate `limit` examples only, evenly spread over the set (indices ⌊i·n/limit⌋), so a
   * subset of a set sorted by label (like the bundled MNIST) still covers every class.
   */
  limit?: number;
  /** Called after each batch with the examples done so far and their total (for progress bars). */
  onBatch?(done: number, total: number): void;
}

/**
 * The ELBO, its two terms and optionally the IWAE bound, averaged over `data`, without gradients.
 * A conditional model is scored on each image's own label: ln p(x|y) bounded, y from `data.labels`.
 */
export function evaluate(model: VAE, data: Dataset, options: EvaluateOptions = {}): Evaluation {
  const rng = new Generator(options.seed ?? 0);
  const batchSize = options.batchSize ?? 500;
  const n = Math.min(data.n, options.limit ?? data.n);
  const view: Dataset = n === data.n ? data : subset(data, spreadIndices(data.n, n));
  const totals = { elbo: 0, reconstruction: 0, kl: 0, iwae: 0 };
  const k = options.iwaeK ?? 0;
  let done = 0;
  noGrad(() => {
    const add = (key: 'elbo' | 'reconstruction' | 'kl' | 'iwae', values: ArrayLike<number>): void => {
      for (let i = 0; i < values.length; i++) totals[key] += values[i]!;
    };
    for (const batch of batches(view, { batchSize, binarize: options.binarize ?? 'none', rng, dtype: model.config.dtype })) {
      const x = batchTensor(batch);
      const classes = model.config.classes;
      const scored = classes > 0 ? model.given(oneHot(batch.labels, classes, model.config.dtype)) : model;
      // The batch's activations live in the backend's scratch memory; only the sums are kept.
      scratchScope(model.config.dtype, () => {
        const result = elbo(scored, x, { rng });
        add('elbo', result.elbo.data);
        add('reconstruction', result.reconstruction.data);
        add('kl', result.kl.data);
      });
      if (k > 0) add('iwae', iwae(scored, x, k, { rng }).data);
      done += x.shape[0]!;
      options.onBatch?.(done, n);
    }
  });
  const out: Evaluation = { elbo: totals.elbo / n, reconstruction: totals.reconstruction / n, kl: totals.kl / n, n };
  if (k > 0) Object.assign(out, { iwae: totals.iwae / n, k });
  return out;
}

/** `count` indices evenly spread over 0..n−1: ⌊i·n/count⌋ for i < count. */
export function spreadIndices(n: number, count: number): number[] {
  return Array.from({ length: Math.min(n, count) }, (_, i) => Math.floor((i * n) / Math.min(n, count)));
}
