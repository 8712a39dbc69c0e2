import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyError, backward, detectAnomaly, zeroGradInPlace } from '../../src/autograd/engine.js';
import { add, linear, mean, mul, pow, relu, sum } from '../../src/autograd/ops.js';
import { cpuBackend, setBackend } from '../../src/kernels/index.js';
import { initWasmBackend } from '../../src/kernels/wasm/index.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { Generator } from '../../src/tensor/random.js';
import { randn, tensor } from '../../src/tensor/create.js';
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

describe('Memory.into (how a gradient is computed straight into its memory)', () => {
  it('gives the offered storage to the first allocation of its size and dtype only; an inner offer stands in for the outer one while it runs', () => {
    const memory = cpuBackend.memory;
    const into = new Float32Array(5000);
    const [other, first, second] = memory.into(into, () => [memory.empty('float32', 4999), memory.empty('float32', 5000), memory.empty('float32', 5000)]);
    expect(other).not.toBe(into);
    expect(first).toBe(into);
    expect(second).not.toBe(into);
    const outer = new Float64Array(3);
    const [inner, after] = memory.into(outer, () => [memory.into(new Float64Array(2), () => memory.empty('float64', 3)), memory.empty('float64', 3)]);
    expect(inner).not.toBe(outer); // the inner offer (which does not fit) replaced the outer one
    expect(after).toBe(outer); // restored afterwards
    expect(memory.empty('float32', 5000)).not.toBe(into); // nothing offered outside
    expect(memory.into(new Float32Array(4), () => memory.empty('float64', 4))).toBeInstanceOf(Float64Array);
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
        // Large enough that activations and gradients (≥ 4096 floats) live in the wasm scratch scope.
        const model = new VAE({ inputDim: 256, hiddenDims: [128], latentDim: 4, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 3 });
        const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
        const rng = new Generator(9);
        const data = new Generator(10);
        for (let step = 0; step < 4; step++) {
          const x = randn([32, 256], { rng: data }).sigmoid();
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

describe('the wasm scratch scope', () => {
  const allocateEmpty = (dtype: 'float32' | 'float64', size: number) => initWasmBackend().memory.empty(dtype, size);
  it('gives long float32 results resident memory, reused from the start by the next scope; nested scopes keep theirs', () => {
    const wasm = initWasmBackend();
    const [first, nestedOuter, nestedInner] = wasm.memory.scope(() => {
      const a = allocateEmpty('float32', 5000) as Float32Array;
      const [outer, inner] = wasm.memory.scope(() => [allocateEmpty('float32', 5000), allocateEmpty('float32', 5000)]);
      return [a, outer, inner];
    }) as Float32Array[];
    for (const v of [first, nestedOuter, nestedInner]) expect(wasm.memory.isKept(v!)).toBe(true);
    expect(new Set([first!.byteOffset, nestedOuter!.byteOffset, nestedInner!.byteOffset]).size).toBe(3); // no reuse while open
    const again = wasm.memory.scope(() => allocateEmpty('float32', 5000)) as Float32Array;
    expect(again.byteOffset).toBe(first!.byteOffset);
    expect(wasm.memory.isKept(wasm.memory.scope(() => allocateEmpty('float32', 4095)))).toBe(false); // short: ordinary memory
    expect(wasm.memory.isKept(allocateEmpty('float32', 5000))).toBe(false); // outside a scope: ordinary memory
    expect(wasm.memory.scope(() => allocateEmpty('float64', 5000))).toBeInstanceOf(Float64Array);
  });

  it('elementwise ops on resident operands read and write in place, with the same bits as on copies', () => {
    const wasm = initWasmBackend();
    const n = 10007;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 9);
    const y = Float32Array.from({ length: n }, (_, i) => (Math.cos(i) > 0 ? 1 : 0));
    for (const op of ['bceWithLogits', 'sigmoidSub', 'mul', 'maskPositive'] as const) {
      const copied = new Float32Array(n);
      wasm.binary(op, x, [1], y, [1], [n], copied);
      const inPlace = wasm.memory.scope(() => {
        const [rx, ry, out] = [allocateEmpty('float32', n), allocateEmpty('float32', n), allocateEmpty('float32', n)] as Float32Array[];
        rx!.set(x);
        ry!.set(y);
        wasm.binary(op, rx!, [1], ry!, [1], [n], out!);
        return Array.from(out!);
      });
      expect(inPlace).toEqual(Array.from(copied));
    }
  });

  it('after trainStep nothing it returned or left in the parameters and gradients lives in scratch memory', () => {
    const wasm = initWasmBackend();
    setBackend('wasm');
    // latentDim 40: z, μ and log σ² ([128, 40]) are long enough for scratch memory too, so they must be copied out.
    const model = new VAE({ inputDim: 784, hiddenDims: [400], latentDim: 40, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 5 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const rng = new Generator(6);
    const x = randn([128, 784], { rng: new Generator(7) }).sigmoid();
    trainStep(model, optimizer, x, { beta: 1, rng });
    const { result } = trainStep(model, optimizer, x, { beta: 1, rng });
    const snapshot = (): number[][] =>
      [...Object.values(result), ...model.parameters(), ...model.parameters().map((p) => p.grad!)].map((t) => Array.from(t.data));
    const before = snapshot();
    // Fill everything the next scope can hand out (at least what a step used) with NaN.
    wasm.memory.scope(() => {
      for (let i = 0; i < 64; i++) allocateEmpty('float32', 128 * 784).fill(NaN);
    });
    expect(snapshot()).toEqual(before);
    expect(before.every((values) => values.every(Number.isFinite))).toBe(true);
  });
});

describe("the README's loop on wasm (no scope of its own: Tensor.backward makes its temporaries in scratch memory)", () => {
  it.each([
    ['zeroed in place (the default)', false],
    ['set to null', true],
  ])('leaves gradients, parameters and the terms outside scratch memory, with the bits of trainStep, gradients %s', (_name, setToNone) => {
    const wasm = initWasmBackend();
    setBackend('wasm');
    const make = () => {
      const model = new VAE({ inputDim: 784, hiddenDims: [400], latentDim: 40, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 5 });
      return { model, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), rng: new Generator(6) };
    };
    const x = randn([128, 784], { rng: new Generator(7) }).sigmoid();
    const user = make();
    const reference = make();
    let terms = elbo(user.model, x, { beta: 1, rng: user.rng });
    for (let step = 0; step < 3; step++) {
      terms = elbo(user.model, x, { beta: 1, rng: user.rng });
      user.optimizer.zeroGrad({ setToNone });
      terms.loss.backward();
      user.optimizer.step();
    }
    elbo(reference.model, x, { beta: 1, rng: reference.rng }); // the same draws as the user's first forward
    for (let step = 0; step < 3; step++) expect(trainStep(reference.model, reference.optimizer, x, { beta: 1, rng: reference.rng }).failure).toBeUndefined();
    const grads = user.model.parameters().map((p) => p.grad!);
    const snapshot = (): number[][] => [...Object.values(terms), ...user.model.parameters(), ...grads].map((t) => Array.from(t.data));
    const before = snapshot();
    wasm.memory.scope(() => {
      for (let i = 0; i < 64; i++) allocateEmptyWasm(128 * 784).fill(NaN);
    });
    expect(snapshot()).toEqual(before);
    expect(before.every((values) => values.every(Number.isFinite))).toBe(true);
    expect(user.model.parameters().map((p) => bits(p))).toEqual(reference.model.parameters().map((p) => bits(p)));
    expect(grads.map((g) => bits(g))).toEqual(reference.model.parameters().map((p) => bits(p.grad)));
  });
});

const allocateEmptyWasm = (size: number): Float32Array => initWasmBackend().memory.empty('float32', size) as Float32Array;

describe('accumulating into a recorded gradient', () => {
  it('is out of place when the gradient came from a createGraph backward (its graph keeps its values)', () => {
    setBackend('cpu');
    const w = randn([3], { rng: new Generator(8), requiresGrad: true, dtype: 'float64' });
    backward(sum(mul(w, w)), undefined, { createGraph: true }); // w.grad = 2w, recorded
    const first = w.grad!;
    const firstValues = bits(first);
    backward(sum(mul(w, w))); // plain: w.grad = 2w + 2w
    expect(w.grad).not.toBe(first);
    expect(bits(first)).toEqual(firstValues);
    expect(bits(w.grad)).toEqual(bits(w).map((value) => 4 * value));
  });

  it('zeroing in place replaces a recorded gradient instead of changing it under its graph', () => {
    setBackend('cpu');
    const w = randn([3], { rng: new Generator(9), requiresGrad: true, dtype: 'float64' });
    backward(sum(mul(w, w)), undefined, { createGraph: true });
    const recorded = w.grad!;
    const values = bits(recorded);
    zeroGradInPlace(w);
    expect(w.grad).not.toBe(recorded);
    expect(bits(recorded)).toEqual(values);
    expect(bits(w.grad)).toEqual([0, 0, 0]);
  });
});

describe('zeroing in place with the fill deferred (what trainStep does)', () => {
  it('leaves zeros in a gradient the next backward does not reach, and the new gradient in one it does', () => {
    setBackend('cpu');
    const rng = new Generator(11);
    const [a, b] = [randn([5000], { rng, requiresGrad: true }), randn([5000], { rng, requiresGrad: true })];
    backward(sum(mul(a, b)));
    const [ga, gb] = [a.grad!, b.grad!];
    zeroGradInPlace(a);
    zeroGradInPlace(b);
    backward(sum(mul(a, a))); // reaches a only
    expect(a.grad).toBe(ga);
    expect(b.grad).toBe(gb);
    expect(bits(a.grad)).toEqual(bits(a).map((v) => Math.fround(2 * v)));
    expect(gb.data.every((v) => v === 0)).toBe(true);
  });

  it('fills before a backward reads the gradient (createGraph accumulates out of place from zeros)', () => {
    setBackend('cpu');
    const w = randn([4], { rng: new Generator(12), requiresGrad: true, dtype: 'float64' });
    backward(sum(mul(w, w)));
    zeroGradInPlace(w);
    backward(sum(mul(w, w)), undefined, { createGraph: true });
    expect(bits(w.grad)).toEqual(bits(w).map((v) => 2 * v));
  });
});

describe('engine edge cases found in review', () => {
  it('after a createGraph backward no two leaves share a gradient tensor (the seed passed on by add is copied)', () => {
    setBackend('cpu');
    const a = randn([3], { rng: new Generator(13), requiresGrad: true, dtype: 'float64' });
    const b = randn([3], { rng: new Generator(14), requiresGrad: true, dtype: 'float64' });
    backward(sum(add(a, b)), undefined, { createGraph: true });
    expect(a.grad!.data).not.toBe(b.grad!.data);
    backward(sum(add(a, b))); // accumulates in place into each: 1 + 1
    expect(bits(a.grad)).toEqual([2, 2, 2]);
    expect(bits(b.grad)).toEqual([2, 2, 2]);
  });

  it('a backward that stops with an error leaves a gradient zeroed in place at zeros, not at a partial result', () => {
    setBackend('cpu');
    const w = randn([8], { rng: new Generator(15), requiresGrad: true, dtype: 'float64' });
    const c = tensor([Infinity, 1, 2, 3, 4, 5, 6, 7], { dtype: 'float64' });
    backward(sum(mul(w, w)));
    zeroGradInPlace(w);
    const loss = sum(mul(w, c)); // recorded outside detectAnomaly: only backward is checked
    // ∂w = c is computed straight into w.grad's memory, then found holding ∞: backward stops there.
    expect(() => detectAnomaly(() => backward(loss))).toThrow(AnomalyError);
    expect(bits(w.grad)).toEqual(new Array(8).fill(0));
  });

  it('pow with exponent 0 has gradient 0 everywhere, x = 0 included (not NaN), as in PyTorch', () => {
    setBackend('cpu');
    const x = tensor([0, 2, -1], { requiresGrad: true, dtype: 'float64' });
    backward(sum(pow(x, 0)));
    expect(bits(x.grad)).toEqual([0, 0, 0]);
  });
});
