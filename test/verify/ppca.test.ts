import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/tensor/random.js';
import { randomLinearGaussian, sampleLinearGaussian } from '../../src/verify/identity.js';
import { LOG_2PI } from '../../src/autograd/ops.js';
import { logNormalDensity, matmul, matvec, transpose } from '../../src/verify/linalg.js';
import {
  expectedLogLikelihood,
  gaussianElbo,
  klGaussians,
  type LinearGaussian,
  logMarginal,
  meanLogMarginal,
  posterior,
  ppcaMaximumLikelihood,
  standardNormal,
} from '../../src/verify/ppca.js';

const logLik = (m: LinearGaussian, x: number[], z: number[]): number => {
  const mean = matvec(m.weight, z).map((v, i) => v + m.bias[i]!);
  return -0.5 * x.reduce((s, v, i) => s + LOG_2PI + Math.log(m.noiseVar) + (v - mean[i]!) ** 2 / m.noiseVar, 0);
};
const logPrior = (z: number[]): number => -0.5 * z.reduce((s, v) => s + LOG_2PI + v * v, 0);

describe('the linear-Gaussian (PPCA) closed forms', () => {
  const rng = new Generator(3);

  it('posterior and marginal satisfy Bayes’ rule at every z: ln p(z|x) = ln p(z) + ln p(x|z) − ln p(x)', () => {
    for (let t = 0; t < 10; t++) {
      const m = randomLinearGaussian(4 + t, 1 + (t % 3), rng);
      const x = sampleLinearGaussian(m, rng);
      const post = posterior(m, x);
      for (let s = 0; s < 5; s++) {
        const z = post.mean.map(() => 2 * rng.normal());
        expect(logNormalDensity(z, post.mean, post.cov)).toBeCloseTo(logPrior(z) + logLik(m, x, z) - logMarginal(m, x), 9);
      }
    }
  });

  it('E_q[ln p(x|z)] in closed form equals its Monte Carlo average within 4 standard errors', () => {
    const m = randomLinearGaussian(5, 2, rng);
    const x = sampleLinearGaussian(m, rng);
    const q = {
      mean: [0.3, -0.8],
      cov: [
        [0.5, 0.1],
        [0.1, 0.2],
      ],
    };
    const l = [
      [Math.sqrt(0.5), 0],
      [0.1 / Math.sqrt(0.5), Math.sqrt(0.2 - 0.01 / 0.5)],
    ];
    const n = 20000;
    const draws = Array.from({ length: n }, () => {
      const e = [rng.normal(), rng.normal()];
      return logLik(
        m,
        x,
        matvec(l, e).map((v, i) => v + q.mean[i]!),
      );
    });
    const mean = draws.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - expectedLogLikelihood(m, x, q))).toBeLessThan((4 * sd) / Math.sqrt(n));
  });

  it('KL(q‖q) = 0, KL ≥ 0, and the ELBO never exceeds ln p(x)', () => {
    for (let t = 0; t < 20; t++) {
      const m = randomLinearGaussian(6, 2, rng);
      const x = sampleLinearGaussian(m, rng);
      const a = [
        [rng.normal(), rng.normal()],
        [rng.normal(), rng.normal()],
      ];
      const q = { mean: [rng.normal(), rng.normal()], cov: matmul(a, transpose(a)).map((r, i) => r.map((v, j) => v + (i === j ? 0.1 : 0))) };
      expect(Math.abs(klGaussians(q, q))).toBeLessThan(1e-12);
      expect(klGaussians(q, standardNormal(2))).toBeGreaterThanOrEqual(0);
      expect(gaussianElbo(m, x, q)).toBeLessThanOrEqual(logMarginal(m, x));
    }
  });

  it('the Tipping–Bishop maximum: its eigenvalue formula equals ln p(x) evaluated at (W_ML, b, σ²_ML)', () => {
    const truth = randomLinearGaussian(8, 3, rng);
    const data = Array.from({ length: 400 }, () => sampleLinearGaussian(truth, rng));
    const fit = ppcaMaximumLikelihood(data, 2);
    expect(meanLogMarginal(fit.model, data)).toBeCloseTo(fit.meanLogLikelihood, 10);
    expect(fit.model.noiseVar).toBeCloseTo(fit.eigenvalues.slice(2).reduce((a, b) => a + b, 0) / 6, 12);
    const direct = data.reduce((s, x) => s + logMarginal(fit.model, x), 0) / data.length;
    expect(direct).toBeCloseTo(fit.meanLogLikelihood, 10);
  });

  it('the Tipping–Bishop fit is a maximum: perturbing W, b or σ² lowers the likelihood', () => {
    const truth = randomLinearGaussian(6, 2, rng);
    const data = Array.from({ length: 300 }, () => sampleLinearGaussian(truth, rng));
    const fit = ppcaMaximumLikelihood(data, 2);
    const best = meanLogMarginal(fit.model, data);
    for (let t = 0; t < 30; t++) {
      const d = 1e-3;
      const w = fit.model.weight.map((row) => row.map((v) => v + d * rng.normal()));
      const b = fit.model.bias.map((v) => v + d * rng.normal());
      const noiseVar = fit.model.noiseVar * (1 + d * rng.normal());
      expect(meanLogMarginal({ weight: w, bias: b, noiseVar }, data)).toBeLessThan(best);
    }
  });

  it('rejects a latent dimension that is not below D', () => {
    expect(() =>
      ppcaMaximumLikelihood(
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
    ).toThrow(/latentDim < D = 2/);
  });
});
