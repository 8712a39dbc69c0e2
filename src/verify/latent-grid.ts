import { noGrad } from '../autograd/engine.js';
import { matmulPrim, softplus, sub, sum } from '../autograd/ops.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { klStandardNormal } from '../vae/kl.js';
import type { VAE } from '../vae/model.js';
import { LOG_2PI } from '../autograd/ops.js';
import { logSumExpArray, symmetricEigen } from './linalg.js';

/**
 * Numerical integration over a 2-D latent space, for a VAE whose latent is small enough that
 * ln p(x) = ln ∫ p(x|z) p(z) dz can be computed on a grid instead of bounded.
 */

/** A square grid of midpoints over [−radius, radius]²: `points` per axis, spacing h. */
export interface LatentGrid {
  points: number;
  radius: number;
  h: number;
  /** The points, row-major ([i·points + j] = (zᵢ, zⱼ)), as a [points², 2] float64 tensor. */
  z: Tensor;
}

/** The midpoint grid with `points` cells per axis over [−radius, radius]². */
export function latentGrid(points: number, radius: number): LatentGrid {
  const h = (2 * radius) / points;
  const coords = Array.from({ length: points }, (_, i) => -radius + (i + 0.5) * h);
  const data = new Float64Array(points * points * 2);
  for (let i = 0; i < points; i++) {
    for (let j = 0; j < points; j++) {
      data[2 * (i * points + j)] = coords[i]!;
      data[2 * (i * points + j) + 1] = coords[j]!;
    }
  }
  return { points, radius, h, z: tensor(data, { shape: [points * points, 2] }) };
}

/**
 * ln p(x|z) of a Bernoulli decoder for every image in `x` ([n, D]) at every grid point, as an
 * [n][points²] table. Since ln Bernoulli(x; σ(ℓ)) = Σⱼ xⱼℓⱼ − softplus(ℓⱼ) (the same number
 * {@link bernoulliLogProb} computes as −Σ BCE), each chunk of decoded logits ℓ serves all images
 * at once: x·ℓᵀ − Σ softplus(ℓ).
 */
export function gridLogLikelihoods(model: VAE, x: Tensor, grid: LatentGrid, chunk = 1024): Float64Array[] {
  if (model.config.likelihood !== 'bernoulli') throw new Error(`gridLogLikelihoods: needs a Bernoulli decoder, got ${model.config.likelihood}`);
  const n = x.shape[0]!;
  const total = grid.points * grid.points;
  const out = Array.from({ length: n }, () => new Float64Array(total));
  noGrad(() => {
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const logits = model.decode(grid.z.slice(0, start, end)); // [c, D]
      const table = sub(matmulPrim(x, logits, false, true), sum(softplus(logits), -1)); // [n, c]
      for (let k = 0; k < n; k++) out[k]!.set(table.data.subarray(k * (end - start), (k + 1) * (end - start)), start);
    }
  });
  return out;
}

/** What quadrature gives for one image. */
export interface PointQuadrature {
  /** ln p(x) on the full grid (spacing h) and on its even sub-grid (spacing 2h). */
  logPx: number;
  logPxCoarse: number;
  /** KL(q(z|x) ‖ p(z|x)) = ∫ q [ln q − ln p(x, z) + ln p(x)] dz on the full grid. */
  posteriorKl: number;
  /** ∫ q dz on the grid (1 when the grid covers q and resolves it). */
  qMass: number;
  /** max over the grid's border of ln p(x, z) − max over the grid: how little mass lies outside. */
  borderDrop: number;
}

