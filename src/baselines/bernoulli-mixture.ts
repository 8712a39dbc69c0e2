import { Generator } from '../tensor/random.js';
import { type EmIteration, type EmOptions, fitEm, type LogJoint, logMarginals, type MixtureFamily, type Responsibilities } from './em.js';

/**
 * Binary vectors: n rows of d values in {0, 1}, row-major, with each row's active (= 1) indices
 * listed once, so sums over pixels cost the number of ones rather than d.
 */
export interface BinaryData {
  x: Float32Array | Float64Array;
  n: number;
  d: number;
  /** offsets[i]..offsets[i+1] index into `active`: the pixels of row i that are 1. */
  offsets: Uint32Array;
  active: Uint32Array;
}

/** Wraps binary rows; throws when a value is neither 0 nor 1 (name and index in the message). */
export function binaryData(x: Float32Array | Float64Array, n: number, d: number): BinaryData {
  if (x.length !== n * d) throw new RangeError(`binaryData: ${x.length} values is not n × d = ${n} × ${d}`);
  const offsets = new Uint32Array(n + 1);
  const list: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      if (v === 1) list.push(j);
      else if (v !== 0) throw new RangeError(`binaryData: value ${v} at row ${i}, column ${j} is not 0 or 1 (binarize the data first)`);
    }
    offsets[i + 1] = list.length;
  }
  return { x, n, d, offsets, active: Uint32Array.from(list) };
}

/** A mixture of K products of Bernoullis: p(x) = Σₖ πₖ Πᵈ μₖᵈ^{xᵈ} (1 − μₖᵈ)^{1−xᵈ}. */
export interface BernoulliMixture {
  /** πₖ, [K]. */
  weights: Float64Array;
  /** μₖᵈ, [K, d] row-major. */
  probs: Float64Array;
  k: number;
  d: number;
}

/**
 * ln πₖ + ln p(xₙ|k) for every example and component. When every μ is strictly inside (0, 1) it
 * uses ln p(x|k) = Σᵈ ln(1 − μₖᵈ) + Σ_{d: xᵈ=1} logit μₖᵈ (cost: the ones only); otherwise
 * (a maximum-likelihood M-step can set μ to exactly 0 or 1) it sums xᵈ ln μ + (1 − xᵈ) ln(1 − μ)
 * term by term, with 0 · ln 0 = 0, so a pixel the component cannot produce gives −∞, not NaN.
 */
export function bernoulliMixtureLogJoint(model: BernoulliMixture, data: BinaryData): LogJoint {
  const { k, d } = model;
  if (data.d !== d) throw new RangeError(`bernoulliMixtureLogJoint: data has ${data.d} columns, the model ${d}`);
  const values = new Float64Array(data.n * k);
  const interior = model.probs.every((p) => p > 0 && p < 1);
  if (interior) {
    const logitT = new Float64Array(d * k); // [d, K]: one pixel's logits for all components, contiguous
    const base = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let b = Math.log(model.weights[c]!);
      for (let j = 0; j < d; j++) {
        const p = model.probs[c * d + j]!;
        b += Math.log1p(-p);
        logitT[j * k + c] = Math.log(p) - Math.log1p(-p);
      }
      base[c] = b;
    }
    for (let i = 0; i < data.n; i++) {
      const row = values.subarray(i * k, (i + 1) * k);
      row.set(base);
      for (let a = data.offsets[i]!; a < data.offsets[i + 1]!; a++) {
        const off = data.active[a]! * k;
        for (let c = 0; c < k; c++) row[c]! += logitT[off + c]!;
      }
    }
    return { values, n: data.n, k };
  }
  const logP = model.probs.map(Math.log);
  const logQ = model.probs.map((p) => Math.log1p(-p));
  for (let i = 0; i < data.n; i++) {
    for (let c = 0; c < k; c++) {
      let s = Math.log(model.weights[c]!);
      for (let j = 0; j < d; j++) s += data.x[i * d + j] === 1 ? logP[c * d + j]! : logQ[c * d + j]!;
      values[i * k + c] = s;
    }
  }
  return { values, n: data.n, k };
}

