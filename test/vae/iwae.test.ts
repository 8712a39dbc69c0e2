import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randn, tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { elbo } from '../../src/vae/elbo.js';
import { iwae } from '../../src/vae/iwae.js';
import { VAE } from '../../src/vae/model.js';
import { train } from '../../src/vae/train.js';
import { smallMnist } from './fixtures.js';

describe('the IWAE bound', () => {
  const model = new VAE({ inputDim: 6, hiddenDims: [5], latentDim: 3, dtype: 'float64', seed: 4 });
  const x = tensor(
    [
      [0, 1, 0.2, 0.9, 1, 0],
      [0.5, 0.5, 0, 0, 1, 1],
    ],
    { dtype: 'float64' },
  );

  it('with k = 1 equals the one-sample ELBO (Monte Carlo KL) at the same ε', () => {
    const eps = randn([1, 2, 3], { dtype: 'float64', rng: new Generator(1) });
    const bound = iwae(model, x, 1, { eps });
    const single = elbo(model, x, { eps: eps.reshape([2, 3]), kl: 'monteCarlo' }).elbo;
    bound.data.forEach((v, i) => expect(Math.abs(v - single.data[i]!)).toBeLessThan(1e-12));
  });

  it('does not depend on how the k draws are chunked', () => {
    const eps = randn([50, 2, 3], { dtype: 'float64', rng: new Generator(2) });
    const whole = iwae(model, x, 50, { eps, chunkSize: 50 });
    const chunked = iwae(model, x, 50, { eps, chunkSize: 7 });
    whole.data.forEach((v, i) => expect(Math.abs(v - chunked.data[i]!)).toBeLessThan(1e-10));
  });

  it('rises with k on a trained model, and k = 1000 runs in chunks', () => {
    const data = smallMnist(1024, 100);
    const { model: trained } = train(data, {
      config: { hiddenDims: [64], latentDim: 4, epochs: 3, batchSize: 64, seed: 3 },
      outDir: join(mkdtempSync(join(tmpdir(), 'elbo-iwae-')), 'run'),
    });
    const xs = tensor(data.test.images, { shape: [data.test.n, 784] });
    const mean = (t: { data: ArrayLike<number> }): number => Array.from(t.data).reduce((a, b) => a + b, 0) / t.data.length;
    const bounds = [1, 10, 100].map((k) => mean(iwae(trained, xs, k, { rng: new Generator(k) })));
    expect(bounds[1]!).toBeGreaterThan(bounds[0]!);
    expect(bounds[2]!).toBeGreaterThan(bounds[1]!);
    const big = iwae(trained, xs.slice(0, 0, 4), 1000, { rng: new Generator(5), chunkSize: 128 });
    expect(big.shape).toEqual([4]);
    expect(big.data.every(Number.isFinite)).toBe(true);
  });
});
