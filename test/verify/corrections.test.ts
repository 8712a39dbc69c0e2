import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/engine.js';
import { gaussianNll } from '../../src/autograd/ops.js';
import { tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { elbo } from '../../src/vae/elbo.js';
import { gaussianLogProb } from '../../src/vae/likelihoods.js';
import { ascendPhi, logMarginalByQuadrature2d, randomLinearGaussian, sampleLinearGaussian } from '../../src/verify/identity.js';
import { LOG_2PI } from '../../src/autograd/ops.js';
import { matvec, type Vector } from '../../src/verify/linalg.js';
import { LinearGaussianVAE, runLinearVae } from '../../src/verify/linear-vae.js';
import { expectedLogLikelihood, gaussianElbo, klGaussians, type LinearGaussian, logMarginal, posterior, standardNormal } from '../../src/verify/ppca.js';
import { meanAndStandardError } from '../../src/verify/rows.js';

/**
 * The seven slips in the study notes the project grew from, each shown numerically
 * (docs/corrections.md states the corrected versions and links here).
 */

const logLik = (m: LinearGaussian, x: Vector, z: Vector): number => {
  const mean = matvec(m.weight, z).map((v, i) => v + m.bias[i]!);
  return -0.5 * x.reduce((s, v, i) => s + LOG_2PI + Math.log(m.noiseVar) + (v - mean[i]!) ** 2 / m.noiseVar, 0);
};
const logPrior = (z: Vector): number => -0.5 * z.reduce((s, v) => s + LOG_2PI + v * v, 0);
const q2 = { mean: [0.4, -0.3], cov: [[0.3, 0], [0, 0.6]] };
const drawQ = (rng: Generator): Vector => q2.mean.map((m, i) => m + Math.sqrt(q2.cov[i]![i]!) * rng.normal());
const logQ = (z: Vector): number => z.reduce((s, v, i) => s - 0.5 * (LOG_2PI + Math.log(q2.cov[i]![i]!) + (v - q2.mean[i]!) ** 2 / q2.cov[i]![i]!), 0);

describe('slip 1: a directed model’s joint is a product over nodes, not a sum', () => {
  it('two binary nodes z → x: Π of the factors sums to 1 over all configurations; the sum of the factors sums to 4', () => {
    const pz = [0.3, 0.7];
    const px = [[0.9, 0.1], [0.2, 0.8]]; // p(x | z), rows z
    let product = 0;
    let sumOfFactors = 0;
    for (const z of [0, 1]) for (const x of [0, 1]) {
      product += pz[z]! * px[z]![x]!;
      sumOfFactors += pz[z]! + px[z]![x]!;
    }
    expect(product).toBeCloseTo(1, 15);
    expect(sumOfFactors).toBeCloseTo(4, 15);
  });

  it('∫ p(z)·p(x|z) dz by quadrature equals the closed-form marginal p(x) of the linear-Gaussian model', () => {
    const rng = new Generator(1);
    const m = randomLinearGaussian(6, 2, rng);
    const x = sampleLinearGaussian(m, rng);
    expect(Math.abs(logMarginalByQuadrature2d(m, x) - logMarginal(m, x))).toBeLessThan(1e-9);
  });
});

describe('slip 2: the reconstruction term is E_q[ln p(x|z)], not E_q[p(x|z)]', () => {
  it('ln p(x) = E_q[ln p(x|z)] − KL(q‖p(z)) + KL(q‖p(z|x)) holds; with E_q[p(x|z)] in its place it fails by nats', () => {
    const rng = new Generator(2);
    const m = randomLinearGaussian(6, 2, rng);
    const x = sampleLinearGaussian(m, rng);
    const kls = -klGaussians(q2, standardNormal(2)) + klGaussians(q2, posterior(m, x));
    expect(Math.abs(expectedLogLikelihood(m, x, q2) + kls - logMarginal(m, x))).toBeLessThan(1e-12);
    const draws = Array.from({ length: 20000 }, () => Math.exp(logLik(m, x, drawQ(rng))));
    const expectedDensity = draws.reduce((a, b) => a + b, 0) / draws.length; // E_q[p(x|z)], a density, not a log
    expect(Math.abs(expectedDensity + kls - logMarginal(m, x))).toBeGreaterThan(1);
  });
});

describe('slip 3: with θ fixed, raising the ELBO in φ moves q toward p(z|x), not toward the prior', () => {
  it('ln p(x) stays put, ELBO + KL(q‖p(z|x)) = ln p(x) at every step, KL(q‖p(z|x)) → 0 while KL(q‖p(z)) grows from 0', () => {
    const rng = new Generator(3);
    const base = randomLinearGaussian(5, 2, rng);
    // Orthogonal columns make p(z|x) diagonal, so a diagonal q can reach it.
    const weight = [[2, 0], [0, 1], [0, 0], [0, 0], [0, 0]];
    const m = { ...base, weight };
    const r = ascendPhi(m, sampleLinearGaussian(m, rng), 400);
    expect(r.worstIdentity).toBeLessThan(1e-9);
    expect(r.elboEnd).toBeGreaterThan(r.elboStart);
    expect(r.finalPosteriorKl).toBeLessThan(1e-9);
    expect(r.priorKlStart).toBe(0);
    expect(r.priorKlEnd).toBeGreaterThan(0.1);
  });
});

describe('slip 4: the recognition model q_φ(z|x) approximates the posterior p_θ(z|x)', () => {
  it('a trained linear VAE’s encoder is within 0.01 nats of the exact posterior, and far from the prior', () => {
    const r = runLinearVae({ examples: 300, steps: 800, draws: 100 });
    expect(r.posteriorKl).toBeLessThan(0.01);
    expect(r.priorKl).toBeGreaterThan(1);
  }, 60_000);
});

describe('slip 5: ln p(x) = ELBO + KL(q‖p(z|x)), ELBO = E_q[ln p(x, z) − ln q] = E_q[ln p(x|z)] − KL(q‖p(z))', () => {
  it('the three expressions of the ELBO agree, and the gap to ln p(x) is KL(q‖p(z|x)) (not KL(q‖p(x, z)))', () => {
    const rng = new Generator(5);
    const m = randomLinearGaussian(7, 2, rng);
    const x = sampleLinearGaussian(m, rng);
    const viaPrior = gaussianElbo(m, x, q2);
    const viaPosterior = logMarginal(m, x) - klGaussians(q2, posterior(m, x));
    expect(Math.abs(viaPrior - viaPosterior)).toBeLessThan(1e-12);
    const joint = Array.from({ length: 40000 }, () => {
      const z = drawQ(rng);
      return logLik(m, x, z) + logPrior(z) - logQ(z);
    });
    const { mean, se } = meanAndStandardError(joint);
    expect(Math.abs(mean - viaPrior)).toBeLessThan(4 * se);
    // "KL(q‖p(x, z))" = E_q[ln q − ln p(x, z)] is −ELBO, a different quantity from KL(q‖p(z|x)) ≥ 0.
    expect(-mean).toBeGreaterThan(klGaussians(q2, posterior(m, x)) + 1);
  });
});

describe('slip 6: ln p(x|z*) − KL with one draw z* = μ + σ ⊙ ε is an unbiased estimate of the ELBO, not the ELBO', () => {
  it('the engine’s one-draw elbo() averages to the closed-form ELBO, but single draws scatter by about a nat', () => {
    const model = new LinearGaussianVAE({ inputDim: 6, latentDim: 2, seed: 4 });
    const x = [0.5, -1, 2, 0, 0.3, 1.1];
    const q = model.recognition([x])[0]!;
    const exact = gaussianElbo(model.generativeModel(), x, q);
    const estimates = noGrad(() => elbo(model, tensor([x], { dtype: 'float64' }).expand([20000, 6]), { rng: new Generator(6) }).elbo);
    const { mean, se, sd } = meanAndStandardError(estimates.data);
    expect(Math.abs(mean - exact)).toBeLessThan(4 * se);
    expect(sd).toBeGreaterThan(0.1);
    const close = Array.from(estimates.data).filter((e) => Math.abs(e - exact) < 1e-3).length;
    expect(close / estimates.data.length).toBeLessThan(0.01);
  });
});

describe('slip 7: N(D(z), I) gives ln p(x|z) = −½‖x − D(z)‖² − (D/2) ln 2π; the constant matters for nats', () => {
  it('the engine keeps the constant; dropping it misreports ln p(x) by (D/2) ln 2π (720.45 nats for D = 784)', () => {
    const x = tensor([[0.2, -0.4, 1.5]], { dtype: 'float64' });
    const out = tensor([[0, 0.1, 1]], { dtype: 'float64' });
    const sq = 0.04 + 0.25 + 0.25;
    expect(gaussianLogProb(x, out, tensor(0, { dtype: 'float64' })).item()).toBeCloseTo(-0.5 * sq - 1.5 * LOG_2PI, 14);
    // With σ² = 1, the closed-form marginal (in nats) is matched by the quadrature of the full density only.
    const rng = new Generator(7);
    const m = { ...randomLinearGaussian(4, 2, rng), noiseVar: 1 };
    const xv = sampleLinearGaussian(m, rng);
    const exact = logMarginal(m, xv);
    expect(Math.abs(logMarginalByQuadrature2d(m, xv) - exact)).toBeLessThan(1e-9);
    // PyTorch-style NLL without the constant (full: false) differs by exactly (D/2) ln 2π per example:
    // a "log-likelihood" reported from it is too high by that much.
    const mu = tensor([matvec(m.weight, [0.1, -0.2]).map((v, i) => v + m.bias[i]!)], { dtype: 'float64' });
    const xt = tensor([xv], { dtype: 'float64' });
    const zero = tensor(0, { dtype: 'float64' });
    const dropped = -gaussianNll(xt, mu, zero, { full: false, reduction: 'sum' }).item();
    const full = gaussianLogProb(xt, mu, zero).item();
    expect(dropped - full).toBeCloseTo(2 * LOG_2PI, 12);
    expect((784 / 2) * LOG_2PI).toBeCloseTo(720.45, 2);
  });
});
