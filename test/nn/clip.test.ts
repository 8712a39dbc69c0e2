import { describe, expect, it } from 'vitest';
import { add, mul, sum } from '../../src/autograd/ops.js';
import { tensor } from '../../src/tensor/create.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { clipGradNorm } from '../../src/nn/optim/index.js';

const withGrad = (values: number[], grad: number[]): Tensor => {
  const p = tensor(values, { dtype: 'float64', requiresGrad: true });
  p.grad = tensor(grad, { dtype: 'float64' });
  return p;
};

describe('clipGradNorm', () => {
  it('returns the total 2-norm and scales by maxNorm/(total + 1e-6) when it is over', () => {
    const a = withGrad([0, 0], [3, 4]);
    const b = withGrad([0], [12]);
    const none = tensor([1], { dtype: 'float64', requiresGrad: true });
    expect(clipGradNorm([a, b, none], 6.5)).toBe(13); // √(9 + 16 + 144)
    const c = 6.5 / (13 + 1e-6);
    expect([...a.grad!.data, ...b.grad!.data]).toEqual([3 * c, 4 * c, 12 * c]);
    expect(none.grad).toBeNull();
  });

  it('leaves gradients untouched when the norm is within maxNorm', () => {
    const a = withGrad([0, 0], [3, 4]);
    const before = a.grad;
    expect(clipGradNorm([a], 5.1)).toBe(5);
    expect(a.grad).toBe(before);
  });

  it('supports the infinity norm', () => {
    const a = withGrad([0, 0], [3, -7]);
    expect(clipGradNorm([a], 1, Infinity)).toBe(7);
    expect(a.grad!.data[1]).toBeCloseTo(-1, 6);
  });

  it('scales each gradient once even when the engine shares one array between two gradients', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([3, 4], { dtype: 'float64', requiresGrad: true });
    sum(mul(add(a, b), 3)).backward(); // ∂/∂a = ∂/∂b = [3, 3]
    const total = clipGradNorm([a, b], 1);
    expect(total).toBeCloseTo(6, 12); // √(4·9)
    const c = 1 / (6 + 1e-6);
    for (const p of [a, b]) expect([...p.grad!.data].map((v) => v / c)).toEqual([3, 3].map((v) => expect.closeTo(v, 12)));
  });

  it('rejects a negative maxNorm', () => {
    expect(() => clipGradNorm([], -1)).toThrow('clipGradNorm: maxNorm must be a number >= 0, got -1');
  });
});
