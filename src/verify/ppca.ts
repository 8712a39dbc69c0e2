import { LOG_2PI } from '../autograd/ops.js';
import {
  addDiagonal,
  cholesky,
  choleskySolve,
  dot,
  identity,
  inverse,
  logdet,
  logdetFromCholesky,
  logNormalDensity,
  matmul,
  matvec,
  type Matrix,
  scaleMatrix,
  solveLower,
  subVectors,
  symmetricEigen,
  trace,
  transpose,
  type Vector,
  zerosMatrix,
} from './linalg.js';

/**
 * The linear-Gaussian latent-variable model (probabilistic PCA, Tipping & Bishop 1999), where
 * every quantity the VAE only bounds or estimates has a closed form:
 *
 *   p(z) = N(0, I_L),  p(x|z) = N(W z + b, σ² I_D)
 *   p(x) = N(x; b, C),  C = W Wᵀ + σ² I                              (marginal)
 *   p(z|x) = N(M⁻¹ Wᵀ (x − b), σ² M⁻¹),  M = Wᵀ W + σ² I              (posterior)
 *
 * Everything here is plain float64 arithmetic on {@link Matrix}/{@link Vector}, independent of
 * the engine, so it can serve as the exact reference the engine is checked against.
 */
export interface LinearGaussian {
  /** W, D × L. */
  weight: Matrix;
  /** b, length D. */
  bias: Vector;
  /** σ², the isotropic observation noise variance. */
  noiseVar: number;
}

/** A Gaussian N(mean, cov) over z (full covariance). */
export interface Gaussian {
  mean: Vector;
  cov: Matrix;
}

/** C = W Wᵀ + σ² I, the covariance of the marginal p(x). */
export const marginalCov = (m: LinearGaussian): Matrix => addDiagonal(matmul(m.weight, transpose(m.weight)), m.noiseVar);

/** ln p(x) = ln N(x; b, W Wᵀ + σ² I), exactly. */
export const logMarginal = (m: LinearGaussian, x: Vector): number => logNormalDensity(x, m.bias, marginalCov(m));

/** The exact posterior p(z|x) = N(M⁻¹ Wᵀ (x − b), σ² M⁻¹) with M = Wᵀ W + σ² I. */
export function posterior(m: LinearGaussian, x: Vector): Gaussian {
  const wt = transpose(m.weight);
  const mMat = addDiagonal(matmul(wt, m.weight), m.noiseVar);
  const mean = choleskySolve(cholesky(mMat), matvec(wt, subVectors(x, m.bias)));
  return { mean, cov: scaleMatrix(inverse(mMat), m.noiseVar) };
}

/**
 * KL(q || p) between two Gaussians over the same space, in nats:
 * ½[tr(Σp⁻¹ Σq) + (μp − μq)ᵀ Σp⁻¹ (μp − μq) − L + ln det Σp − ln det Σq].
 */
export function klGaussians(q: Gaussian, p: Gaussian): number {
  const lp = cholesky(p.cov);
  const d = subVectors(p.mean, q.mean);
  const r = solveLower(lp, d);
  const traceTerm = trace(matmul(inverse(p.cov), q.cov));
  return 0.5 * (traceTerm + dot(r, r) - q.mean.length + logdetFromCholesky(lp) - logdet(q.cov));
}

/** The prior N(0, I_L) as a {@link Gaussian}. */
export const standardNormal = (latentDim: number): Gaussian => ({ mean: new Array<number>(latentDim).fill(0), cov: identity(latentDim) });

/**
 * E_q[ln p(x|z)] for a Gaussian q = N(m, S) and the linear-Gaussian decoder, exactly:
 * −(D/2) ln 2πσ² − (‖x − b − W m‖² + tr(Wᵀ W S)) / (2σ²).
 * (z − m has covariance S, so E‖x − b − W z‖² = ‖x − b − W m‖² + tr(W S Wᵀ).)
 */
