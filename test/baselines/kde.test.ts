import { describe, expect, it } from 'vitest';
import { binaryData } from '../../src/baselines/bernoulli-mixture.js';
import { bernoulliKdeLogProb, chooseBernoulliBandwidth, chooseGaussianBandwidth, gaussianKdeLogProb, hammingHistograms } from '../../src/baselines/kde.js';
import { Generator } from '../../src/tensor/random.js';
import { logNormalDensity } from '../../src/verify/linalg.js';

const randomBinary = (n: number, d: number, rng: Generator): Float64Array => Float64Array.from({ length: n * d }, () => (rng.uniform() < 0.4 ? 1 : 0));

describe('Bernoulli-product KDE', () => {
  const rng = new Generator(11);
  const d = 70; // more than two 32-bit words, so the packing crosses words
  const centres = binaryData(randomBinary(30, d, rng), 30, d);
  const queries = binaryData(randomBinary(6, d, rng), 6, d);

  it('counts Hamming distances as the definition does', () => {
    const h = hammingHistograms(queries, centres);
    for (let i = 0; i < 6; i++) {
      const expected = new Array<number>(d + 1).fill(0);
      for (let n = 0; n < 30; n++) {
        let dist = 0;
        for (let j = 0; j < d; j++) dist += queries.x[i * d + j] !== centres.x[n * d + j] ? 1 : 0;
        expected[dist]!++;
      }
      expect(Array.from(h.counts.subarray(i * (d + 1), (i + 1) * (d + 1)))).toEqual(expected);
    }
  });

  it('ln p(x) from the histogram equals ln (1/N) Σₙ Πᵈ λ^[same] (1−λ)^[differ]', () => {
    const lambda = 0.8;
    const fast = bernoulliKdeLogProb(hammingHistograms(queries, centres), lambda);
    for (let i = 0; i < 6; i++) {
      let p = 0;
      for (let n = 0; n < 30; n++) {
        let k = 1;
        for (let j = 0; j < d; j++) k *= queries.x[i * d + j] === centres.x[n * d + j] ? lambda : 1 - lambda;
        p += k / 30;
      }
      expect(fast[i]).toBeCloseTo(Math.log(p), 9);
    }
  });

  it('is a probability mass function: Σ over all 2ᵈ binary x of p(x) = 1', () => {
    const small = binaryData(Float64Array.from([1, 0, 1, 0, 0, 1, 1, 1, 0, 0]), 2, 5);
    const all = binaryData(
      Float64Array.from({ length: 32 * 5 }, (_, i) => (Math.floor(i / 5) >> (i % 5)) & 1),
      32,
      5,
    );
    const logp = bernoulliKdeLogProb(hammingHistograms(all, small), 0.7);
    expect(logp.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
  });

  it('chooses λ by held-out likelihood: noisier data wants a smaller λ', () => {
    const noisy = (flip: number, seed: number) => {
      const g = new Generator(seed);
      const proto = randomBinary(1, 40, g);
      const x = Float64Array.from({ length: 200 * 40 }, (_, i) => (g.uniform() < flip ? 1 - proto[i % 40]! : proto[i % 40]!));
      return [binaryData(x.slice(0, 150 * 40), 150, 40), binaryData(x.slice(150 * 40), 50, 40)] as const;
    };
    const [c1, h1] = noisy(0.02, 1);
    const [c2, h2] = noisy(0.2, 1);
    const clean = chooseBernoulliBandwidth(c1, h1);
    const dirty = chooseBernoulliBandwidth(c2, h2);
    expect(clean.best).toBeGreaterThan(dirty.best);
    expect(clean.bestHeldOut).toBe(Math.max(...clean.grid.map((g) => g.heldOut)));
  });
});

describe('Gaussian KDE', () => {
  it('equals ln (1/N) Σ N(x; xₙ, σ² I), constants included', () => {
    const centres = [
      [0, 0],
      [1, 2],
      [-1, 0.5],
    ];
    const x = [[0.2, 0.3]];
    const sigma = 0.7;
    const direct = Math.log(
      centres.reduce(
        (s, c) =>
          s +
          Math.exp(
            logNormalDensity(x[0]!, c, [
              [sigma ** 2, 0],
              [0, sigma ** 2],
            ]),
          ) /
            3,
        0,
      ),
    );
    expect(gaussianKdeLogProb(centres, x, sigma)[0]).toBeCloseTo(direct, 12);
  });

  it('picks a bandwidth inside the grid for data from N(0, I), not the grid ends', () => {
    const rng = new Generator(2);
    const draw = (n: number) => Array.from({ length: n }, () => [rng.normal(), rng.normal()]);
    const grid = [0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1, 3, 10];
    const choice = chooseGaussianBandwidth(draw(300), draw(200), grid);
    expect(choice.best).toBeGreaterThan(0.01);
    expect(choice.best).toBeLessThan(10);
  });
});
