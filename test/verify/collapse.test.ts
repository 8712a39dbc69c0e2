import { describe, expect, it } from 'vitest';
import { formatCollapse } from '../../src/cli/collapse.js';
import { ACTIVE_UNIT_THRESHOLD, collapseData, collapsePicture, latentUsage, runCollapse } from '../../src/verify/collapse.js';
import { VAE } from '../../src/vae/model.js';

describe('posterior collapse and β (elbo collapse)', () => {
  it('trains each β with and without warm-up, and a larger β buys a smaller KL', () => {
    const runs = runCollapse({ betas: [0.5, 4], warmupEpochs: 1, epochs: 2, trainImages: 400, testImages: 100, latentDim: 4, hiddenDims: [16] });
    expect(runs.map((r) => [r.beta, r.warmupEpochs])).toEqual([
      [0.5, 0],
      [4, 0],
      [0.5, 1],
      [4, 1],
    ]);
    for (const r of runs) {
      expect(r.elbo).toBeCloseTo(r.reconstruction - r.kl, 3); // float32 sums
      expect(r.activeUnits).toBe(r.codeVariance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length);
      expect(r.klPerDimension.reduce((a, b) => a + b, 0)).toBeCloseTo(r.kl, 3);
    }
    expect(runs[1]!.kl).toBeLessThan(runs[0]!.kl);
    expect(runs[3]!.kl).toBeLessThan(runs[2]!.kl);
    const table = formatCollapse(runs, 4);
    expect(table.split('\n')[0]).toMatch(/beta +warm-up +ELBO +reconstruction +KL +active units +KL > 0.1 nat/);
    const picture = collapsePicture(runs, collapseData(400, 100).test);
    expect(picture.channels).toBe(3);
    expect(picture.data.length).toBe(picture.width * picture.height * 3);
    expect(picture.width).toBeGreaterThan(2 * picture.height * 0.5);
  }, 120_000);

  it('a latent dimension the encoder ignores is inactive and costs no KL', () => {
    const model = new VAE({ inputDim: 784, hiddenDims: [], latentDim: 2, dtype: 'float64', seed: 1 });
    // Dimension 1: μ = 0 and log σ² = 0 for every x, i.e. q(z₁|x) = p(z₁).
    for (const head of [model.mu, model.logVar]) {
      head.weight.data.fill(0, 784, 2 * 784);
      head.bias!.data[1] = 0;
    }
    const usage = latentUsage(model, collapseData(10, 50).test);
    expect(usage.codeVariance[0]!).toBeGreaterThan(ACTIVE_UNIT_THRESHOLD);
    expect(usage.codeVariance[1]).toBe(0);
    expect(usage.klPerDimension[1]).toBe(0);
  });
});
