import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { randn, tensor, rand } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { elbo, klWeight } from '../../src/vae/elbo.js';
import { klMonteCarlo, klStandardNormal, klStandardNormalPerDimension } from '../../src/vae/kl.js';
import { LIKELIHOODS } from '../../src/vae/likelihoods.js';
import { VAE } from '../../src/vae/model.js';
import { fcOptions } from '../helpers.js';

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const LOG_2PI = Math.log(2 * Math.PI);

describe('the ELBO of a tiny VAE, derived by hand', () => {
  // No hidden layers: μ = W_μ x + b_μ, logVar = W_v x + b_v, z = μ + e^{logVar/2} ε, ℓ = W_o z + b_o.
  const model = new VAE({ inputDim: 3, hiddenDims: [], latentDim: 2, dtype: 'float64', seed: 7 });
  const x = tensor(
    [
      [0, 1, 0.5],
      [1, 0.25, 0],
    ],
    { dtype: 'float64' },
  );
  const eps = tensor(
    [
      [0.3, -1.2],
      [0.8, 0.1],
    ],
    { dtype: 'float64' },
  );
  const P = Object.fromEntries(model.namedParameters()) as Record<string, Tensor>;
  const W = (name: string, i: number, j: number, cols: number): number => P[name]!.data[i * cols + j]!;

  it('names its parameters in the documented order', () => {
    expect([...model.namedParameters()].map(([n, p]) => `${n} [${p.shape}]`)).toEqual([
      'mu.weight [2,3]',
      'mu.bias [2]',
      'logVar.weight [2,3]',
      'logVar.bias [2]',
      'output.weight [3,2]',
      'output.bias [3]',
    ]);
  });

  it('loss and every parameter gradient equal the hand computation (1e-10)', () => {
    const B = 2,
      D = 3,
      L = 2;
    const grads: Record<string, Float64Array> = Object.fromEntries([...model.namedParameters()].map(([n, p]) => [n, new Float64Array(p.numel())]));
    let total = 0;
    for (let b = 0; b < B; b++) {
      const xb = [0, 1, 2].map((j) => x.data[b * D + j]!);
      const mu = [0, 1].map((l) => P['mu.bias']!.data[l]! + xb.reduce((s, v, j) => s + W('mu.weight', l, j, D) * v, 0));
      const lv = [0, 1].map((l) => P['logVar.bias']!.data[l]! + xb.reduce((s, v, j) => s + W('logVar.weight', l, j, D) * v, 0));
      const e = [0, 1].map((l) => eps.data[b * L + l]!);
      const z = mu.map((m, l) => m + Math.exp(lv[l]! / 2) * e[l]!);
      const logit = [0, 1, 2].map((j) => P['output.bias']!.data[j]! + z.reduce((s, v, l) => s + W('output.weight', j, l, L) * v, 0));
      const recon = logit.reduce((s, t, j) => s + xb[j]! * Math.log(sig(t)) + (1 - xb[j]!) * Math.log(1 - sig(t)), 0);
      const kl = 0.5 * mu.reduce((s, m, l) => s + m * m + Math.exp(lv[l]!) - 1 - lv[l]!, 0);
      total += -(recon - kl) / B;
      // Backward by hand: ∂loss/∂ℓ = (σ(ℓ) − x)/B; ∂/∂z = W_oᵀ·that; ∂/∂μ = ∂z + μ/B; ∂/∂logVar = ∂z·½σε + ½(e^logVar − 1)/B.
      const dLogit = logit.map((t, j) => (sig(t) - xb[j]!) / B);
      dLogit.forEach((d, j) => {
        grads['output.bias']![j]! += d;
        z.forEach((zl, l) => (grads['output.weight']![j * L + l]! += d * zl));
      });
      const dz = [0, 1].map((l) => dLogit.reduce((s, d, j) => s + d * W('output.weight', j, l, L), 0));
      const dMu = dz.map((d, l) => d + mu[l]! / B);
      const dLv = dz.map((d, l) => d * 0.5 * Math.exp(lv[l]! / 2) * e[l]! + (0.5 * (Math.exp(lv[l]!) - 1)) / B);
      for (let l = 0; l < L; l++) {
        grads['mu.bias']![l]! += dMu[l]!;
        grads['logVar.bias']![l]! += dLv[l]!;
        xb.forEach((v, j) => {
          grads['mu.weight']![l * D + j]! += dMu[l]! * v;
          grads['logVar.weight']![l * D + j]! += dLv[l]! * v;
        });
      }
    }
    model.zeroGrad();
    const result = elbo(model, x, { eps });
    result.loss.backward();
    expect(Math.abs(result.loss.item() - total)).toBeLessThan(1e-10);
    for (const [name, p] of model.namedParameters()) {
      p.grad!.data.forEach((g, i) => expect(Math.abs(g - grads[name]![i]!), `${name}[${i}]`).toBeLessThan(1e-10));
    }
  });

  it('returns per-example terms whose mean is the objective, and elbo = reconstruction − kl', () => {
    const r = elbo(model, x, { eps });
    expect(r.elbo.shape).toEqual([2]);
    r.elbo.data.forEach((v, i) => expect(v).toBeCloseTo(r.reconstruction.data[i]! - r.kl.data[i]!, 12));
    expect(r.objective.item()).toBeCloseTo((r.elbo.data[0]! + r.elbo.data[1]!) / 2, 12);
    const weighted = elbo(model, x, { eps, beta: 4 });
    expect(weighted.objective.item()).toBeCloseTo(r.objective.item() - (3 * (r.kl.data[0]! + r.kl.data[1]!)) / 2, 12);
  });
});

