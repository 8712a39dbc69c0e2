import { noGrad } from '../autograd/engine.js';
import { LOG_2PI } from '../autograd/ops.js';
import { Adam } from '../nn/optim/adam.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { elbo } from './elbo.js';
import { iwae } from './iwae.js';
import type { LatentVariableModel } from './model.js';
import { reparameterize } from './reparameterize.js';

/**
 * The decoder of `model` with q(z) = N(mu, diag e^logVar) given explicitly for each example,
 * not computed by the encoder: a q that {@link optimizePosterior} can fit per example, which
 * {@link elbo} and {@link iwae} score like any other.
 */
export class FixedPosterior implements LatentVariableModel {
  constructor(
    /** The model whose decoder and likelihood are used. */
    readonly model: LatentVariableModel,
    /** [batch, latentDim]. */
    readonly mu: Tensor,
    /** [batch, latentDim]. */
    readonly logVar: Tensor,
  ) {}

  get config(): LatentVariableModel['config'] {
    return this.model.config;
  }

  encode(x: Tensor): { mu: Tensor; logVar: Tensor } {
    if (x.shape[0] !== this.mu.shape[0]) throw new Error(`FixedPosterior.encode: q holds ${this.mu.shape[0]} examples, x has ${x.shape[0]}`);
    return { mu: this.mu, logVar: this.logVar };
  }

  decode(z: Tensor): Tensor {
    return this.model.decode(z);
  }

  logLikelihood(x: Tensor, out: Tensor): Tensor {
    return this.model.logLikelihood(x, out);
  }

  sampleLatent(x: Tensor, eps?: Tensor, rng?: Generator): { z: Tensor; mu: Tensor; logVar: Tensor } {
    const { mu, logVar } = this.encode(x);
    return { z: reparameterize(mu, logVar, eps, rng), mu, logVar };
  }
}

/**
 * q fitted to each example separately, the decoder fixed: Adam on (μ, ln σ²) of every row of x,
 * started at the encoder's output, maximizing the one-draw ELBO estimate. The result is the
 * per-example optimum the encoder only approximates (Cremer et al. 2018).
 */
export function optimizePosterior(model: LatentVariableModel, x: Tensor, options: { steps?: number; lr?: number; rng?: Generator } = {}): FixedPosterior {
  const rng = options.rng ?? new Generator(0);
  const start = noGrad(() => model.encode(x));
  const mu = start.mu.copy().requiresGrad_();
  const logVar = start.logVar.copy().requiresGrad_();
  const q = new FixedPosterior(model, mu, logVar);
  const optimizer = new Adam([mu, logVar], { lr: options.lr ?? 1e-2 });
  const rows = x.shape[0]!;
  for (let step = 0; step < (options.steps ?? 300); step++) {
    optimizer.zeroGrad();
    // The mean over the batch scaled by the batch size: each example's own ELBO gradient.
    const { objective } = elbo(q, x, { rng });
    objective.mul(-rows).backward();
    optimizer.step();
  }
  return new FixedPosterior(model, mu.detach(), logVar.detach());
}

/** The mean over `draws` one-draw ELBO estimates, per example (a low-noise estimate of the ELBO). */
export function elboPerExample(model: LatentVariableModel, x: Tensor, draws: number, rng: Generator): Float64Array {
  const out = new Float64Array(x.shape[0]!);
  noGrad(() => {
    for (let d = 0; d < draws; d++) elbo(model, x, { rng }).elbo.data.forEach((v, i) => (out[i]! += v / draws));
  });
  return out;
}

/** The inference gaps of one set of examples, means per example, in nats. */
export interface InferenceGaps {
  /** ELBO with the encoder's q(z|x). */
  elboEncoder: number;
  /** ELBO with q optimized per example ({@link optimizePosterior}). */
  elboOptimized: number;
  /** IWAE_k with the optimized q: the estimate of ln p(x) the gaps are measured against. */
  logLikelihood: number;
  k: number;
  /** elboOptimized − elboEncoder: what a shared encoder costs. */
  amortizationGap: number;
  /** logLikelihood − elboOptimized: what a diagonal Gaussian q costs even at its best. */
  approximationGap: number;
  n: number;
}

/**
 * ln p(x) − ELBO(encoder) split into the approximation gap (ln p(x) − best ELBO over diagonal
 * Gaussians q) and the amortization gap (best ELBO − the encoder's ELBO), averaged over the rows
 * of x. The decoder is fixed throughout.
 */
