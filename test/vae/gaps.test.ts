import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { aggregatePosteriorSplit, FixedPosterior, inferenceGaps, optimizePosterior } from '../../src/vae/gaps.js';
import { oneHot, VAE } from '../../src/vae/model.js';
import { type ConditionalLinearGaussian, givenClass, linearCvae, sampleConditional } from '../../src/verify/conditional.js';
import { orthogonalColumnsModel } from '../../src/verify/identity.js';
import { posterior } from '../../src/verify/ppca.js';

describe('aggregate posterior split: E KL(q(z|x) ‖ p(z)) = I(x; z) + KL(q(z) ‖ p(z))', () => {
  const x = tensor(
    Array.from({ length: 40 }, (_, i) => Array.from({ length: 6 }, (_, j) => ((i * 7 + j * 3) % 5) / 4)),
    { dtype: 'float64' },
  );

  it('an encoder that ignores x carries no information: I = 0 and the KL is all KL(q(z) ‖ p(z))', () => {
    const model = new VAE({ inputDim: 6, hiddenDims: [4], latentDim: 2, dtype: 'float64', seed: 3 });
    for (const [name, p] of model.namedParameters()) if (name.startsWith('encoder.')) p.data.fill(0);
    const split = aggregatePosteriorSplit(model, x, { draws: 200, seed: 1 });
    expect(Math.abs(split.mutualInformation)).toBeLessThan(1e-12);
    expect(split.marginalKl).toBeCloseTo(split.meanKl, 1);
  });

  it('a random encoder: the draws reproduce the closed-form KL, and 0 ≤ I ≤ ln N', () => {
    const model = new VAE({ inputDim: 6, hiddenDims: [8], latentDim: 2, dtype: 'float64', seed: 5 });
    const split = aggregatePosteriorSplit(model, x, { draws: 400, seed: 2 });
    expect(split.meanKlSampled).toBeCloseTo(split.meanKl, 1);
    expect(split.mutualInformation).toBeGreaterThan(0);
    expect(split.mutualInformation).toBeLessThanOrEqual(Math.log(40));
    expect(split.mutualInformation + split.marginalKl).toBeCloseTo(split.meanKlSampled, 12);
  });
});

describe('amortization gap: q fitted per example, decoder fixed', () => {
  // A linear-Gaussian decoder with orthogonal columns: the exact posterior is a diagonal
  // Gaussian, so the per-example optimum over q is known in closed form.
  const rng = new Generator(7);
  const base = orthogonalColumnsModel(5, 2, rng);
  const m: ConditionalLinearGaussian = { ...base, classWeight: base.bias.map(() => [0]) };
  const encoderWeight = [
    [0.3, -0.2, 0.1, 0, 0.5, 0],
    [0.1, 0.4, -0.3, 0.2, 0, 0],
  ];
  const model = linearCvae(m, encoderWeight, [0.5, -0.5], [0, 0]).given(oneHot([0, 0, 0, 0], 1, 'float64'));
  const xs = [0, 0, 0, 0].map(() => sampleConditional(m, 0, rng));
  const x = tensor(xs, { dtype: 'float64' });

  // Adam with one-draw gradients ends within a few steps (lr = 0.02) of the optimum, not on it.
  it('Adam on (μ, ln σ²) reaches the exact posterior of each example', () => {
    const q = optimizePosterior(model, x, { steps: 1500, lr: 0.02, rng: new Generator(1) });
    xs.forEach((xn, n) => {
      const exact = posterior(givenClass(m, 0), xn);
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(q.mu.data[n * 2 + j]! - exact.mean[j]!)).toBeLessThan(0.1);
        expect(Math.abs(q.logVar.data[n * 2 + j]! - Math.log(exact.cov[j]![j]!))).toBeLessThan(0.2);
      }
    });
  });

  it('the gaps: a poor encoder leaves an amortization gap; the fitted q closes the approximation gap', () => {
    const gaps = inferenceGaps(model, x, { steps: 1500, lr: 0.02, draws: 2000, k: 2000, seed: 3 });
    expect(gaps.amortizationGap).toBeGreaterThan(1);
    expect(Math.abs(gaps.approximationGap)).toBeLessThan(0.1);
  });

  it('FixedPosterior refuses an x of another batch size', () => {
    const q = new FixedPosterior(model, tensor([[0, 0]], { dtype: 'float64' }), tensor([[0, 0]], { dtype: 'float64' }));
    expect(() => q.encode(x)).toThrow('FixedPosterior.encode: q holds 1 examples, x has 4');
  });
});
