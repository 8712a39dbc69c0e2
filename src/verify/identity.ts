import { add, exp, matmul as tmatmul, mul, square, sub, sum } from '../autograd/ops.js';
import { SGD } from '../nn/optim/sgd.js';
import { tensor, zeros } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { klStandardNormal } from '../vae/kl.js';
import { LOG_2PI } from '../autograd/ops.js';
import { addDiagonal, diag, logSumExpArray, matmul, matvec, type Matrix, transpose, type Vector } from './linalg.js';
import { type Gaussian, gaussianElbo, klGaussians, type LinearGaussian, logMarginal, posterior, standardNormal } from './ppca.js';
import { row, type VerifyRow } from './rows.js';

const SECTION = 'ppca';

/** A random linear-Gaussian model: W and b with N(0, 1) entries, σ² uniform in [0.2, 1]. */
export function randomLinearGaussian(inputDim: number, latentDim: number, rng: Generator): LinearGaussian {
  const weight = Array.from({ length: inputDim }, () => Array.from({ length: latentDim }, () => rng.normal()));
  return { weight, bias: Array.from({ length: inputDim }, () => rng.normal()), noiseVar: 0.2 + 0.8 * rng.uniform() };
}

/** A draw x ~ p(x) = ∫ p(z) p(x|z) dz: z ~ N(0, I), then x = W z + b + σ·noise. */
export function sampleLinearGaussian(m: LinearGaussian, rng: Generator): Vector {
  const z = m.weight[0]!.map(() => rng.normal());
  return matvec(m.weight, z).map((v, i) => v + m.bias[i]! + Math.sqrt(m.noiseVar) * rng.normal());
}

/** A random Gaussian q over L dimensions with a full covariance A Aᵀ + 0.05 I. */
function randomGaussian(latentDim: number, rng: Generator): Gaussian {
  const a: Matrix = Array.from({ length: latentDim }, () => Array.from({ length: latentDim }, () => rng.normal()));
  return { mean: a.map(() => 2 * rng.normal()), cov: addDiagonal(matmul(a, transpose(a)), 0.05) };
}

/**
 * ln p(x) by the midpoint rule over a square grid in a 2-D latent space, integrating the
 * product p(z)·p(x|z) (a directed model's joint is the product of its factors). The grid is
 * centred on the exact posterior and spans ±`halfWidth` of its largest standard deviation.
 */
export function logMarginalByQuadrature2d(m: LinearGaussian, x: Vector, points = 201, halfWidth = 12): number {
  const post = posterior(m, x);
  const radius = halfWidth * Math.sqrt(Math.max(post.cov[0]![0]!, post.cov[1]![1]!));
  const h = (2 * radius) / points;
  const values = new Float64Array(points * points);
  const d = x.length;
  for (let i = 0; i < points; i++) {
    for (let j = 0; j < points; j++) {
      const z = [post.mean[0]! - radius + (i + 0.5) * h, post.mean[1]! - radius + (j + 0.5) * h];
      const mean = matvec(m.weight, z);
      let sq = 0;
      for (let k = 0; k < d; k++) sq += (x[k]! - mean[k]! - m.bias[k]!) ** 2;
      const logLik = -0.5 * d * (LOG_2PI + Math.log(m.noiseVar)) - sq / (2 * m.noiseVar);
      const logPrior = -LOG_2PI - 0.5 * (z[0]! ** 2 + z[1]! ** 2);
      values[i * points + j] = logPrior + logLik; // ln[p(z) · p(x|z)]
    }
  }
  return logSumExpArray(values) + 2 * Math.log(h);
}

/**
 * The closed-form ELBO of a diagonal q = N(m, diag e^logS) under a fixed linear-Gaussian θ,
 * written in engine ops so it can be differentiated in (m, logS):
 * −(D/2) ln 2πσ² − (‖x − b − W m‖² + Σₗ e^logSₗ ‖W₍:,ₗ₎‖²)/(2σ²) − KL(q || N(0, I)).
 */
