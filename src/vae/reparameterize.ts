import { add, exp, mul } from '../autograd/ops.js';
import { randn } from '../tensor/create.js';
import type { Generator } from '../tensor/random.js';
import { fmt, sameShape, ShapeError } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The reparameterization trick: a draw z ~ q(z|x) = N(μ, diag σ²) written as a deterministic,
 * differentiable function of (μ, logVar) and parameter-free noise ε ~ N(0, I):
 *
 *   z = μ + σ ⊙ ε,  σ = exp(½·logVar)
 *
 * so ∂z/∂μ = 1 and ∂z/∂logVar = ½σ ⊙ ε, and gradients of E_q[f(z)] become E_ε[∂f/∂z · ∂z/∂φ].
 * Pass `eps` to fix the noise (tests do); otherwise it is drawn from `rng`.
 */
export function reparameterize(mu: Tensor, logVar: Tensor, eps?: Tensor, rng?: Generator): Tensor {
  if (!sameShape(mu.shape, logVar.shape)) throw new ShapeError(`reparameterize: mu ${fmt(mu.shape)} and logVar ${fmt(logVar.shape)} differ`);
  const noise = eps ?? randn(mu.shape, { dtype: mu.dtype, rng });
  if (!sameShape(noise.shape, mu.shape)) throw new ShapeError(`reparameterize: eps ${fmt(noise.shape)} must match mu ${fmt(mu.shape)}`);
  return add(mu, mul(exp(mul(logVar, 0.5)), noise));
}
