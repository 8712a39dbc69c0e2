import { noGrad } from '../autograd/engine.js';
import { Adam } from '../nn/optim/adam.js';
import { full, tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { elbo } from '../vae/elbo.js';
import { gaussianLogProb } from '../vae/likelihoods.js';
import { VAE } from '../vae/model.js';
import { diag, type Vector } from './linalg.js';
import { gaussianElbo, klGaussians, type LinearGaussian, logMarginal, meanLogMarginal, posterior, ppcaMaximumLikelihood, standardNormal } from './ppca.js';
import { orthogonalColumnsModel, sampleLinearGaussian } from './identity.js';
import { meanAndStandardError, row, type VerifyRow } from './rows.js';

const SECTION = 'linear-vae';

/**
 * A VAE whose encoder and decoder are both affine (no hidden layers) and whose likelihood is
 * p(x|z) = N(W z + b, σ² I) with ONE learned noise variance σ² = e^noiseLogVar shared by all D
 * dimensions. That is exactly the PPCA model, so its maximum likelihood is known in closed form.
 * (A per-dimension σ² would make it factor analysis, whose optimum PPCA's formula does not give;
 * a σ² fixed at σ²_ML would hand the model part of the answer.)
 */
export class LinearGaussianVAE extends VAE {
  /** ln σ², a learned scalar. */
  readonly noiseLogVar: Tensor;

  constructor(config: { inputDim: number; latentDim: number; seed?: number; noiseVar?: number }) {
    super({ inputDim: config.inputDim, latentDim: config.latentDim, hiddenDims: [], likelihood: 'gaussian', dtype: 'float64', seed: config.seed ?? 0 });
    this.noiseLogVar = this.registerParameter('noiseLogVar', full([], Math.log(config.noiseVar ?? 1), { dtype: 'float64' }));
  }

  /** ln N(x; out, σ² I) per example, constants included. */
  override logLikelihood(x: Tensor, out: Tensor): Tensor {
    return gaussianLogProb(x, out, this.noiseLogVar);
  }

  /** The decoder as a {@link LinearGaussian}: W = output.weight (D × L), b = output.bias, σ². */
  generativeModel(): LinearGaussian {
    const { inputDim: d, latentDim: l } = this.config;
    const w = this.output.weight.data;
    return {
      weight: Array.from({ length: d }, (_, i) => Array.from({ length: l }, (_, j) => w[i * l + j]!)),
      bias: Array.from(this.output.bias!.data),
      noiseVar: Math.exp(this.noiseLogVar.item()),
    };
  }

  /** q(z|x) = N(μ(x), diag σ²(x)) for each row of `data`, as full-covariance Gaussians. */
  recognition(data: readonly Vector[]): Array<{ mean: Vector; cov: number[][] }> {
    const { mu, logVar } = noGrad(() => this.encode(tensor([...data], { dtype: 'float64' })));
    const l = this.config.latentDim;
    return data.map((_, n) => ({
      mean: Array.from(mu.data.subarray(n * l, (n + 1) * l)),
      cov: diag(Array.from(logVar.data.subarray(n * l, (n + 1) * l), Math.exp)),
    }));
  }
}

/** Options of {@link verifyLinearVae}. */
export interface LinearVaeOptions {
  seed?: number;
  /** Data dimension D (default 10) and latent dimension L (default 2). */
  inputDim?: number;
  latentDim?: number;
  /** Training examples drawn from a random PPCA model (default 1000). */
  examples?: number;
  /** Full-batch Adam steps (default 3000). */
  steps?: number;
  /** One-sample ELBO estimates averaged for the unbiasedness check (default 20000). */
  draws?: number;
}

/** What training the linear VAE produced, next to the closed-form PPCA optimum. */
export interface LinearVaeResult {
  /** Exact mean ln p(x) of the trained model (closed form for its linear-Gaussian decoder). */
  trainedLogLikelihood: number;
  /** Tipping & Bishop's maximum of the mean ln p(x). */
  ppcaLogLikelihood: number;
  trainedNoiseVar: number;
  ppcaNoiseVar: number;
  /** Mean closed-form ELBO of the trained model. */
  trainedElbo: number;
  /** Mean KL(q(z|x) ‖ p_θ(z|x)) and mean KL(q(z|x) ‖ p(z)). */
  posteriorKl: number;
  priorKl: number;
  /** Largest |ELBO + KL(q‖p(z|x)) − ln p(x)| over the examples. */
  worstIdentity: number;
  /** The engine's one-sample ELBO estimates on the first example: mean, standard error, sd. */
  estimate: { mean: number; se: number; sd: number; exact: number };
}

/**
 * Trains a {@link LinearGaussianVAE} by full-batch Adam on the project's one-draw `elbo()`, the
 * learning rate falling from `lr` to 0 along a cosine over `steps`.
 */
export function trainLinearVae(data: readonly Vector[], latentDim: number, steps: number, seed: number, lr = 0.1): LinearGaussianVAE {
  const model = new LinearGaussianVAE({ inputDim: data[0]!.length, latentDim, seed });
  const x = tensor([...data], { dtype: 'float64' });
  const optimizer = new Adam(model.parameters(), { lr });
  const rng = new Generator(seed + 1);
  for (let step = 0; step < steps; step++) {
    // lr from 0.1 down to 0 along a cosine, so the single-draw noise averages out at the end.
    optimizer.paramGroups[0]!.lr = 0.5 * lr * (1 + Math.cos((Math.PI * step) / steps));
    const { loss } = elbo(model, x, { rng });
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  return model;
}

/** Trains the linear VAE on data drawn from a random PPCA model and compares it with the closed forms. */
export function runLinearVae(options: LinearVaeOptions = {}): LinearVaeResult {
  const seed = options.seed ?? 1;
  const d = options.inputDim ?? 10;
  const l = options.latentDim ?? 2;
  const rng = new Generator(seed + 100);
  // One more direction than the model has, so PPCA must discard one; principal variances well apart.
  const truth = orthogonalColumnsModel(
    d,
    l + 1,
    rng,
    Array.from({ length: l + 1 }, (_, j) => 1 + j),
  );
  const data = Array.from({ length: options.examples ?? 1000 }, () => sampleLinearGaussian(truth, rng));
  const fit = ppcaMaximumLikelihood(data, l);
  const model = trainLinearVae(data, l, options.steps ?? 3000, seed);
  const theta = model.generativeModel();
  const qs = model.recognition(data);
  let elboSum = 0;
  let postKl = 0;
  let priorKl = 0;
  let worstIdentity = 0;
  data.forEach((x, n) => {
    const q = qs[n]!;
    const e = gaussianElbo(theta, x, q);
    const kl = klGaussians(q, posterior(theta, x));
    elboSum += e;
    postKl += kl;
    priorKl += klGaussians(q, standardNormal(l));
    worstIdentity = Math.max(worstIdentity, Math.abs(e + kl - logMarginal(theta, x)));
  });
  const n = data.length;
  const draws = options.draws ?? 20000;
  const x0 = tensor([data[0]!], { dtype: 'float64' }).expand([draws, d]);
  const estimates = noGrad(() => elbo(model, x0, { rng: new Generator(seed + 2) }).elbo);
  return {
    trainedLogLikelihood: meanLogMarginal(theta, data),
    ppcaLogLikelihood: fit.meanLogLikelihood,
    trainedNoiseVar: theta.noiseVar,
    ppcaNoiseVar: fit.model.noiseVar,
    trainedElbo: elboSum / n,
    posteriorKl: postKl / n,
    priorKl: priorKl / n,
    worstIdentity,
    estimate: { ...meanAndStandardError(estimates.data), exact: gaussianElbo(theta, data[0]!, qs[0]!) },
  };
}

/** The rows of the linear-VAE section of `elbo verify`. */
export function verifyLinearVae(options: LinearVaeOptions = {}): VerifyRow[] {
  const r = runLinearVae(options);
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
  return [
    row(
      SECTION,
      'trained linear VAE: exact mean ln p(x) = PPCA maximum likelihood (Tipping & Bishop)',
      r.trainedLogLikelihood,
      '=',
      r.ppcaLogLikelihood,
      5e-4,
      `absolute tolerance 5e-4 nats (observed gaps 1e-5 to 9e-5 over seeds 1-3, fast and full); relative gap ${rel(r.trainedLogLikelihood, r.ppcaLogLikelihood).toExponential(2)}`,
    ),
    row(SECTION, 'trained linear VAE: ln p(x) ≤ the PPCA maximum (no model beats the ML fit)', r.trainedLogLikelihood, '≤', r.ppcaLogLikelihood, 1e-9),
    row(
      SECTION,
      'trained linear VAE: learned σ² = σ²_ML (mean of the discarded eigenvalues)',
      r.trainedNoiseVar,
      '=',
      r.ppcaNoiseVar,
      5e-3,
      'absolute tolerance 5e-3 (observed 2e-4 to 1.3e-3)',
    ),
    row(SECTION, 'trained linear VAE: ELBO + KL(q‖p(z|x)) = ln p(x) on every example', r.worstIdentity, '=', 0, 1e-9, 'lhs: the largest |ELBO + KL − ln p(x)|'),
    row(
      SECTION,
      'trained encoder q(z|x) ≈ the true posterior p_θ(z|x): mean KL(q‖p_θ(z|x))',
      r.posteriorKl,
      '=',
      0,
      2e-3,
      `nats per example (observed 2e-4 to 6e-4); for contrast, mean KL(q‖p(z)) = ${r.priorKl.toFixed(3)}; ELBO ${r.trainedElbo.toFixed(4)}`,
    ),
    row(
      SECTION,
      `engine elbo(): mean of ${options.draws ?? 20000} one-sample estimates = closed-form ELBO`,
      r.estimate.mean,
      '=',
      r.estimate.exact,
      4 * r.estimate.se,
      `tolerance 4 standard errors; one estimate has sd ${r.estimate.sd.toFixed(3)} nats, so it is not the ELBO`,
    ),
  ];
}
