import { describe, expect, it } from 'vitest';
import {
  binaryData,
  bernoulliMixtureFamily,
  bernoulliMixtureLogJoint,
  bernoulliMixtureMStep,
  fitBernoulliMixture,
  initBernoulliMixture,
  type BernoulliMixture,
} from '../../src/baselines/bernoulli-mixture.js';
import { dampedEStep, exactPosterior, fitEm, logMarginals, mixtureElbo, type Responsibilities, totalLogLikelihood } from '../../src/baselines/em.js';
import { gaussianMixtureFamily, gaussianMixtureLogJoint, initGaussianMixture, sampleGaussianMixture } from '../../src/baselines/gaussian-mixture.js';
import { Generator } from '../../src/tensor/random.js';
import { logNormalDensity } from '../../src/verify/linalg.js';

/** n random binary rows of d pixels, each pixel on with probability p. */
function randomBinary(n: number, d: number, p: number, rng: Generator): Float64Array {
  return Float64Array.from({ length: n * d }, () => (rng.uniform() < p ? 1 : 0));
}

/** ln πₖ + Σᵈ ln Bernoulli(xᵈ; μₖᵈ), the definition, term by term. */
function bruteLogJoint(model: BernoulliMixture, x: Float64Array, i: number, c: number): number {
  let s = Math.log(model.weights[c]!);
  for (let j = 0; j < model.d; j++) s += x[i * model.d + j] === 1 ? Math.log(model.probs[c * model.d + j]!) : Math.log(1 - model.probs[c * model.d + j]!);
  return s;
}

describe('Bernoulli mixture', () => {
  const rng = new Generator(3);
  const x = randomBinary(40, 12, 0.3, rng);
  const data = binaryData(x, 40, 12);

  it('ln πₖ p(x|k) by the sparse formula equals the term-by-term definition', () => {
    const model = initBernoulliMixture(data, 4, new Generator(1));
    const joint = bernoulliMixtureLogJoint(model, data);
    for (let i = 0; i < 40; i++) for (let c = 0; c < 4; c++) expect(joint.values[i * 4 + c]).toBeCloseTo(bruteLogJoint(model, x, i, c), 10);
  });

  it('with μ at exactly 0 or 1 a pixel the component cannot produce gives −∞, not NaN', () => {
    const model: BernoulliMixture = { weights: Float64Array.from([0.5, 0.5]), probs: new Float64Array(24).fill(0), k: 2, d: 12 };
    model.probs.fill(1, 12, 24);
    const joint = bernoulliMixtureLogJoint(model, binaryData(new Float64Array(12), 1, 12));
    expect(joint.values[0]).toBeCloseTo(Math.log(0.5), 12);
    expect(joint.values[1]).toBe(-Infinity);
  });

  it('the ML M-step sets μ to the responsibility-weighted pixel means and π to Nₖ/N', () => {
    const q: Responsibilities = { values: Float64Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? 0.25 : 0.75)), n: 40, k: 2 };
    const m = bernoulliMixtureMStep(data, q, initBernoulliMixture(data, 2, new Generator(1)), 0);
    expect(Array.from(m.weights)).toEqual([0.25, 0.75]);
    let ones = 0;
    for (let i = 0; i < 40; i++) ones += x[i * 12 + 5]!;
    expect(m.probs[5]).toBeCloseTo(ones / 40, 12);
  });

  it('rejects non-binary data, naming the position', () => {
    expect(() => binaryData(Float64Array.from([0, 0.5]), 1, 2)).toThrow(/value 0.5 at row 0, column 1/);
  });

  it('EM: after each exact E-step F = ln p(X), and ln p(X) never decreases (ML and MAP)', () => {
    for (const alpha of [0, 0.5]) {
      const { history } = fitEm(bernoulliMixtureFamily(alpha), data, initBernoulliMixture(data, 3, new Generator(2)), { iterations: 15 });
      for (const h of history) expect(Math.abs(h.elboAfterE - h.logLikelihoodBefore)).toBeLessThan(1e-9);
      if (alpha === 0) for (const h of history) expect(h.logLikelihoodAfter).toBeGreaterThanOrEqual(h.logLikelihoodBefore - 1e-9);
      for (const h of history) expect(h.elboAfterM).toBeGreaterThanOrEqual(h.elboAfterE - 1e-9);
    }
  });

  it('a damped E-step leaves a gap: F < ln p(X) after the E-step', () => {
    const { history } = fitEm(bernoulliMixtureFamily(0), data, initBernoulliMixture(data, 3, new Generator(2)), { iterations: 5, eStep: dampedEStep(0.5) });
    expect(history.slice(1).some((h) => h.logLikelihoodBefore - h.elboAfterE > 1e-3)).toBe(true);
  });

  it('fits structured data better than one component does', () => {
    const structured = new Float64Array(60 * 12);
    for (let i = 0; i < 60; i++)
      for (let j = 0; j < 12; j++) structured[i * 12 + j] = (i % 2 === 0) === j < 6 ? (rng.uniform() < 0.9 ? 1 : 0) : rng.uniform() < 0.1 ? 1 : 0;
    const d2 = binaryData(structured, 60, 12);
    const one = fitBernoulliMixture(d2, { k: 1, iterations: 5 }).history.at(-1)!.logLikelihoodAfter;
    const two = fitBernoulliMixture(d2, { k: 2, iterations: 30, seed: 1 }).history.at(-1)!.logLikelihoodAfter;
    expect(two).toBeGreaterThan(one + 60 * 2);
  });
});

