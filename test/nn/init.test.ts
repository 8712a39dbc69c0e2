import { describe, expect, it } from 'vitest';
import { zeros } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { calculateFanInAndFanOut, calculateGain, kaimingNormal, kaimingUniform, xavierNormal, xavierUniform } from '../../src/nn/index.js';

const stats = (t: Tensor): { mean: number; std: number; max: number } => {
  const d = [...t.data];
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, max: Math.max(...d.map(Math.abs)) };
};

describe('init', () => {
  it('computes fans as PyTorch does', () => {
    expect(calculateFanInAndFanOut(zeros([30, 20]))).toEqual([20, 30]);
    expect(calculateFanInAndFanOut(zeros([8, 4, 3, 3]))).toEqual([36, 72]); // receptive field 9
    expect(() => calculateFanInAndFanOut(zeros([5]))).toThrow('calculateFanInAndFanOut: needs a tensor with at least 2 axes, got shape [5]');
  });

  it('computes gains as PyTorch does', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBe(5 / 3);
    expect(calculateGain('relu')).toBe(Math.sqrt(2));
    expect(calculateGain('leakyRelu')).toBe(Math.sqrt(2 / (1 + 0.01 ** 2)));
    expect(calculateGain('leakyRelu', 0)).toBe(Math.sqrt(2));
    expect(calculateGain('selu')).toBe(0.75);
  });

  // shape [200, 300]: fanIn 300, fanOut 200, 60000 draws, so the sample std is within ~1% of its target
  const shape = [200, 300];

  it('xavierUniform draws U(-a, a), a = gain·√(6/(fanIn+fanOut))', () => {
    const t = xavierUniform(zeros(shape, { dtype: 'float64' }), { gain: 2, rng: new Generator(1) });
    const a = 2 * Math.sqrt(6 / 500);
    const s = stats(t);
    expect(s.max).toBeLessThanOrEqual(a);
    expect(s.max).toBeGreaterThan(0.99 * a);
    expect(s.std).toBeCloseTo(a / Math.sqrt(3), 2); // std of U(-a, a) = a/√3
  });

  it('xavierNormal draws N(0, std²), std = gain·√(2/(fanIn+fanOut))', () => {
    const s = stats(xavierNormal(zeros(shape, { dtype: 'float64' }), { rng: new Generator(2) }));
    expect(Math.abs(s.mean)).toBeLessThan(0.002);
    expect(s.std / Math.sqrt(2 / 500)).toBeCloseTo(1, 1);
  });

  it('kaimingUniform draws U(-b, b), b = √3·gain/√fan', () => {
    const t = kaimingUniform(zeros(shape, { dtype: 'float64' }), { rng: new Generator(3) });
    const b = (Math.sqrt(3) * Math.sqrt(2)) / Math.sqrt(300);
    expect(stats(t).max).toBeLessThanOrEqual(b);
    expect(stats(t).max).toBeGreaterThan(0.99 * b);
    const out = kaimingUniform(zeros(shape, { dtype: 'float64' }), { rng: new Generator(3), mode: 'fanOut', nonlinearity: 'tanh' });
    expect(stats(out).max).toBeGreaterThan((0.99 * Math.sqrt(3) * (5 / 3)) / Math.sqrt(200));
    expect(stats(out).max).toBeLessThanOrEqual((Math.sqrt(3) * (5 / 3)) / Math.sqrt(200));
  });

  it('kaimingNormal draws N(0, std²), std = gain/√fan', () => {
    const s = stats(kaimingNormal(zeros(shape, { dtype: 'float64' }), { rng: new Generator(4), mode: 'fanOut' }));
    expect(s.std / (Math.sqrt(2) / Math.sqrt(200))).toBeCloseTo(1, 1);
  });

  it('is reproducible from the generator and returns the same tensor', () => {
    const t = zeros([3, 4]);
    expect(xavierUniform(t, { rng: new Generator(9) })).toBe(t);
    expect(xavierUniform(zeros([3, 4]), { rng: new Generator(9) }).data).toEqual(t.data);
    expect(() => kaimingUniform(zeros([0, 4]), { mode: 'fanOut' })).toThrow('kaimingUniform: fan is 0 for shape [0, 4]');
  });
});
