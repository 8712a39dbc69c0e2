import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/engine.js';
import { tensor } from '../../src/tensor/create.js';
import { elbo } from '../../src/vae/elbo.js';
import { FixedPosterior } from '../../src/vae/gaps.js';
import { klStandardNormal } from '../../src/vae/kl.js';
import { bernoulliLogProb, gaussianLogProb } from '../../src/vae/likelihoods.js';
import { VAE } from '../../src/vae/model.js';
import { expectedLogLikelihood, gaussianElbo, klGaussians, type LinearGaussian, logMarginal, posterior, standardNormal } from '../../src/verify/ppca.js';

/**
 * The numbers of docs/worked-example.md and docs/learning.md, recomputed: the worked 1-D example
 * by the engine and by the closed forms, every exercise's answer, and maximum likelihood as
 * minimum KL(p̂ ‖ p_θ).
 */

const f64 = (values: number[][] | number[] | number) => tensor(values as number[][], { dtype: 'float64' });
const model1d: LinearGaussian = { weight: [[1]], bias: [0], noiseVar: 1 };
const x = [2];
const q = { mean: [0.5], cov: [[0.25]] };

/** The worked example as the engine's VAE: 1 → 1, no hidden layers, N(z, 1) likelihood. */
function engineModel(): VAE {
  const vae = new VAE({ inputDim: 1, latentDim: 1, hiddenDims: [], likelihood: 'gaussian', sigma: 1, dtype: 'float64', seed: 0 });
  vae.output.weight.data.set([1]);
  vae.output.bias!.data.set([0]);
  return vae;
}

describe('the worked example: p(z) = N(0, 1), p(x|z) = N(z, 1), x = 2, q = N(0.5, 0.25)', () => {
  it('ln p(x) = −½ ln 4π − 1 = −2.2655 and the posterior is N(1, ½)', () => {
    expect(logMarginal(model1d, x)).toBeCloseTo(-2.2655, 4);
    expect(logMarginal(model1d, x)).toBeCloseTo(-0.5 * Math.log(4 * Math.PI) - 1, 12);
    const post = posterior(model1d, x);
    expect(post.mean[0]).toBeCloseTo(1, 12);
    expect(post.cov[0]![0]).toBeCloseTo(0.5, 12);
  });

  it('reconstruction −2.1689, KL 0.4431, ELBO −2.6121, gap ½ ln 2 = 0.3466, and ELBO + gap = ln p(x)', () => {
    expect(expectedLogLikelihood(model1d, x, q)).toBeCloseTo(-2.1689, 4);
    const kl = klStandardNormal(f64([0.5]), f64([Math.log(0.25)])).item();
    expect(kl).toBeCloseTo(0.4431, 4);
    expect(gaussianElbo(model1d, x, q)).toBeCloseTo(-2.6121, 4);
    expect(klGaussians(q, posterior(model1d, x))).toBeCloseTo(0.5 * Math.LN2, 12);
    expect(gaussianElbo(model1d, x, q) + klGaussians(q, posterior(model1d, x))).toBeCloseTo(logMarginal(model1d, x), 12);
  });

  it('the engine’s elbo at ε = +1 and −1 gives −1.8621 (above ln p(x)) and −3.3621; their mean is the ELBO', () => {
    const vae = engineModel();
    const fixed = new FixedPosterior(vae, f64([[0.5]]), f64([[Math.log(0.25)]]));
    const at = (eps: number): number => noGrad(() => elbo(fixed, f64([[2]]), { eps: f64([[eps]]) }).elbo.item());
    expect(at(1)).toBeCloseTo(-1.8621, 4);
    expect(at(-1)).toBeCloseTo(-3.3621, 4);
    expect(at(1)).toBeGreaterThan(logMarginal(model1d, x));
    expect((at(1) + at(-1)) / 2).toBeCloseTo(gaussianElbo(model1d, x, q), 12);
  });
});

