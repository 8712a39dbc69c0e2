import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { ELU, Linear, type Module, Sequential, Sigmoid, Softplus, Tanh } from '../../src/nn/index.js';
import { RUNS, SEED } from '../helpers.js';

const runs = Math.max(50, RUNS);

/** A float64 tensor of `shape` with entries drawn from N(0, 1) by `rng`. */
function normal(shape: number[], rng: Generator, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float64Array.from({ length: n }, () => rng.normal()),
    shape,
    { requiresGrad },
  );
}

describe('Linear', () => {
  it('stores weight as [out, in] and bias as [out], in the requested dtype', () => {
    const layer = new Linear(3, 2, { rng: new Generator(0), dtype: 'float64' });
    expect(layer.weight.shape).toEqual([2, 3]);
    expect(layer.bias!.shape).toEqual([2]);
    expect(layer.weight.dtype).toBe('float64');
    expect(new Linear(3, 2).weight.dtype).toBe('float32');
    expect(new Linear(3, 2, { bias: false }).bias).toBeNull();
  });

  it('initializes weight and bias from U(-1/sqrt(in), 1/sqrt(in)) drawn in order from rng', () => {
    const inF = 16;
    const layer = new Linear(inF, 40, { rng: new Generator(3), dtype: 'float64' });
    const bound = 1 / Math.sqrt(inF); // 0.25
    const all = [...layer.weight.data, ...layer.bias!.data];
    expect(all.every((v) => v >= -bound && v < bound)).toBe(true);
    expect(Math.max(...all)).toBeGreaterThan(0.9 * bound); // the range is used, not a narrower one
    expect(Math.min(...all)).toBeLessThan(-0.9 * bound);
    const rng = new Generator(3);
    const expected = Array.from({ length: 16 * 40 + 40 }, () => -bound + 2 * bound * rng.uniform());
    expect(all).toEqual(expected);
  });

  it('is reproducible from a seed and differs across seeds', () => {
    const a = new Linear(4, 3, { rng: new Generator(7) });
    const b = new Linear(4, 3, { rng: new Generator(7) });
    const c = new Linear(4, 3, { rng: new Generator(8) });
    expect(a.stateDict()).toEqual(b.stateDict());
    expect(a.weight.data).not.toEqual(c.weight.data);
  });

  it('computes y = x·Wᵀ + b', () => {
    const layer = new Linear(3, 2, { rng: new Generator(0), dtype: 'float64' });
    layer.weight.data.set([1, 2, 3, -1, 0, 4]); // W = [[1, 2, 3], [-1, 0, 4]]
    layer.bias!.data.set([0.5, -2]);
    const x = tensor(
      [
        [1, 1, 1],
        [2, 0, -1],
      ],
      { dtype: 'float64' },
    );
    // row 0: [1+2+3+0.5, -1+0+4-2] = [6.5, 1]; row 1: [2-3+0.5, -2-4-2] = [-0.5, -8]
    expect(layer.call(x).toArray()).toEqual([
      [6.5, 1],
      [-0.5, -8],
    ]);
    expect(layer.call(tensor([1, 1, 1], { dtype: 'float64' })).toArray()).toEqual([6.5, 1]); // 1-D in, 1-D out
    expect(layer.call(tensor([[[1, 1, 1]], [[2, 0, -1]]], { dtype: 'float64' })).shape).toEqual([2, 1, 2]); // batch axes kept
  });

  it('names the layer and the shape when the input does not fit', () => {
    const layer = new Linear(3, 2);
    expect(() => layer.call(tensor([[1, 2]]))).toThrow("Linear(3 → 2): input's last axis must have size 3, got input shape [1, 2]");
    expect(() => new Linear(-1, 2)).toThrow('Linear: inFeatures must be a non-negative integer, got -1');
  });

  it('passes gradcheck on input, weight and bias for random sizes (float64)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (inF, outF, batch, bias, seed) => {
          const rng = new Generator(seed);
          const layer = new Linear(inF, outF, { rng, dtype: 'float64', bias });
          const x = normal([batch, inF], rng);
          const report = gradcheck((input) => layer.call(input!), [x, ...layer.parameters()]);
          expect(report.ok).toBe(true);
          expect(report.checked).toBe(batch * outF * (batch * inF + outF * inF + (bias ? outF : 0)));
        },
      ),
      { numRuns: runs, seed: SEED },
    );
  });
});

describe('Sequential', () => {
  it('names children 0, 1, … and applies them in order', () => {
    const rng = new Generator(0);
    const first = new Linear(2, 3, { rng, dtype: 'float64' });
    const second = new Linear(3, 1, { rng, dtype: 'float64' });
    const model = new Sequential(first, new Tanh(), second);
    expect([...model.namedParameters()].map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(model.length).toBe(3);
    expect(model.at(-1)).toBe(second);
    expect(() => model.at(3)).toThrow('Sequential.at: index 3 is out of range for 3 layers');
    const x = tensor([[0.5, -1]], { dtype: 'float64' });
    expect(model.call(x).toArray()).toEqual(second.call(first.call(x).tanh()).toArray());
    expect(new Sequential().call(x)).toBe(x);
  });

  it('passes gradcheck on input and every parameter for random sizes and activations (float64)', () => {
    const activations: Array<() => Module> = [() => new Tanh(), () => new Sigmoid(), () => new Softplus(), () => new Softplus(2), () => new ELU()];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: activations.length - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (inF, hidden, outF, batch, act, seed) => {
          const rng = new Generator(seed);
          const model = new Sequential(
            new Linear(inF, hidden, { rng, dtype: 'float64' }),
            activations[act]!(),
            new Linear(hidden, outF, { rng, dtype: 'float64' }),
          );
          const x = normal([batch, inF], rng);
          expect(gradcheck((input) => model.call(input!), [x, ...model.parameters()]).ok).toBe(true);
        },
      ),
      { numRuns: runs, seed: SEED },
    );
  });
});