function engineElbo(m: LinearGaussian, x: Tensor, mean: Tensor, logS: Tensor): Tensor {
  const w = tensor(m.weight, { dtype: 'float64' }); // [D, L]
  const columnNorms = tensor(
    transpose(m.weight).map((c) => c.reduce((s, v) => s + v * v, 0)),
    { dtype: 'float64' },
  );
  const residual = sub(sub(x, tensor(m.bias, { dtype: 'float64' })), tmatmul(w, mean)); // [D]
  const spread = add(sum(square(residual)), sum(mul(exp(logS), columnNorms)));
  const d = m.bias.length;
  const recon = sub(-0.5 * d * (LOG_2PI + Math.log(m.noiseVar)), mul(spread, 1 / (2 * m.noiseVar)));
  return sub(recon, klStandardNormal(mean, logS));
}

/**
 * A random model whose W has orthogonal columns of lengths `scales` (default 1, 2, …, L), so that
 * p(z|x) is a diagonal Gaussian (one a diagonal q can reach) and the principal variances are
 * well separated.
 */
export function orthogonalColumnsModel(
  inputDim: number,
  latentDim: number,
  rng: Generator,
  scales = Array.from({ length: latentDim }, (_, l) => 1 + l),
): LinearGaussian {
  const base = randomLinearGaussian(inputDim, latentDim, rng);
  const columns: Vector[] = [];
  for (let l = 0; l < latentDim; l++) {
    let c = Array.from({ length: inputDim }, () => rng.normal());
    for (const prev of columns) {
      const proj = c.reduce((s, v, i) => s + v * prev[i]!, 0);
      c = c.map((v, i) => v - proj * prev[i]!);
    }
    const norm = Math.sqrt(c.reduce((s, v) => s + v * v, 0));
    columns.push(c.map((v) => v / norm));
  }
  return { ...base, weight: Array.from({ length: inputDim }, (_, i) => columns.map((c, l) => c[i]! * scales[l]!)) };
}

/**
 * Gradient ascent on the ELBO in φ = (m, logS) of a diagonal q, θ held fixed, by the engine.
 * Returns the largest |ELBO + KL(q || p(z|x)) − ln p(x)| met along the way, the final
 * KL(q || p(z|x)), and KL(q || p(z)) at the start (q = prior) and at the end.
 */
export function ascendPhi(
  m: LinearGaussian,
  x: Vector,
  steps: number,
): { worstIdentity: number; finalPosteriorKl: number; priorKlStart: number; priorKlEnd: number; elboStart: number; elboEnd: number } {
  const latentDim = m.weight[0]!.length;
  const mean = zeros([latentDim], { dtype: 'float64', requiresGrad: true });
  const logS = zeros([latentDim], { dtype: 'float64', requiresGrad: true });
  const xt = tensor(x, { dtype: 'float64' });
  const logPx = logMarginal(m, x);
  const post = posterior(m, x);
  const q = (): Gaussian => ({ mean: Array.from(mean.data), cov: diag(Array.from(logS.data, Math.exp)) });
  const largestCurvature = 1 + Math.max(...transpose(m.weight).map((c) => c.reduce((s, v) => s + v * v, 0))) / m.noiseVar;
  const optimizer = new SGD([mean, logS], { lr: 1 / largestCurvature });
  let worstIdentity = 0;
  let elboStart = NaN;
  let elbo = NaN;
  const priorKlStart = klGaussians(q(), standardNormal(latentDim));
  for (let t = 0; t <= steps; t++) {
    const objective = engineElbo(m, xt, mean, logS);
    elbo = objective.item();
    if (t === 0) elboStart = elbo;
    worstIdentity = Math.max(worstIdentity, Math.abs(elbo + klGaussians(q(), post) - logPx));
    if (t === steps) break;
    optimizer.zeroGrad();
    mul(objective, -1).backward();
    optimizer.step();
  }
  return {
    worstIdentity,
    finalPosteriorKl: klGaussians(q(), post),
    priorKlStart,
    priorKlEnd: klGaussians(q(), standardNormal(latentDim)),
    elboStart,
    elboEnd: elbo,
  };
}

