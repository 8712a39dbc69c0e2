import { describe, expect, it } from 'vitest';
import * as ops from '../../src/autograd/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { randn, tensor } from '../../src/tensor/create.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/**
 * Checks beyond finite differences: gradients derived by hand, written out in plain loops,
 * compared with backward to 1e-10 in float64.
 */

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const expectClose = (actual: Tensor | null, expected: ArrayLike<number>, tol = 1e-10): void => {
  expect(actual).not.toBeNull();
  expect(actual!.data.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual!.data[i]! - expected[i]!)).toBeLessThan(tol);
};

describe('gradients derived by hand', () => {
  it('Σ softplus(x) − x·y: ∂x = σ(x) − y, ∂y = −x', () => {
    const rng = new Generator(1);
    const x = randn([4, 5], { dtype: 'float64', rng, requiresGrad: true });
    const y = randn([4, 5], { dtype: 'float64', rng, requiresGrad: true });
    ops.sum(ops.sub(ops.softplus(x), ops.mul(x, y))).backward();
    expectClose(
      x.grad,
      Array.from(x.data, (v, i) => sig(v) - y.data[i]!),
    );
    expectClose(
      y.grad,
      Array.from(x.data, (v) => -v),
    );
  });

  it('logSumExp over the last axis: ∂x = softmax(x)', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [-1000, -1000, -999],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    ops.sum(ops.logSumExp(x, -1)).backward();
    const softmax = (row: number[]): number[] => {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    expectClose(x.grad, [...softmax([1, 2, 3]), ...softmax([-1000, -1000, -999])]);
  });

  it('Gaussian NLL: ∂μ = −(x−μ)e^−logVar, ∂logVar = ½(1 − (x−μ)²e^−logVar)', () => {
    const rng = new Generator(2);
    const x = randn([6], { dtype: 'float64', rng });
    const mu = randn([6], { dtype: 'float64', rng, requiresGrad: true });
    const logVar = randn([6], { dtype: 'float64', rng, requiresGrad: true });
    ops.gaussianNll(x, mu, logVar, { reduction: 'sum' }).backward();
    const d = Array.from(x.data, (v, i) => v - mu.data[i]!);
    expectClose(
      mu.grad,
      d.map((di, i) => -di * Math.exp(-logVar.data[i]!)),
    );
    expectClose(
      logVar.grad,
      d.map((di, i) => 0.5 * (1 - di * di * Math.exp(-logVar.data[i]!))),
    );
  });

  it("a 2-layer MLP's mean squared error: backprop written out by hand", () => {
    const rng = new Generator(3);
    const [n, inDim, hidden, outDim] = [5, 3, 4, 2];
    const X = randn([n, inDim], { dtype: 'float64', rng });
    const Y = randn([n, outDim], { dtype: 'float64', rng });
    const W1 = randn([hidden, inDim], { dtype: 'float64', rng, requiresGrad: true });
    const b1 = randn([hidden], { dtype: 'float64', rng, requiresGrad: true });
    const W2 = randn([outDim, hidden], { dtype: 'float64', rng, requiresGrad: true });
    const b2 = randn([outDim], { dtype: 'float64', rng, requiresGrad: true });
    const h = ops.relu(ops.add(ops.matmul(X, W1.T), b1));
    const yHat = ops.add(ops.matmul(h, W2.T), b2);
    ops.mean(ops.square(ops.sub(yHat, Y))).backward();

    // By hand: L = (1/(n·o)) Σ (ŷ − y)²; δ2 = 2(ŷ − y)/(n·o); δ1 = (δ2 W2) ⊙ [pre > 0].
    const at = (t: Tensor, i: number, j: number, cols: number): number => t.data[i * cols + j]!;
    const pre = new Float64Array(n * hidden),
      act = new Float64Array(n * hidden),
      out = new Float64Array(n * outDim);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < hidden; j++) {
        let s = b1.data[j]!;
        for (let p = 0; p < inDim; p++) s += at(X, i, p, inDim) * at(W1, j, p, inDim);
        pre[i * hidden + j] = s;
        act[i * hidden + j] = Math.max(s, 0);
      }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < outDim; j++) {
        let s = b2.data[j]!;
        for (let p = 0; p < hidden; p++) s += act[i * hidden + p]! * at(W2, j, p, hidden);
        out[i * outDim + j] = s;
      }
    const delta2 = out.map((v, i) => (2 * (v - Y.data[i]!)) / (n * outDim));
    const dW2 = new Float64Array(outDim * hidden),
      db2 = new Float64Array(outDim);
    const dW1 = new Float64Array(hidden * inDim),
      db1 = new Float64Array(hidden);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < outDim; j++) {
        db2[j]! += delta2[i * outDim + j]!;
        for (let p = 0; p < hidden; p++) dW2[j * hidden + p]! += delta2[i * outDim + j]! * act[i * hidden + p]!;
      }
      for (let p = 0; p < hidden; p++) {
        let back = 0;
        for (let j = 0; j < outDim; j++) back += delta2[i * outDim + j]! * at(W2, j, p, hidden);
        const delta1 = pre[i * hidden + p]! > 0 ? back : 0;
        db1[p]! += delta1;
        for (let q = 0; q < inDim; q++) dW1[p * inDim + q]! += delta1 * at(X, i, q, inDim);
      }
    }
    expectClose(W2.grad, dW2);
    expectClose(b2.grad, db2);
    expectClose(W1.grad, dW1);
    expectClose(b1.grad, db1);
  });

  it('second derivative through createGraph: d²/dx² tanh x = −2 tanh x (1 − tanh² x)', () => {
    const x = tensor([-1.3, 0.2, 0.9], { dtype: 'float64', requiresGrad: true });
    ops.sum(ops.tanh(x)).backward(undefined, { createGraph: true });
    const first = x.grad!;
    expectClose(
      first,
      Array.from(x.data, (v) => 1 - Math.tanh(v) ** 2),
    );
    x.grad = null;
    ops.sum(first).backward();
    expectClose(
      x.grad,
      Array.from(x.data, (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)),
    );
  });

  it('max shares the gradient equally among ties', () => {
    const x = tensor(
      [
        [3, 1, 3],
        [0, 2, 1],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    ops.sum(ops.max(x, 1)).backward();
    expectClose(x.grad, [0.5, 0, 0.5, 0, 1, 0]);
  });
});
