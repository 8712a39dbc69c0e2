import { afterAll, describe, expect, it } from 'vitest';
import { backward, zeroGradInPlace } from '../../src/autograd/engine.js';
import { add, linear, mean, mul, relu, sum } from '../../src/autograd/ops.js';
import { setBackend } from '../../src/kernels/index.js';
import { initWasmBackend } from '../../src/kernels/wasm/index.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { allocateEmpty, allocatingInto } from '../../src/tensor/dtype.js';
import { Generator } from '../../src/tensor/random.js';
import { randn } from '../../src/tensor/create.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { elbo } from '../../src/vae/elbo.js';
import { VAE } from '../../src/vae/model.js';
import { trainStep } from '../../src/vae/train.js';

/**
 * Gradients zeroed in place (PyTorch's zero_grad(set_to_none=False)): the gradient tensor stays,
 * and backward computes into its memory. Every number must equal the default path's, bit for bit.
 */
afterAll(() => setBackend('cpu'));

const bits = (t: Tensor | null): number[] => Array.from(t!.data);

describe('allocatingInto', () => {
  it('gives the offered storage to the first allocation of its size and dtype only; an inner offer stands in for the outer one while it runs', () => {
    const into = new Float32Array(5000);
    const [other, first, second] = allocatingInto(into, () => [allocateEmpty('float32', 4999), allocateEmpty('float32', 5000), allocateEmpty('float32', 5000)]);
    expect(other).not.toBe(into);
    expect(first).toBe(into);
    expect(second).not.toBe(into);
    const outer = new Float64Array(3);
    const [inner, after] = allocatingInto(outer, () => [allocatingInto(new Float64Array(2), () => allocateEmpty('float64', 3)), allocateEmpty('float64', 3)]);
    expect(inner).not.toBe(outer); // the inner offer (which does not fit) replaced the outer one
    expect(after).toBe(outer); // restored afterwards
    expect(allocateEmpty('float32', 5000)).not.toBe(into); // nothing offered outside
    expect(allocatingInto(new Float32Array(4), () => allocateEmpty('float64', 4))).toBeInstanceOf(Float64Array);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`zeroGrad in place (${backend})`, () => {
    const use = (): void => {
      if (backend === 'wasm') initWasmBackend();
      setBackend(backend);
    };

    it('keeps each gradient tensor, zero-filled, and the next backward gives the same bits as from null; a held gradient sees them', () => {
      use();
      const rng = new Generator(4);
      const x = randn([64, 48], { rng });
      const w = randn([40, 48], { rng, requiresGrad: true });
      const b = randn([40], { rng, requiresGrad: true });
      const v = randn([40], { rng, requiresGrad: true });
      // v is used twice (two contributions summed), w and b once; the last layer's gradient is a product.
      const loss = (): Tensor => add(mean(mul(relu(linear(x, w, b)), v)), sum(mul(v, v)));
      backward(loss());
      const expected = [w, b, v].map((p) => bits(p.grad));
      const held = [w, b, v].map((p) => p.grad!);
      for (const p of [w, b, v]) zeroGradInPlace(p);
      held.forEach((g, k) => {
        expect([w, b, v][k]!.grad).toBe(g);
        expect(g.data.every((value) => value === 0)).toBe(true);
      });
      backward(loss());
      held.forEach((g, k) => {
        expect([w, b, v][k]!.grad).toBe(g); // the same tensors, holding the new gradients
        expect(bits(g)).toEqual(expected[k]);
      });
      backward(loss()); // not zeroed again: accumulates in place, as PyTorch does: g + g
      held.forEach((g, k) => {
        expect([w, b, v][k]!.grad).toBe(g);
        expect(bits(g)).toEqual(expected[k]!.map((value) => Math.fround(value + value)));
      });
    });

    it('with createGraph the gradient is a fresh recorded tensor, as without zeroing', () => {
      use();
      const w = randn([3, 4], { rng: new Generator(5), requiresGrad: true, dtype: 'float64' });
      backward(sum(mul(w, w)));
      zeroGradInPlace(w);
      backward(sum(mul(w, w)), undefined, { createGraph: true });
      expect(w.grad!.requiresGrad).toBe(true);
      expect(bits(w.grad)).toEqual(bits(w).map((value) => 2 * value));
    });

    it('trainStep (zeroing in place, checked step) follows the same trajectory as null gradients and step(), bit for bit', () => {
      use();
      const run = (inPlace: boolean): number[][] => {
        const model = new VAE({ inputDim: 64, hiddenDims: [32], latentDim: 4, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 3 });
        const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
        const rng = new Generator(9);
        const data = new Generator(10);
        for (let step = 0; step < 4; step++) {
          const x = randn([16, 64], { rng: data }).sigmoid();
          if (inPlace) {
            expect(trainStep(model, optimizer, x, { beta: 1, rng }).failure).toBeUndefined();
          } else {
            optimizer.zeroGrad();
            elbo(model, x, { beta: 1, rng }).loss.backward();
            optimizer.step();
          }
        }
        return model.parameters().map((p) => bits(p));
      };
      expect(run(true)).toEqual(run(false));
    });
  });
}
