import { LOG_2PI } from '../autograd/ops.js';
import type { Generator } from '../tensor/random.js';
import { cholesky, logdetFromCholesky, type Matrix, solveLower, type Vector } from '../verify/linalg.js';
import type { LogJoint, MixtureFamily, Responsibilities } from './em.js';

/** A mixture of K full-covariance Gaussians: p(x) = Σₖ πₖ N(x; mₖ, Sₖ). */
export interface GaussianMixture {
  weights: Vector;
  means: Vector[];
  covs: Matrix[];
}

/** ln πₖ + ln N(xₙ; mₖ, Sₖ) = ln πₖ − ½ (d ln 2π + ln|Sₖ| + ‖Lₖ⁻¹(xₙ − mₖ)‖²), Sₖ = Lₖ Lₖᵀ. */
export function gaussianMixtureLogJoint(model: GaussianMixture, data: readonly Vector[]): LogJoint {
  const k = model.weights.length;
  const values = new Float64Array(data.length * k);
  model.covs.forEach((cov, c) => {
    const l = cholesky(cov);
    const constant = Math.log(model.weights[c]!) - 0.5 * (cov.length * LOG_2PI + logdetFromCholesky(l));
    data.forEach((x, i) => {
      const y = solveLower(
        l,
        x.map((v, j) => v - model.means[c]![j]!),
      );
      values[i * k + c] = constant - 0.5 * y.reduce((s, v) => s + v * v, 0);
    });
  });
  return { values, n: data.length, k };
}

/** The maximum-likelihood M-step: πₖ = Nₖ/N, mₖ = Σ qₙₖ xₙ / Nₖ, Sₖ = Σ qₙₖ (xₙ − mₖ)(xₙ − mₖ)ᵀ / Nₖ. */
export function gaussianMixtureMStep(data: readonly Vector[], q: Responsibilities, previous: GaussianMixture): GaussianMixture {
  const { k } = q;
  const d = data[0]!.length;
  const weights: Vector = [];
  const means: Vector[] = [];
  const covs: Matrix[] = [];
  for (let c = 0; c < k; c++) {
    let nk = 0;
    const m = new Array<number>(d).fill(0);
    data.forEach((x, i) => {
      const r = q.values[i * k + c]!;
      nk += r;
      for (let a = 0; a < d; a++) m[a]! += r * x[a]!;
    });
    if (nk === 0) {
      weights.push(0);
      means.push(previous.means[c]!);
      covs.push(previous.covs[c]!);
      continue;
    }
    for (let a = 0; a < d; a++) m[a]! /= nk;
    const s: Matrix = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    data.forEach((x, i) => {
      const r = q.values[i * k + c]!;
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) s[a]![b]! += (r * (x[a]! - m[a]!) * (x[b]! - m[b]!)) / nk;
    });
    weights.push(nk / data.length);
    means.push(m);
    covs.push(s);
  }
  return { weights, means, covs };
}

/** The Gaussian-mixture family for {@link fitEm} (maximum likelihood). */
export const gaussianMixtureFamily: MixtureFamily<GaussianMixture, readonly Vector[]> = { logJoint: gaussianMixtureLogJoint, mStep: gaussianMixtureMStep };

/** Equal weights, means at K distinct random examples, every covariance the data's covariance. */
export function initGaussianMixture(data: readonly Vector[], k: number, rng: Generator): GaussianMixture {
  const d = data[0]!.length;
  const mean = Array.from({ length: d }, (_, a) => data.reduce((s, x) => s + x[a]!, 0) / data.length);
  const cov = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => data.reduce((s, x) => s + (x[a]! - mean[a]!) * (x[b]! - mean[b]!), 0) / data.length),
  );
  const picks = rng.permutation(data.length).slice(0, k);
  return {
    weights: new Array<number>(k).fill(1 / k),
    means: Array.from(picks, (i) => [...data[i]!]),
    covs: Array.from({ length: k }, () => cov.map((r) => [...r])),
  };
}

/** n draws from a mixture (component by its weight, then m + L ε), for toy data. */
export function sampleGaussianMixture(model: GaussianMixture, n: number, rng: Generator): Vector[] {
  const ls = model.covs.map(cholesky);
  return Array.from({ length: n }, () => {
    let u = rng.uniform();
    let c = 0;
    while (c < model.weights.length - 1 && u >= model.weights[c]!) u -= model.weights[c++]!;
    const eps = model.means[c]!.map(() => rng.normal());
    return model.means[c]!.map((m, a) => m + ls[c]![a]!.reduce((s, v, b) => s + v * eps[b]!, 0));
  });
}
