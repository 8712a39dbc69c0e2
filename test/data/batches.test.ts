import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batches, batchTensor, binarizeSampled, binarizeStatic, datasetTensor, numBatches, shuffledIndices } from '../../src/data/batches.js';
import type { Dataset } from '../../src/data/dataset.js';
import { subset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { Generator } from '../../src/tensor/random.js';
import { SEED } from '../helpers.js';

/** n images of 2 × 3 pixels; image i holds (i + 1) / (n + 1) everywhere, label i % 10. */
function toy(n: number): Dataset {
  const images = Float32Array.from({ length: n * 6 }, (_, k) => (Math.floor(k / 6) + 1) / (n + 1));
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), n, rows: 2, cols: 3, name: 'toy' };
}
const collect = <T>(it: Iterable<T>): T[] => [...it];

describe('mini-batches', () => {
  it('visits every image once, in order without shuffle; the last partial batch is kept', () => {
    const data = toy(10);
    const bs = collect(batches(data, { batchSize: 4 }));
    expect(bs.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(bs.flatMap((b) => Array.from(b.indices))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(bs[2]!.x)).toEqual(Array.from(data.images.subarray(8 * 6)));
    expect(Array.from(bs[2]!.labels)).toEqual([8, 9]);
    expect(collect(batches(data, { batchSize: 4, dropLast: true })).map((b) => b.size)).toEqual([4, 4]);
    expect([numBatches(10, 4), numBatches(10, 4, true)]).toEqual([3, 2]);
  });

  it('shuffles with the generator: a permutation, the same for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.nat(), (n, batchSize, seed) => {
        const run = (): number[] => collect(batches(toy(n), { batchSize, shuffle: true, rng: new Generator(seed) })).flatMap((b) => Array.from(b.indices));
        const order = run();
        expect(order).toEqual(run());
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(order).toEqual(Array.from(shuffledIndices(n, new Generator(seed))));
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  it('pairs pixels with their labels after shuffling', () => {
    const data = toy(23);
    for (const b of batches(data, { batchSize: 5, shuffle: true, rng: new Generator(7) })) {
      b.indices.forEach((i, k) => {
        expect(b.labels[k]).toBe(i % 10);
        expect(b.x[k * 6]).toBe(data.images[i * 6]);
      });
    }
  });

  it('static binarization is x > 0.5, the same every epoch', () => {
    const data = toy(9); // values 0.1 … 0.9
    const b = collect(batches(data, { batchSize: 9, binarize: 'static' }))[0]!;
    expect(Array.from(b.x).filter((_, k) => k % 6 === 0)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(binarizeStatic(data).images)).toEqual(Array.from(b.x));
  });

  it('dynamic binarization draws Bernoulli(x) afresh per batch, reproducibly from the generator', () => {
    const { train } = loadMnist();
    const data = subset(
      train,
      Array.from({ length: 200 }, (_, i) => i),
    );
    const draw = (seed: number): Float32Array[] =>
      collect(batches(data, { batchSize: 100, binarize: 'dynamic', rng: new Generator(seed) })).map((b) => b.x as Float32Array);
    const [a, b] = [draw(1), draw(1)];
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(draw(2)[0]);
    expect(a[0]!.every((v) => v === 0 || v === 1)).toBe(true);
    // mean of the draws matches mean of the probabilities; zero pixels never light up
    let [sumP, sumB, litFromZero] = [0, 0, 0];
    a.forEach((x, k) =>
      x.forEach((v, j) => {
        const p = data.images[k * 100 * 784 + j]!;
        if (p === 0 && v !== 0) litFromZero++;
        sumP += p;
        sumB += v;
      }),
    );
    expect(litFromZero).toBe(0);
    expect(Math.abs(sumB - sumP) / sumP).toBeLessThan(0.02);
    // two epochs from one generator differ (fresh draws)
    const rng = new Generator(3);
    const e1 = collect(batches(data, { batchSize: 200, binarize: 'dynamic', rng }))[0]!.x;
    const e2 = collect(batches(data, { batchSize: 200, binarize: 'dynamic', rng }))[0]!.x;
    expect(e1).not.toEqual(e2);
  });

  it('binarizeSampled is one fixed Bernoulli draw, deterministic per seed', () => {
    const data = toy(30);
    const a = binarizeSampled(data, new Generator(5)).images;
    expect(a).toEqual(binarizeSampled(data, new Generator(5)).images);
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('builds tensors of shape [size, rows × cols] in the requested dtype', () => {
    const data = toy(5);
    const [b] = collect(batches(data, { batchSize: 3, dtype: 'float64' }));
    expect(b!.x).toBeInstanceOf(Float64Array);
    const t = batchTensor(b!);
    expect([t.shape, t.dtype]).toEqual([[3, 6], 'float64']);
    expect(batchTensor(b!, { dtype: 'float32' }).dtype).toBe('float32');
    const all = datasetTensor(data);
    expect([all.shape, all.dtype]).toEqual([[5, 6], 'float32']);
  });

  it('rejects a bad batch size', () => {
    expect(() => batches(toy(3), { batchSize: 0 })).toThrow('batches: batchSize must be a positive integer, got 0');
  });
});