export function inferenceGaps(
  model: LatentVariableModel,
  x: Tensor,
  options: { steps?: number; lr?: number; draws?: number; k?: number; seed?: number } = {},
): InferenceGaps {
  const rng = new Generator(options.seed ?? 0);
  const draws = options.draws ?? 100;
  const k = options.k ?? 1000;
  const optimized = optimizePosterior(model, x, { steps: options.steps, lr: options.lr, rng });
  const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  const elboEncoder = mean(elboPerExample(model, x, draws, rng));
  const elboOptimized = mean(elboPerExample(optimized, x, draws, rng));
  const best = Math.max(mean(iwae(optimized, x, k, { rng }).data), mean(iwae(model, x, k, { rng }).data));
  return {
    elboEncoder,
    elboOptimized,
    logLikelihood: best,
    k,
    amortizationGap: elboOptimized - elboEncoder,
    approximationGap: best - elboOptimized,
    n: x.shape[0]!,
  };
}

/** The split of the average KL term through the aggregate posterior q(z) = (1/N) Σₙ q(z|xₙ), in nats. */
export interface AggregatePosteriorSplit {
  /** (1/N) Σₙ KL(q(z|xₙ) ‖ p(z)), closed form. */
  meanKl: number;
  /** The same, by the draws: mean of ln q(z|xₙ) − ln p(z). Equals mutualInformation + marginalKl exactly. */
  meanKlSampled: number;
  /** I(x; z) under q(x, z) = p_data(x) q(z|x): mean of ln q(z|xₙ) − ln q(z). At most ln N. */
  mutualInformation: number;
  /** KL(q(z) ‖ p(z)): mean of ln q(z) − ln p(z). */
  marginalKl: number;
  /** ln N, the ceiling of the mutual information among N examples. */
  logN: number;
  n: number;
}

/**
 * Estimates E_x KL(q(z|x) ‖ p(z)) = I(x; z) + KL(q(z) ‖ p(z)) over the rows of x (the data
 * distribution is their empirical one): `draws` z per example from q(z|xₙ), and q(z) evaluated
 * exactly as the mixture of all N encoder Gaussians (an N² computation, in float64).
 */
export function aggregatePosteriorSplit(model: LatentVariableModel, x: Tensor, options: { draws?: number; seed?: number } = {}): AggregatePosteriorSplit {
  const rng = new Generator(options.seed ?? 0);
  const draws = options.draws ?? 10;
  const { mu, logVar } = noGrad(() => model.encode(x));
  const n = x.shape[0]!;
  const l = model.config.latentDim;
  const m = Float64Array.from(mu.data);
  const lv = Float64Array.from(logVar.data);
  const invVar = lv.map((v) => Math.exp(-v));
  const logNorm = new Float64Array(n); // −½ Σⱼ (ln 2π + ln σ²ⱼ) of each q(z|xₙ)
  let meanKl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < l; j++) {
      const a = i * l + j;
      logNorm[i]! -= 0.5 * (LOG_2PI + lv[a]!);
      meanKl += (0.5 * (m[a]! ** 2 + Math.exp(lv[a]!) - 1 - lv[a]!)) / n;
    }
  }
  const logQ = new Float64Array(n);
  let info = 0;
  let marginal = 0;
  const z = new Float64Array(l);
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < n; i++) {
      let logPrior = -0.5 * l * LOG_2PI;
      for (let j = 0; j < l; j++) {
        z[j] = m[i * l + j]! + Math.exp(0.5 * lv[i * l + j]!) * rng.normal();
        logPrior -= 0.5 * z[j]! ** 2;
      }
      let max = -Infinity;
      for (let k = 0; k < n; k++) {
        let s = logNorm[k]!;
        for (let j = 0; j < l; j++) s -= 0.5 * (z[j]! - m[k * l + j]!) ** 2 * invVar[k * l + j]!;
        logQ[k] = s;
        if (s > max) max = s;
      }
      let total = 0;
      for (let k = 0; k < n; k++) total += Math.exp(logQ[k]! - max);
      const logAggregate = max + Math.log(total) - Math.log(n);
      info += (logQ[i]! - logAggregate) / (n * draws);
      marginal += (logAggregate - logPrior) / (n * draws);
    }
  }
  return { meanKl, meanKlSampled: info + marginal, mutualInformation: info, marginalKl: marginal, logN: Math.log(n), n };
}
