import { binaryCrossEntropyWithLogits, gaussianNll, LOG_2PI, mul, neg, sigmoid, square, sum } from '../autograd/ops.js';
import { fmt, sameShape, ShapeError } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Decoders as likelihoods p(x|z). The decoder network maps z to `out` (logits or means); the
 * likelihood turns (x, out) into ln p(x|z) per example, summed over the data axis (the last),
 * in nats with every constant included, so the numbers are log-likelihoods one can report.
 */
export type LikelihoodName = 'bernoulli' | 'gaussian' | 'gaussian-learned';
/** Every {@link LikelihoodName}. */
export const LIKELIHOODS: readonly LikelihoodName[] = ['bernoulli', 'gaussian', 'gaussian-learned'];

/**
 * Bernoulli with logits ℓ = out: ln p(x|z) = Σ [x ln σ(ℓ) + (1 − x) ln(1 − σ(ℓ))] = −Σ BCE(ℓ, x).
 * For x in [0, 1] that are not binary (grey MNIST pixels) this is the cross-entropy the PyTorch
 * VAE example trains on, not a normalized density of continuous x.
 */
export function bernoulliLogProb(x: Tensor, logits: Tensor): Tensor {
  checkShapes('bernoulliLogProb', x, logits);
  return neg(sum(binaryCrossEntropyWithLogits(logits, x, { reduction: 'none' }), -1));
}

/**
 * Gaussian N(x; μ = out, diag e^logVar): ln p(x|z) = −½ Σ [ln 2π + logVar + (x − μ)² e^−logVar].
 * `logVar` is a fixed scalar tensor (fixed σ: logVar = ln σ²) or a learned per-dimension vector.
 * With σ = 1 this is −½‖x − μ‖² − (D/2) ln 2π: dropping the constant is fine for training,
 * wrong for a log-likelihood in nats.
 */
export function gaussianLogProb(x: Tensor, mu: Tensor, logVar: Tensor): Tensor {
  checkShapes('gaussianLogProb', x, mu);
  return neg(sum(gaussianNll(x, mu, logVar, { reduction: 'none', full: true }), -1));
}

/** ln N(z; μ, diag e^logVar) summed over the last axis (the density of q(z|x) at z). */
export function logNormal(z: Tensor, mu: Tensor, logVar: Tensor): Tensor {
  return neg(sum(gaussianNll(z, mu, logVar, { reduction: 'none', full: true }), -1));
}

/** ln N(z; 0, I) = −½ Σ (z² + ln 2π), summed over the last axis (the prior's density). */
export function logStandardNormal(z: Tensor): Tensor {
  return mul(sum(square(z), -1), -0.5).add(-0.5 * LOG_2PI * z.shape[z.ndim - 1]!);
}

/** The mean of p(x|z), for pictures: σ(logits) for Bernoulli, μ for Gaussians. */
export function likelihoodMean(name: LikelihoodName, out: Tensor): Tensor {
  return name === 'bernoulli' ? sigmoid(out) : out;
}

function checkShapes(op: string, x: Tensor, out: Tensor): void {
  if (!sameShape(x.shape, out.shape) && !sameShape(x.shape, out.shape.slice(-x.ndim))) {
    throw new ShapeError(`${op}: data ${fmt(x.shape)} and decoder output ${fmt(out.shape)} differ`);
  }
}