describe('the ELBO of every likelihood passes gradcheck on all parameters', () => {
  for (const likelihood of LIKELIHOODS) {
    it(`${likelihood}: random small architectures, fixed ε`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.nat(1000),
          (inputDim, hidden, latentDim, batch, seed) => {
            const rng = new Generator(seed);
            const model = new VAE({ inputDim, hiddenDims: [hidden], latentDim, likelihood, activation: 'tanh', dtype: 'float64', seed, sigma: 0.7 });
            const x = rand([batch, inputDim], { dtype: 'float64', rng });
            const eps = randn([batch, latentDim], { dtype: 'float64', rng });
            expect(gradcheck(() => elbo(model, x, { eps }).objective, model.parameters()).ok).toBe(true);
          },
        ),
        { ...fcOptions(), numRuns: 20 },
      );
    });
  }
});

describe('likelihood constants are in nats', () => {
  it('a Gaussian decoder N(D(z), I) gives −½‖x − D(z)‖² − (D/2) ln 2π', () => {
    const model = new VAE({ inputDim: 4, hiddenDims: [3], latentDim: 2, likelihood: 'gaussian', sigma: 1, dtype: 'float64', seed: 1 });
    const x = rand([2, 4], { dtype: 'float64', rng: new Generator(2) });
    const out = randn([2, 4], { dtype: 'float64', rng: new Generator(3) });
    const logp = model.logLikelihood(x, out);
    for (let b = 0; b < 2; b++) {
      let sq = 0;
      for (let j = 0; j < 4; j++) sq += (x.data[b * 4 + j]! - out.data[b * 4 + j]!) ** 2;
      expect(logp.data[b]).toBeCloseTo(-0.5 * sq - 2 * LOG_2PI, 12);
    }
  });
});

describe('KL(N(μ, σ²) || N(0, I))', () => {
  it('the closed form equals the Monte Carlo estimate within 4 standard errors', () => {
    const rng = new Generator(11);
    const mu = tensor([[0.5, -1.2, 2.0]], { dtype: 'float64' });
    const logVar = tensor([[-0.7, 0.4, -2.0]], { dtype: 'float64' });
    const analytic = klStandardNormal(mu, logVar).item();
    const n = 20000;
    const muN = mu.expand([n, 3]);
    const logVarN = logVar.expand([n, 3]);
    const z = muN.add(
      logVarN
        .mul(0.5)
        .exp()
        .mul(randn([n, 3], { dtype: 'float64', rng })),
    );
    const draws = Array.from(klMonteCarlo(z, muN, logVarN).data);
    const mean = draws.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - analytic)).toBeLessThan((4 * sd) / Math.sqrt(n));
    expect(analytic).toBeCloseTo(0.5 * (0.25 + 1.44 + 4 + Math.exp(-0.7) + Math.exp(0.4) + Math.exp(-2) - 3 + 0.7 - 0.4 + 2), 12);
  });

  it('KL warm-up rises linearly to β', () => {
    expect([0, 50, 100, 200].map((s) => klWeight(s, 2, 100))).toEqual([0, 1, 2, 2]);
    expect(klWeight(0, 0.5, 0)).toBe(0.5);
  });
});

describe('klStandardNormalPerDimension', () => {
  it('gives ½(μⱼ² + σⱼ² − 1 − ln σⱼ²) per dimension, and klStandardNormal is their sum, bit for bit', () => {
    const rng = new Generator(21);
    const mu = randn([5, 3], { rng, dtype: 'float64' });
    const logVar = randn([5, 3], { rng, dtype: 'float64' });
    const perDim = klStandardNormalPerDimension(mu, logVar);
    perDim.data.forEach((v, i) => expect(v).toBeCloseTo(0.5 * (mu.data[i]! ** 2 + Math.exp(logVar.data[i]!) - 1 - logVar.data[i]!), 14));
    const total = klStandardNormal(mu, logVar);
    total.data.forEach((v, r) => expect(v).toBe(Array.from(perDim.data.slice(3 * r, 3 * r + 3)).reduce((a, b) => a + b, 0)));
  });
});