/** Options of {@link verifyLinearGaussianIdentities}. */
export interface IdentityOptions {
  seed?: number;
  /** Random (θ, x, q) triples to test the identity on (default 20). */
  trials?: number;
  /** SGD steps of the φ-ascent (default 400). */
  ascentSteps?: number;
}

/**
 * Exact checks on the linear-Gaussian model, where ln p(x), p(z|x), the ELBO of any Gaussian q
 * and KL(q || p(z|x)) all have closed forms.
 */
export function verifyLinearGaussianIdentities(options: IdentityOptions = {}): VerifyRow[] {
  const rng = new Generator(options.seed ?? 1);
  const trials = options.trials ?? 20;
  let worstIdentity = 0;
  let worstTight = 0;
  let smallestPriorGap = Infinity;
  for (let t = 0; t < trials; t++) {
    const inputDim = 3 + (t % 6);
    const latentDim = 1 + (t % 3);
    const m = randomLinearGaussian(inputDim, latentDim, rng);
    const x = sampleLinearGaussian(m, rng);
    const logPx = logMarginal(m, x);
    const q = randomGaussian(latentDim, rng);
    const post = posterior(m, x);
    worstIdentity = Math.max(worstIdentity, Math.abs(gaussianElbo(m, x, q) + klGaussians(q, post) - logPx));
    worstTight = Math.max(worstTight, Math.abs(gaussianElbo(m, x, post) - logPx));
    smallestPriorGap = Math.min(smallestPriorGap, logPx - gaussianElbo(m, x, standardNormal(latentDim)));
  }
  const m2 = randomLinearGaussian(6, 2, rng);
  const x2 = sampleLinearGaussian(m2, rng);
  const quad = logMarginalByQuadrature2d(m2, x2);
  const mOrth = orthogonalColumnsModel(5, 2, rng);
  const ascent = ascendPhi(mOrth, sampleLinearGaussian(mOrth, rng), options.ascentSteps ?? 400);
  return [
    row(
      SECTION,
      `ln p(x) = ELBO(q) + KL(q‖p(z|x)), ${trials} random θ, x, full-covariance q`,
      worstIdentity,
      '=',
      0,
      1e-9,
      'lhs: the largest |ELBO + KL − ln p(x)| over the trials',
    ),
    row(
      SECTION,
      'ELBO(q = p(z|x)) = ln p(x): the bound is tight at the true posterior',
      worstTight,
      '=',
      0,
      1e-9,
      'lhs: the largest |ELBO − ln p(x)| over the trials',
    ),
    row(
      SECTION,
      'ELBO(q = p(z)) < ln p(x): the prior is not the optimum of q',
      -smallestPriorGap,
      '<',
      0,
      0,
      'lhs: the largest ELBO(prior) − ln p(x) over the trials, which is −KL(p(z)‖p(z|x))',
    ),
    row(
      SECTION,
      'ln p(x) by quadrature of p(z)·p(x|z) over z (201² grid) = closed form',
      quad,
      '=',
      logMarginal(m2, x2),
      1e-9,
      'the product of the factors integrates to the marginal',
    ),
    row(
      SECTION,
      'θ fixed, ELBO ascended in φ by SGD: ELBO + KL(q‖p(z|x)) = ln p(x) at every step',
      ascent.worstIdentity,
      '=',
      0,
      1e-9,
      `ELBO rose from ${ascent.elboStart.toFixed(4)} to ${ascent.elboEnd.toFixed(4)}; ln p(x) did not move`,
    ),
    row(
      SECTION,
      'θ fixed, after the φ-ascent: KL(q‖p(z|x)) → 0 (q reached the posterior)',
      ascent.finalPosteriorKl,
      '=',
      0,
      1e-9,
      'W with orthogonal columns, so p(z|x) is diagonal and reachable',
    ),
    row(
      SECTION,
      'θ fixed, after the φ-ascent: KL(q‖p(z)) grew away from 0 (q left the prior)',
      ascent.priorKlEnd,
      '>',
      ascent.priorKlStart,
      0,
      'q started at the prior N(0, I)',
    ),
  ];
}
