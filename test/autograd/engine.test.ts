import { describe, expect, it } from 'vitest';
import { AnomalyError, detectAnomaly, isGradEnabled, noGrad } from '../../src/autograd/engine.js';
import * as ops from '../../src/autograd/ops.js';
import { tensor } from '../../src/tensor/create.js';

describe('the reverse-mode engine', () => {
  it('sums the gradients of a tensor used twice: d/dx (x² + x) = 2x + 1', () => {
    const x = tensor([1, -2, 3], { dtype: 'float64', requiresGrad: true });
    ops.sum(ops.add(ops.mul(x, x), x)).backward();
    expect(x.grad!.toArray()).toEqual([3, -3, 7]);
  });

  it('accumulates into .grad across backward calls, like PyTorch', () => {
    const x = tensor([2], { dtype: 'float64', requiresGrad: true });
    ops.sum(ops.mul(x, 3)).backward();
    ops.sum(ops.mul(x, 3)).backward();
    expect(x.grad!.item()).toBe(6);
  });

  it('reduces broadcast gradients back to each input shape', () => {
    const w = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const b = tensor([10, 20, 30], { dtype: 'float64', requiresGrad: true });
    const s = tensor(2, { dtype: 'float64', requiresGrad: true });
    ops.sum(ops.mul(ops.add(w, b), s)).backward();
    expect(b.grad!.shape).toEqual([3]);
    expect(b.grad!.toArray()).toEqual([4, 4, 4]);
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(21 + 2 * 60);
  });

  it('gives every leaf its own gradient memory', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const seed = tensor([1, 1]);
    ops.add(a, b).backward(seed);
    expect(a.grad!.data).not.toBe(b.grad!.data);
    expect(a.grad!.data).not.toBe(seed.data);
  });

  it('hands a leaf the gradient memory made for it alone, and copies memory a rule passed on', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const c = tensor([[5, 6]], { requiresGrad: true });
    const seed = tensor([[1, 1]]);
    // add and reshape pass their gradient on unchanged (to a and to b·2's node); mul makes new memory.
    ops.add(ops.reshape(ops.add(a, ops.mul(b, 2)), [1, 2]), c).backward(seed);
    const grads = [a, b, c].map((t) => t.grad!.data);
    expect(new Set([...grads, seed.data]).size).toBe(4);
    expect(grads.map((g) => Array.from(g))).toEqual([
      [1, 1],
      [2, 2],
      [1, 1],
    ]);
    seed.data[0] = 7; // the seed is the caller's: no leaf sees this
    expect([a, c].map((t) => t.grad!.data[0])).toEqual([1, 1]);
  });

  it('takes a seed gradient for non-scalar outputs (a vector-Jacobian product)', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    ops.mul(x, x).backward(tensor([1, 10], { dtype: 'float64' }));
    expect(x.grad!.toArray()).toEqual([2, 40]);
  });

  it('records nothing inside noGrad, and detach cuts the graph', () => {
    const x = tensor([1], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return ops.mul(x, 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    const z = ops.mul(x, 2).detach();
    expect(z.requiresGrad).toBe(false);
    expect(z.isLeaf).toBe(true);
  });

  it('leaves gradients of inputs that do not require them alone', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const c = tensor([3, 4]);
    ops.sum(ops.mul(x, c)).backward();
    expect(c.grad).toBeNull();
    expect(x.grad!.toArray()).toEqual([3, 4]);
  });

  it('detectAnomaly names the first op whose output is NaN/Inf, with its input shapes', () => {
    const x = tensor([[1, -1]], { requiresGrad: true });
    expect(() => detectAnomaly(() => ops.log(x))).toThrow(new AnomalyError('log: output holds NaN at flat index 1 (inputs [1, 2])'));
    // Without detectAnomaly the IEEE result goes through.
    expect(Number.isNaN(ops.log(x).data[1]!)).toBe(true);
  });

  it('detectAnomaly also checks gradients in backward', () => {
    const x = tensor([0, 4], { dtype: 'float64', requiresGrad: true });
    expect(() => detectAnomaly(() => ops.sum(ops.sqrt(x)).backward())).toThrow(/^backward of sqrt \(input 0\): div: output holds Infinity at flat index 0/);
  });
});

describe('NaN is never swallowed', () => {
  it('relu, max and matmul pass NaN through, like IEEE arithmetic and PyTorch', () => {
    expect(Number.isNaN(ops.relu(tensor([NaN])).item())).toBe(true);
    expect(Number.isNaN(ops.max(tensor([1, NaN, 3])).item())).toBe(true);
    expect(Number.isNaN(ops.matmul(tensor([[0, 1]]), tensor([[NaN], [2]])).item())).toBe(true);
  });
});
