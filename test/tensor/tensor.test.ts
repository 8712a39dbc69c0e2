import { describe, expect, it } from 'vitest';
import { arange, eye, full, ones, rand, randn, tensor, zeros } from '../../src/tensor/create.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { broadcastShapes } from '../../src/tensor/shape.js';

describe('Tensor creation and access', () => {
  it('infers shapes from nested arrays and reads them back', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(7, { dtype: 'float64' }).item()).toBe(7);
    expect(tensor(7).shape).toEqual([]);
    expect(tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('copies its input data', () => {
    const src = new Float32Array([1, 2]);
    const t = tensor(src);
    src[0] = 9;
    expect(t.data[0]).toBe(1);
  });

  it('makes zeros, ones, full, arange and eye', () => {
    expect(zeros([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(ones([3], { dtype: 'float64' }).data).toEqual(new Float64Array([1, 1, 1]));
    expect(full([2], 2.5).toArray()).toEqual([2.5, 2.5]);
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(zeros([0, 3]).numel()).toBe(0);
  });

  it('prints like PyTorch', () => {
    expect(
      tensor([
        [1.5, 2],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], dtype=float32)');
    expect(tensor([1, 2], { requiresGrad: true }).toString()).toBe('tensor([1., 2.], dtype=float32, requiresGrad=true)');
    expect(tensor([1, 2], { requiresGrad: true }).mul(2).toString()).toContain('gradFn=mul');
  });

  it('broadcasts shapes by NumPy rules', () => {
    expect(broadcastShapes('add', [2, 1, 3], [4, 3])).toEqual([2, 4, 3]);
    expect(broadcastShapes('add', [], [2])).toEqual([2]);
    expect(broadcastShapes('add', [1], [0])).toEqual([0]);
  });
});

describe('the seeded generator', () => {
  it('gives the same numbers for the same seed (golden values, any platform)', () => {
    const rng = new Generator(42);
    const first = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    expect(first).toEqual(GOLDEN_UINT32_SEED_42);
    expect(new Generator(42).uniform()).toBe(new Generator(42).uniform());
    expect(new Generator(1).uniform()).not.toBe(new Generator(2).uniform());
  });

  it('restores its state exactly, including the cached normal', () => {
    const rng = new Generator(7);
    rng.normal();
    const state = rng.getState();
    const a = [rng.normal(), rng.normal(), rng.uniform()];
    const b = new Generator(0).setState(state);
    expect([b.normal(), b.normal(), b.uniform()]).toEqual(a);
  });

  it('refuses the all-zero state, from which xoshiro128** yields only zeros', () => {
    expect(() => new Generator(0).setState({ s: [0, 0, 0, 0], spare: null })).toThrow('Generator.setState: the state s is all zeros');
    expect(new Generator(0).setState({ s: [0, 0, 0, 1], spare: null }).uniform()).toBeGreaterThanOrEqual(0);
  });

  it('fillNormal (what randn uses) gives exactly the numbers of repeated normal() calls, the spare included', () => {
    for (const [seed, lengths] of [
      [1, [0, 1, 2, 3, 7, 2560]],
      [9, [5, 1, 1, 4, 1001]],
    ] as const) {
      const bulk = new Generator(seed);
      const single = new Generator(seed);
      for (const n of lengths) {
        const out = new Float64Array(n);
        bulk.fillNormal(out);
        expect(Array.from(out)).toEqual(Array.from({ length: n }, () => single.normal()));
        expect(bulk.uniform()).toBe(single.uniform()); // the states stay in step
      }
      const f32 = new Float32Array(33);
      bulk.fillNormal(f32);
      expect(Array.from(f32)).toEqual(Array.from({ length: 33 }, () => Math.fround(single.normal())));
      expect(bulk.getState()).toEqual(single.getState());
    }
  });

  it('draws standard normals and uniforms with the right moments (within 5 standard errors)', () => {
    const n = 100_000;
    const z = randn([n], { dtype: 'float64', rng: new Generator(3) }).data;
    const u = rand([n], { dtype: 'float64', rng: new Generator(4) }).data;
    const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
    const zMean = mean(z);
    const zVar = Array.from(z).reduce((a, b) => a + (b - zMean) ** 2, 0) / n;
    expect(Math.abs(zMean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(zVar - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('manualSeed makes the default generator reproducible', () => {
    manualSeed(5);
    const a = randn([4]).toArray();
    manualSeed(5);
    expect(randn([4]).toArray()).toEqual(a);
  });

  it('permutations contain every index once', () => {
    const p = new Generator(9).permutation(100);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

// Checked against an independent Python implementation of splitmix32 + xoshiro128** (64-bit ints, masked).
const GOLDEN_UINT32_SEED_42 = [2837322924, 544945897, 479756282];