/** ln p(x), KL(q ‖ p(z|x)) and checks of the grid, from the table of ln p(x|z) of one image. */
export function integrate(grid: LatentGrid, logLik: Float64Array, mu: readonly number[], logVar: readonly number[]): PointQuadrature {
  const { points, h } = grid;
  const z = grid.z.data;
  const logJoint = new Float64Array(points * points);
  const even: number[] = [];
  let maxAll = -Infinity;
  let maxBorder = -Infinity;
  for (let i = 0; i < points; i++) {
    for (let j = 0; j < points; j++) {
      const k = i * points + j;
      const z0 = z[2 * k]!;
      const z1 = z[2 * k + 1]!;
      const v = logLik[k]! - LOG_2PI - 0.5 * (z0 * z0 + z1 * z1); // ln p(x|z) + ln p(z)
      logJoint[k] = v;
      maxAll = Math.max(maxAll, v);
      if (i === 0 || j === 0 || i === points - 1 || j === points - 1) maxBorder = Math.max(maxBorder, v);
      if (i % 2 === 0 && j % 2 === 0) even.push(v);
    }
  }
  const logPx = logSumExpArray(logJoint) + 2 * Math.log(h);
  const logPxCoarse = logSumExpArray(even) + 2 * Math.log(2 * h);
  let kl = 0;
  let mass = 0;
  for (let k = 0; k < logJoint.length; k++) {
    const a = (z[2 * k]! - mu[0]!) ** 2 / Math.exp(logVar[0]!) + (z[2 * k + 1]! - mu[1]!) ** 2 / Math.exp(logVar[1]!);
    const logQ = -LOG_2PI - 0.5 * (logVar[0]! + logVar[1]! + a);
    const w = Math.exp(logQ) * h * h;
    mass += w;
    if (w > 0) kl += w * (logQ - logJoint[k]! + logPx);
  }
  return { logPx, logPxCoarse, posteriorKl: kl, qMass: mass, borderDrop: maxBorder - maxAll };
}

/** Gauss–Hermite nodes and weights for ∫ e^{−t²} f(t) dt, by Golub–Welsch (eigen-decomposition of the Jacobi matrix). */
export function gaussHermite(order: number): { nodes: number[]; weights: number[] } {
  const jacobi = Array.from({ length: order }, (_, i) => Array.from({ length: order }, (_, j) => (Math.abs(i - j) === 1 ? Math.sqrt(Math.max(i, j) / 2) : 0)));
  const { values, vectors } = symmetricEigen(jacobi);
  return { nodes: values, weights: vectors.map((v) => Math.sqrt(Math.PI) * v[0]! ** 2) };
}

/**
 * The ELBO of each image by the engine's own terms: E_q[ln p(x|z)] by a tensor-product
 * Gauss–Hermite rule in q's coordinates (z = μ + σ ⊙ √2 t), with `model.logLikelihood`, minus
 * the analytic {@link klStandardNormal}. Independent of the latent grid.
 */
export function elboByGaussHermite(model: VAE, x: Tensor, order: number): { elbo: number[]; reconstruction: number[]; kl: number[] } {
  const { nodes, weights } = gaussHermite(order);
  return noGrad(() => {
    const { mu, logVar } = model.encode(x);
    const kl = klStandardNormal(mu, logVar);
    const n = x.shape[0]!;
    const recon = new Array<number>(n).fill(0);
    const m = order * order;
    for (let k = 0; k < n; k++) {
      const z = new Float64Array(m * 2);
      const w = new Float64Array(m);
      for (let a = 0; a < order; a++) {
        for (let b = 0; b < order; b++) {
          const s0 = Math.exp(0.5 * logVar.data[2 * k]!);
          const s1 = Math.exp(0.5 * logVar.data[2 * k + 1]!);
          z[2 * (a * order + b)] = mu.data[2 * k]! + s0 * Math.SQRT2 * nodes[a]!;
          z[2 * (a * order + b) + 1] = mu.data[2 * k + 1]! + s1 * Math.SQRT2 * nodes[b]!;
          w[a * order + b] = (weights[a]! * weights[b]!) / Math.PI;
        }
      }
      const xk = x.slice(0, k, k + 1).expand([m, x.shape[1]!]);
      const logLik = model.logLikelihood(xk, model.decode(tensor(z, { shape: [m, 2], dtype: model.config.dtype })));
      const values = logLik.data; // read once: Tensor.data goes through its storage
      for (let i = 0; i < m; i++) recon[k]! += w[i]! * values[i]!;
    }
    const klv = Array.from(kl.data);
    return { elbo: recon.map((r, k) => r - klv[k]!), reconstruction: recon, kl: klv };
  });
}