/**
 * The M-step for fixed q: πₖ = Nₖ/N and μₖᵈ = (Σₙ qₙₖ xₙᵈ + α) / (Nₖ + 2α), Nₖ = Σₙ qₙₖ.
 * α = 0 is maximum likelihood (EM then never lowers ln p(X)); α > 0 is the MAP estimate under a
 * Beta(1 + α, 1 + α) prior on each μ (EM then never lowers ln p(X) + ln p(μ)), which keeps μ
 * off 0 and 1 so unseen test pixels cost finite nats. An empty component (Nₖ = 0) keeps its μ.
 */
export function bernoulliMixtureMStep(data: BinaryData, q: Responsibilities, previous: BernoulliMixture, pseudoCount = 0): BernoulliMixture {
  const { k, d } = previous;
  const counts = new Float64Array(k);
  const sums = new Float64Array(d * k); // [d, K]
  for (let i = 0; i < data.n; i++) {
    const r = q.values.subarray(i * k, (i + 1) * k);
    for (let c = 0; c < k; c++) counts[c]! += r[c]!;
    for (let a = data.offsets[i]!; a < data.offsets[i + 1]!; a++) {
      const off = data.active[a]! * k;
      for (let c = 0; c < k; c++) sums[off + c]! += r[c]!;
    }
  }
  const weights = counts.map((nk) => nk / data.n);
  const probs = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) {
      probs[c * d + j] = counts[c]! + 2 * pseudoCount > 0 ? (sums[j * k + c]! + pseudoCount) / (counts[c]! + 2 * pseudoCount) : previous.probs[c * d + j]!;
    }
  }
  return { weights, probs, k, d };
}

/** The Bernoulli-mixture family for {@link fitEm}, with pseudo-count α in its M-step. */
export const bernoulliMixtureFamily = (pseudoCount = 0): MixtureFamily<BernoulliMixture, BinaryData> => ({
  logJoint: bernoulliMixtureLogJoint,
  mStep: (data, q, previous) => bernoulliMixtureMStep(data, q, previous, pseudoCount),
});

/**
 * A starting point: equal weights, and component k's μ halfway between a distinct random example
 * and the data mean, kept in [0.05, 0.95] (so every component starts able to explain every image).
 */
export function initBernoulliMixture(data: BinaryData, k: number, rng: Generator): BernoulliMixture {
  if (!Number.isInteger(k) || k < 1 || k > data.n) throw new RangeError(`initBernoulliMixture: K must be an integer in [1, ${data.n}], got ${k}`);
  const { d } = data;
  const mean = new Float64Array(d);
  for (let i = 0; i < data.n * d; i++) mean[i % d]! += data.x[i]! / data.n;
  const picks = rng.permutation(data.n).slice(0, k);
  const probs = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) probs[c * d + j] = Math.min(0.95, Math.max(0.05, 0.5 * data.x[picks[c]! * d + j]! + 0.5 * mean[j]!));
  }
  return { weights: new Float64Array(k).fill(1 / k), probs, k, d };
}

/** Options of {@link fitBernoulliMixture}. */
export interface BernoulliMixtureOptions extends Omit<EmOptions, 'iterations'> {
  k: number;
  iterations?: number;
  /** α of the M-step (default 0.01: MAP under Beta(1.01, 1.01)). */
  pseudoCount?: number;
  seed?: number;
}

/** Fits a Bernoulli mixture by EM (default 50 iterations) from {@link initBernoulliMixture}. */
export function fitBernoulliMixture(data: BinaryData, options: BernoulliMixtureOptions): { model: BernoulliMixture; history: EmIteration[] } {
  const initial = initBernoulliMixture(data, options.k, new Generator(options.seed ?? 0));
  const { model, history } = fitEm(bernoulliMixtureFamily(options.pseudoCount ?? 0.01), data, initial, { ...options, iterations: options.iterations ?? 50 });
  return { model, history };
}

/** ln p(xₙ) under the mixture, per example, in nats. */
export const bernoulliMixtureLogProb = (model: BernoulliMixture, data: BinaryData): Float64Array => logMarginals(bernoulliMixtureLogJoint(model, data));