export function expectedLogLikelihood(m: LinearGaussian, x: Vector, q: Gaussian): number {
  const r = subVectors(subVectors(x, m.bias), matvec(m.weight, q.mean));
  const spread = trace(matmul(matmul(transpose(m.weight), m.weight), q.cov));
  return -0.5 * x.length * (LOG_2PI + Math.log(m.noiseVar)) - (dot(r, r) + spread) / (2 * m.noiseVar);
}

/** ELBO(q) = E_q[ln p(x|z)] − KL(q || p(z)), in closed form for any Gaussian q. */
export const gaussianElbo = (m: LinearGaussian, x: Vector, q: Gaussian): number =>
  expectedLogLikelihood(m, x, q) - klGaussians(q, standardNormal(q.mean.length));

/** Mean and (biased, 1/N) covariance of the rows of `data`. */
export function sampleMoments(data: readonly Vector[]): { mean: Vector; cov: Matrix } {
  const n = data.length;
  const d = data[0]!.length;
  const mean = new Array<number>(d).fill(0);
  for (const x of data) x.forEach((v, j) => (mean[j]! += v / n));
  const cov = zerosMatrix(d, d);
  for (const x of data) {
    const c = subVectors(x, mean);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i]![j]! += (c[i]! * c[j]!) / n;
  }
  return { mean, cov };
}

/**
 * Mean ln p(x) over `data` for a linear-Gaussian model, exactly, through the sample moments:
 * −½[D ln 2π + ln det C + tr(C⁻¹ S_b)], S_b = (1/N) Σₙ (xₙ − b)(xₙ − b)ᵀ.
 */
export function meanLogMarginal(m: LinearGaussian, data: readonly Vector[]): number {
  const { mean, cov } = sampleMoments(data);
  const shift = subVectors(mean, m.bias);
  const sB = cov.map((row, i) => row.map((v, j) => v + shift[i]! * shift[j]!));
  const c = marginalCov(m);
  return -0.5 * (mean.length * LOG_2PI + logdet(c) + trace(matmul(inverse(c), sB)));
}

/** The maximum-likelihood PPCA fit and its log-likelihood. */
export interface PpcaFit {
  model: LinearGaussian;
  /** Eigenvalues of the sample covariance, descending. */
  eigenvalues: Vector;
  /** The maximum of the mean log-likelihood per example, in nats, from the eigenvalues alone. */
  meanLogLikelihood: number;
}

/**
 * Tipping & Bishop's closed-form maximum-likelihood PPCA with L latent dimensions:
 *
 *   b = sample mean,  σ²_ML = mean of the D − L discarded eigenvalues of the sample covariance S,
 *   W_ML = U_L (Λ_L − σ² I)^½   (U_L, Λ_L: the top L eigenvectors and eigenvalues; up to a rotation)
 *
 * and the maximum itself, per example: −½[D ln 2π + Σ_{j≤L} ln λⱼ + (D − L) ln σ² + D].
 */
export function ppcaMaximumLikelihood(data: readonly Vector[], latentDim: number): PpcaFit {
  const { mean, cov } = sampleMoments(data);
  const d = mean.length;
  if (!(latentDim >= 1 && latentDim < d)) throw new RangeError(`ppcaMaximumLikelihood: need 1 <= latentDim < D = ${d}, got ${latentDim}`);
  const { values, vectors } = symmetricEigen(cov);
  const discarded = values.slice(latentDim);
  const noiseVar = discarded.reduce((s, v) => s + v, 0) / discarded.length;
  const weight = Array.from({ length: d }, (_, i) => Array.from({ length: latentDim }, (_, j) => vectors[j]![i]! * Math.sqrt(values[j]! - noiseVar)));
  const kept = values.slice(0, latentDim).reduce((s, v) => s + Math.log(v), 0);
  const meanLogLikelihood = -0.5 * (d * LOG_2PI + kept + (d - latentDim) * Math.log(noiseVar) + d);
  return { model: { weight, bias: mean, noiseVar }, eigenvalues: values, meanLogLikelihood };
}
