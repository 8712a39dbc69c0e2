import { noGrad } from '../autograd/engine.js';
import { scratchScope } from '../tensor/device.js';
import { add, concat, exp, logSumExp, mul, reshape, sub } from '../autograd/ops.js';
import { randn } from '../tensor/create.js';
import type { Generator } from '../tensor/random.js';
import { fmt, ShapeError } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { logNormal, logStandardNormal } from './likelihoods.js';
import type { LatentVariableModel } from './model.js';

/** Options of {@link iwae}. */
export interface IwaeOptions {
  /** Draws per chunk (default: enough for about 2 million decoded values per chunk). */
  chunkSize?: number;
  rng?: Generator;
  /** Fixed noise, [k, batch, latentDim] (tests). */
  eps?: Tensor;
}

/**
 * The importance-weighted bound (Burda et al.), per example, in nats:
 *
 *   IWAE_k(x) = ln (1/k) Σᵢ p(x, zᵢ) / q(zᵢ|x),  zᵢ ~ q(z|x) i.i.d.
 *
 * IWAE_1 is the one-sample ELBO; E[IWAE_k] rises with k toward ln p(x). Computed stably with
 * log-sum-exp, in chunks of draws so k = 1000 fits in memory, without recording gradients.
 */
export function iwae(model: LatentVariableModel, x: Tensor, k: number, options: IwaeOptions = {}): Tensor {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`iwae: k must be a positive integer, got ${k}`);
  const { latentDim, inputDim } = model.config;
  if (options.eps && (options.eps.ndim !== 3 || options.eps.shape[0] !== k || options.eps.shape[2] !== latentDim)) {
    throw new ShapeError(`iwae: eps must be [k=${k}, batch, ${latentDim}], got ${fmt(options.eps.shape)}`);
  }
  return noGrad(() => {
    const { mu, logVar } = model.encode(x);
    const batch = x.shape[0]!;
    const chunk = options.chunkSize ?? Math.max(1, Math.floor(2_000_000 / Math.max(1, batch * inputDim)));
    const sigma = exp(mul(logVar, 0.5));
    const chunkBounds: Tensor[] = [];
    for (let start = 0; start < k; start += chunk) {
      const c = Math.min(chunk, k - start);
      // Each chunk's large intermediates live in the backend's scratch memory (wasm: no copies),
      // dropped after the chunk; only its [1, batch] bound is kept (copied out).
      chunkBounds.push(
        scratchScope(x.dtype, () => {
          const eps = options.eps ? options.eps.slice(0, start, start + c) : randn([c, batch, latentDim], { dtype: x.dtype, rng: options.rng });
          const z = add(mu, mul(sigma, eps)); // [c, batch, latentDim]
          const out = reshape(model.decode(reshape(z, [c * batch, latentDim])), [c, batch, inputDim]);
          // ln wᵢ = ln p(x|zᵢ) + ln p(zᵢ) − ln q(zᵢ|x)
          const logW = sub(add(model.logLikelihood(x, out), logStandardNormal(z)), logNormal(z, mu, logVar)); // [c, batch]
          return logSumExp(logW, 0, true).copy();
        }),
      );
    }
    return reshape(sub(logSumExp(concat(chunkBounds, 0), 0), Math.log(k)), [batch]);
  });
}
