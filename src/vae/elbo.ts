import { mean, mul, sub } from '../autograd/ops.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { klMonteCarlo, klStandardNormal } from './kl.js';
import type { LatentVariableModel } from './model.js';

/** Options of {@link elbo}. */
export interface ElboOptions {
  /** Fixed noise ε, [batch, latentDim]: z = μ + σ ⊙ ε. Drawn from `rng` when omitted. */
  eps?: Tensor;
  rng?: Generator;
  /** Weight β on the KL term of the training objective (default 1; the ELBO itself is unweighted). */
  beta?: number;
  /** 'analytic' (default): the closed-form Gaussian KL; 'monteCarlo': ln q(z|x) − ln p(z) at the same z. */
  kl?: 'analytic' | 'monteCarlo';
}

/** Per-example terms (each [batch], in nats) and the batch objective. */
export interface ElboResult {
  /** reconstruction − kl: a one-sample, unbiased estimate of the ELBO of each example. */
  elbo: Tensor;
  /** ln p(x|z) at one draw z ~ q(z|x): an estimate of E_q[ln p(x|z)]. */
  reconstruction: Tensor;
  /** KL(q(z|x) || p(z)), analytic or one-sample. */
  kl: Tensor;
  /** mean over the batch of reconstruction − β·kl: the quantity to maximize (β = 1: the ELBO). */
  objective: Tensor;
  /** −objective, for optimizers that minimize. */
  loss: Tensor;
  z: Tensor;
  mu: Tensor;
  logVar: Tensor;
}

/**
 * The evidence lower bound, ELBO(x) = E_q[ln p(x|z)] − KL(q(z|x) || p(z)) ≤ ln p(x), estimated
 * with one reparameterized draw z = μ + σ ⊙ ε per example (unbiased for the ELBO, not equal to it).
 *
 * @example
 * const { loss } = elbo(vae, x);
 * loss.backward();
 */
export function elbo(model: LatentVariableModel, x: Tensor, options: ElboOptions = {}): ElboResult {
  const beta = options.beta ?? 1;
  if (!Number.isFinite(beta) || beta < 0) throw new RangeError(`elbo: beta must be a finite number >= 0, got ${beta}`);
  const { z, mu, logVar } = model.sampleLatent(x, options.eps, options.rng);
  const reconstruction = model.logLikelihood(x, model.decode(z));
  const kl = options.kl === 'monteCarlo' ? klMonteCarlo(z, mu, logVar) : klStandardNormal(mu, logVar);
  const perExample = sub(reconstruction, kl);
  const objective = beta === 1 ? mean(perExample) : mean(sub(reconstruction, mul(kl, beta)));
  return { elbo: perExample, reconstruction, kl, objective, loss: mul(objective, -1), z, mu, logVar };
}

/**
 * The KL weight at a training step with linear warm-up: β · min(1, step / warmupSteps)
 * (β from the first step when warmupSteps is 0).
 */
export function klWeight(step: number, beta: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return beta;
  return beta * Math.min(1, step / warmupSteps);
}
