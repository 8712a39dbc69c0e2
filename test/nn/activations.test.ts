import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { tensor } from '../../src/tensor/create.js';
import { ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, type Module } from '../../src/nn/index.js';

// Points away from the kink at 0, so finite differences are valid for ReLU-like functions.
const xs = [-3, -1.5, -0.25, 0.3, 1, 2.5];
const input = () => tensor(xs, { dtype: 'float64', requiresGrad: true });

const cases: Array<[string, Module, (x: number) => number]> = [
  ['ReLU', new ReLU(), (x) => Math.max(x, 0)],
  ['LeakyReLU', new LeakyReLU(), (x) => (x > 0 ? x : 0.01 * x)],
  ['LeakyReLU(0.2)', new LeakyReLU(0.2), (x) => (x > 0 ? x : 0.2 * x)],
  ['ELU', new ELU(), (x) => (x > 0 ? x : Math.exp(x) - 1)],
  ['ELU(0.5)', new ELU(0.5), (x) => (x > 0 ? x : 0.5 * (Math.exp(x) - 1))],
  ['Sigmoid', new Sigmoid(), (x) => 1 / (1 + Math.exp(-x))],
  ['Tanh', new Tanh(), Math.tanh],
  ['Softplus', new Softplus(), (x) => Math.log1p(Math.exp(x))],
  ['Softplus(3)', new Softplus(3), (x) => Math.log1p(Math.exp(3 * x)) / 3],
];

describe('activation modules', () => {
  it.each(cases)('%s matches its formula and passes gradcheck', (_, module, f) => {
    const out = module.call(input()).data;
    xs.forEach((x, i) => expect(out[i]).toBeCloseTo(f(x), 14));
    expect(gradcheck((x) => module.call(x!), [input()]).ok).toBe(true);
    expect([...module.namedParameters()]).toEqual([]);
  });

  it('reject bad settings with a message', () => {
    expect(() => new Softplus(0)).toThrow('Softplus: beta must be positive, got 0');
    expect(() => new LeakyReLU(Number.NaN)).toThrow('LeakyReLU: negativeSlope must be a finite number, got NaN');
    expect(() => new ELU(Infinity)).toThrow('ELU: alpha must be a finite number, got Infinity');
  });

  it('show their settings', () => {
    expect(new LeakyReLU(0.2).toString()).toBe('LeakyReLU(negativeSlope=0.2)');
    expect(new Tanh().toString()).toBe('Tanh()');
  });
});