describe('the exercises’ answers', () => {
  it('1: KL(N(1, 1) ‖ N(0, 1)) = 0.5', () => {
    expect(klStandardNormal(f64([1]), f64([0])).item()).toBeCloseTo(0.5, 12);
  });

  it('2: the ELBO is largest at q = N(1, ½), where it equals ln p(x): reconstruction −1.6689, KL 0.5966', () => {
    const best = posterior(model1d, x);
    expect(expectedLogLikelihood(model1d, x, best)).toBeCloseTo(-1.6689, 4);
    expect(klStandardNormal(f64([1]), f64([Math.log(0.5)])).item()).toBeCloseTo(0.5966, 4);
    expect(gaussianElbo(model1d, x, best)).toBeCloseTo(-2.2655, 4);
    for (const [m, s2] of [
      [0.9, 0.5],
      [1.1, 0.5],
      [1, 0.4],
      [1, 0.6],
      [0.5, 0.25],
    ] as const) {
      expect(gaussianElbo(model1d, x, { mean: [m], cov: [[s2]] })).toBeLessThan(gaussianElbo(model1d, x, best));
    }
  });

  it('4: KL(N(0, 4) ‖ N(0, 1)) = 0.8069, KL(N(0, 1) ‖ N(0, 4)) = 0.3181', () => {
    expect(klStandardNormal(f64([0]), f64([Math.log(4)])).item()).toBeCloseTo(0.8069, 4);
    expect(klGaussians({ mean: [0], cov: [[1]] }, { mean: [0], cov: [[4]] })).toBeCloseTo(0.3181, 4);
  });

  it('5: a Bernoulli decoder with probabilities (0.8, 0.3) gives ln p((1, 0) | z) = −0.5798', () => {
    expect(bernoulliLogProb(f64([[1, 0]]), f64([[Math.log(4), Math.log(3 / 7)]])).item()).toBeCloseTo(-0.5798, 4);
  });

  it('6 and 7: 8000 / 128 = 62.5 and ln 2000 = 7.60', () => {
    expect(8000 / 128).toBe(62.5);
    expect(Math.log(2000)).toBeCloseTo(7.6, 2);
  });

  it('8: with p(x|z) = N(z/2, 1) and q its posterior, ELBO = ln p(x) = −2.6305, above the prior-as-q ELBO −3.4189 of the first model', () => {
    const half: LinearGaussian = { weight: [[0.5]], bias: [0], noiseVar: 1 };
    expect(logMarginal(half, x)).toBeCloseTo(-2.6305, 4);
    expect(gaussianElbo(half, x, posterior(half, x))).toBeCloseTo(-2.6305, 4);
    expect(gaussianElbo(model1d, x, standardNormal(1))).toBeCloseTo(-3.4189, 4);
  });
});

describe('maximum likelihood = minimum KL(p̂ ‖ p_θ)', () => {
  it('for a categorical p̂ and many θ: mean log-likelihood + KL(p̂ ‖ p_θ) = −H(p̂), so the best θ is p̂ itself', () => {
    const data = [0, 0, 1, 2, 2, 2, 1, 0, 2, 2];
    const counts = [0, 1, 2].map((k) => data.filter((d) => d === k).length / data.length);
    const entropy = -counts.reduce((s, p) => s + p * Math.log(p), 0);
    let best = -Infinity;
    let bestTheta: number[] = [];
    for (let a = 1; a < 20; a++)
      for (let b = 1; a + b < 20; b++) {
        const theta = [a / 20, b / 20, (20 - a - b) / 20];
        const meanLogLik = data.reduce((s, d) => s + Math.log(theta[d]!), 0) / data.length;
        const kl = counts.reduce((s, p, k) => s + p * Math.log(p / theta[k]!), 0);
        expect(meanLogLik + kl).toBeCloseTo(-entropy, 12);
        if (meanLogLik > best) [best, bestTheta] = [meanLogLik, theta];
      }
    expect(bestTheta).toEqual(counts);
    expect(best).toBeCloseTo(-entropy, 12);
  });

  it('the same for a Gaussian model by the engine: the mean of gaussianLogProb is largest at the sample mean', () => {
    const points = f64([[0.3], [1.9], [-0.7], [1.1]]);
    const at = (mu: number): number =>
      noGrad(() =>
        gaussianLogProb(points, f64([[mu]]).expand([4, 1]), f64(0))
          .mean()
          .item(),
      );
    const sampleMean = (0.3 + 1.9 - 0.7 + 1.1) / 4;
    for (const d of [-0.5, -0.1, 0.1, 0.5]) expect(at(sampleMean + d)).toBeLessThan(at(sampleMean));
  });
});
