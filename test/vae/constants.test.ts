import { describe, expect, it } from 'vitest';
import { gaussianNll } from '../../src/autograd/ops.js';
import { randn, tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { elbo } from '../../src/vae/elbo.js';
import { iwae } from '../../src/vae/iwae.js';
import { gaussianLogProb, logNormal, logStandardNormal } from '../../src/vae/likelihoods.js';
import { VAE } from '../../src/vae/model.js';

// ln 2π computed here, not imported from the engine, so a change to the engine's constant is caught.
const LN_2PI = Math.log(2 * Math.PI);

describe('the constants that make log-densities nats', () => {
  it('gaussianLogProb, logNormal and gaussianNll keep ½ ln 2π per dimension', () => {
    const x = tensor([[0.3, -1.2, 2]], { dtype: 'float64' });
    const mu = tensor([[0, -1, 1.5]], { dtype: 'float64' });
    const logVar = tensor([[0.2, -0.5, 1]], { dtype: 'float64' });
    let expected = 0;
    [0.3, -1.2, 2].forEach((xv, i) => {
      const [m, lv] = [[0, -1, 1.5][i]!, [0.2, -0.5, 1][i]!];
      expected += -0.5 * (LN_2PI + lv + (xv - m) ** 2 / Math.exp(lv));
    });
    expect(gaussianLogProb(x, mu, logVar).item()).toBeCloseTo(expected, 12);
    expect(logNormal(x, mu, logVar).item()).toBeCloseTo(expected, 12);
    expect(-gaussianNll(x, mu, logVar, { reduction: 'sum' }).item()).toBeCloseTo(expected, 12);
    // ln N(z; 0, I) at z = 0 is −(d/2) ln 2π exactly.
    expect(logStandardNormal(tensor([[0, 0, 0, 0]], { dtype: 'float64' })).item()).toBeCloseTo(-2 * LN_2PI, 12);
  });

  it('a Gaussian density integrates to 1 (midpoint rule over ±10σ): the normalizer is right', () => {
    const h = 0.01;
    const points = Array.from({ length: 2000 }, (_, i) => -10 + (i + 0.5) * h);
    const logp = logNormal(
      tensor(
        points.map((p) => [p]),
        { dtype: 'float64' },
      ),
      tensor([[0]], { dtype: 'float64' }),
      tensor([[0]], { dtype: 'float64' }),
    );
    expect(Array.from(logp.data).reduce((s, v) => s + Math.exp(v) * h, 0)).toBeCloseTo(1, 10);
  });
});

describe('iwae subtracts ln k', () => {
  const model = new VAE({ inputDim: 5, hiddenDims: [4], latentDim: 2, dtype: 'float64', seed: 8 });
  const x = tensor(
    [
      [0, 1, 1, 0, 1],
      [1, 0, 0, 0, 1],
    ],
    { dtype: 'float64' },
  );

  it('k copies of one draw give the bound of that draw alone (log-MEAN-exp, not log-sum-exp)', () => {
    const one = randn([1, 2, 2], { dtype: 'float64', rng: new Generator(3) });
    const repeated = tensor(Array.from({ length: 7 }, () => Array.from(one.data)).flat(), { shape: [7, 2, 2], dtype: 'float64' });
    const single = elbo(model, x, { eps: one.reshape([2, 2]), kl: 'monteCarlo' }).elbo;
    const bound = iwae(model, x, 7, { eps: repeated });
    bound.data.forEach((v, i) => expect(v).toBeCloseTo(single.data[i]!, 12));
  });

  it('equals ln (1/k) Σ exp(ln wᵢ) with the weights computed from the one-draw ELBO at each draw', () => {
    const k = 5;
    const eps = randn([k, 2, 2], { dtype: 'float64', rng: new Generator(4) });
    const logW = Array.from({ length: k }, (_, j) => elbo(model, x, { eps: eps.slice(0, j, j + 1).reshape([2, 2]), kl: 'monteCarlo' }).elbo.data);
    const bound = iwae(model, x, k, { eps });
    for (let i = 0; i < 2; i++) {
      const w = logW.map((l) => l[i]!);
      const max = Math.max(...w);
      expect(bound.data[i]).toBeCloseTo(max + Math.log(w.reduce((s, v) => s + Math.exp(v - max), 0) / k), 12);
    }
  });
});
