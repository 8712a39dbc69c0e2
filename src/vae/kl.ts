import { add, exp, mul, square, sub, sum } from '../autograd/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { logNormal, logStandardNormal } from './likelihoods.js';

/**
 * KL(q || p) between q = N(μ, diag σ²) and the prior p = N(0, I), per example (summed over
 * the latent axis, the last one), in nats, in closed form:
 *
 *   KL = ½ Σⱼ (μⱼ² + σⱼ² − 1 − ln σⱼ²),  with σ² = exp(logVar)
 */
export function klStandardNormal(mu: Tensor, logVar: Tensor): Tensor {
  return sum(klStandardNormalPerDimension(mu, logVar), -1);
}

/**
 * The terms of {@link klStandardNormal} before the sum over the latent axis, one per dimension:
 * KLⱼ = ½ (μⱼ² + σⱼ² − 1 − ln σⱼ²). (Halving is exact in floating point, so summing these gives
 * the same numbers as halving the sum.)
 */
export function klStandardNormalPerDimension(mu: Tensor, logVar: Tensor): Tensor {
  return mul(sub(add(square(mu), exp(logVar)), add(logVar, 1)), 0.5);
}

/**
 * A one-sample Monte Carlo estimate of the same KL: ln q(z|x) − ln p(z) at a draw z ~ q.
 * Unbiased; its mean over many draws converges to {@link klStandardNormal}.
 */
export function klMonteCarlo(z: Tensor, mu: Tensor, logVar: Tensor): Tensor {
  return sub(logNormal(z, mu, logVar), logStandardNormal(z));
}