describe('the ELBO of a mixture', () => {
  it('F(q) = ln p(X) − Σ KL(q ‖ p(k|x)) for any q, and F(posterior) = ln p(X)', () => {
    const rng = new Generator(5);
    const truth = {
      weights: [0.3, 0.7],
      means: [
        [0, 0],
        [3, 1],
      ],
      covs: [
        [
          [1, 0.3],
          [0.3, 0.5],
        ],
        [
          [0.6, 0],
          [0, 1.2],
        ],
      ],
    };
    const data = sampleGaussianMixture(truth, 50, rng);
    const joint = gaussianMixtureLogJoint(truth, data);
    const post = exactPosterior(joint);
    expect(mixtureElbo(joint, post)).toBeCloseTo(totalLogLikelihood(joint), 9);
    const q: Responsibilities = { values: Float64Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 0.9 : 0.1)), n: 50, k: 2 };
    let kl = 0;
    for (let i = 0; i < 100; i++) kl += q.values[i]! * Math.log(q.values[i]! / post.values[i]!);
    expect(mixtureElbo(joint, q)).toBeCloseTo(totalLogLikelihood(joint) - kl, 9);
    expect(kl).toBeGreaterThan(0);
  });

  it('the Gaussian log-joint is ln π + the textbook density, ½ ln 2π included', () => {
    const model = {
      weights: [0.4, 0.6],
      means: [
        [1, -1],
        [0, 2],
      ],
      covs: [
        [
          [2, 0.5],
          [0.5, 1],
        ],
        [
          [1, 0],
          [0, 3],
        ],
      ],
    };
    const x = [
      [0.3, 0.1],
      [-1, 2],
    ];
    const joint = gaussianMixtureLogJoint(model, x);
    for (let i = 0; i < 2; i++)
      for (let c = 0; c < 2; c++)
        expect(joint.values[i * 2 + c]).toBeCloseTo(Math.log(model.weights[c]!) + logNormalDensity(x[i]!, model.means[c]!, model.covs[c]!), 12);
    expect(logMarginals(joint)[0]).toBeCloseTo(
      Math.log(0.4 * Math.exp(logNormalDensity(x[0]!, [1, -1], model.covs[0]!)) + 0.6 * Math.exp(logNormalDensity(x[0]!, [0, 2], model.covs[1]!))),
      12,
    );
  });

  it('Gaussian EM recovers well separated components and never lowers ln p(X)', () => {
    const rng = new Generator(7);
    const truth = {
      weights: [0.5, 0.5],
      means: [
        [-4, 0],
        [4, 0],
      ],
      covs: [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [0, 1],
        ],
      ],
    };
    const data = sampleGaussianMixture(truth, 400, rng);
    const { model, history } = fitEm(gaussianMixtureFamily, data, initGaussianMixture(data, 2, new Generator(1)), { iterations: 40 });
    for (const h of history) expect(h.logLikelihoodAfter).toBeGreaterThanOrEqual(h.logLikelihoodBefore - 1e-9);
    const xs = model.means.map((m) => m[0]!).sort((a, b) => a - b);
    expect(xs[0]).toBeCloseTo(-4, 0);
    expect(xs[1]).toBeCloseTo(4, 0);
  });
});
