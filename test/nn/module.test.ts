import { describe, expect, it } from 'vitest';
import { mul } from '../../src/autograd/ops.js';
import { ones, tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { Linear, Module, ReLU, Sequential, Tanh } from '../../src/nn/index.js';

class Scale extends Module {
  readonly weight = this.registerParameter('weight', ones([3], { dtype: 'float64' }));
  forward(x: Tensor): Tensor {
    return mul(x, this.weight);
  }
}

class AutoEncoder extends Module {
  readonly encoder: Sequential;
  readonly decoder: Linear;
  constructor(rng: Generator) {
    super();
    this.encoder = this.registerModule('encoder', new Sequential(new Linear(4, 3, { rng }), new ReLU(), new Linear(3, 2, { rng })));
    this.decoder = this.registerModule('decoder', new Linear(2, 4, { rng, bias: false }));
  }
  forward(x: Tensor): Tensor {
    return this.decoder.call(this.encoder.call(x));
  }
}

const names = (m: Module): string[] => [...m.namedParameters()].map(([n]) => n);

describe('Module', () => {
  it('names parameters with dotted paths in registration order', () => {
    const model = new AutoEncoder(new Generator(0));
    expect(names(model)).toEqual(['encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias', 'decoder.weight']);
    expect(model.parameters()).toEqual([...model.namedParameters()].map(([, p]) => p));
    expect(model.parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true);
    expect([...model.namedModules()].map(([n]) => n)).toEqual(['', 'encoder', 'encoder.0', 'encoder.1', 'encoder.2', 'decoder']);
    expect([...model.namedChildren()].map(([n]) => n)).toEqual(['encoder', 'decoder']);
  });

  it('registers parameters declared as class fields', () => {
    const m = new Scale();
    expect(names(m)).toEqual(['weight']);
    expect(m.call(tensor([1, 2, 3], { dtype: 'float64' })).toArray()).toEqual([1, 2, 3]);
  });

  it('lists a parameter shared by two modules once', () => {
    const a = new Linear(2, 2, { rng: new Generator(1) });
    const model = new Sequential(a, new Tanh(), a);
    expect(names(model)).toEqual(['0.weight', '0.bias']);
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerParameter('w', ones([1]));
        this.registerParameter(name, ones([1]));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new Bad('w')).toThrow("registerParameter: 'w' is already registered");
    expect(() => new Bad('a.b')).toThrow('registerParameter: name must be a non-empty string without dots, got "a.b"');
  });

  it('train() and eval() set the training flag on every descendant', () => {
    const model = new AutoEncoder(new Generator(0));
    const flags = (): boolean[] => [...model.namedModules()].map(([, m]) => m.training);
    expect(flags().every((f) => f)).toBe(true);
    expect(model.eval()).toBe(model);
    expect(flags().every((f) => !f)).toBe(true);
    model.train();
    expect(flags().every((f) => f)).toBe(true);
  });

  it('zeroGrad() zeros every gradient in place (the same tensors); setToNone: true clears them', () => {
    const model = new AutoEncoder(new Generator(0));
    model
      .call(ones([5, 4]))
      .sum()
      .backward();
    const grads = model.parameters().map((p) => p.grad);
    expect(grads.every((g) => g?.data.some((v) => v !== 0))).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p, i) => p.grad === grads[i] && p.grad!.data.every((v) => v === 0))).toBe(true);
    model.zeroGrad({ setToNone: true });
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('stateDict() is a snapshot that loadStateDict() restores', () => {
    const model = new AutoEncoder(new Generator(0));
    const dict = model.stateDict();
    expect(Object.keys(dict)).toEqual(names(model));
    const before = Float32Array.from(model.encoder.at(0).parameters()[0]!.data);
    model.parameters().forEach((p) => p.data.fill(7));
    expect(dict['encoder.0.weight']!.data).toEqual(before); // not aliased to the parameter
    const other = new AutoEncoder(new Generator(99));
    expect(other.loadStateDict(dict)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(other.stateDict()).toEqual(dict);
  });

  it('loadStateDict() names the parameter and both shapes on a size mismatch, and changes nothing', () => {
    const model = new AutoEncoder(new Generator(0));
    const dict = model.stateDict();
    dict['encoder.2.weight'] = ones([3, 2]);
    const target = new AutoEncoder(new Generator(5));
    const snapshot = target.stateDict();
    expect(() => target.loadStateDict(dict)).toThrow("loadStateDict: size mismatch for 'encoder.2.weight': expected shape [2, 3], got [3, 2]");
    expect(target.stateDict()).toEqual(snapshot);
    expect(() => target.loadStateDict(dict, { strict: false })).toThrow("size mismatch for 'encoder.2.weight'");
  });

  it('loadStateDict() lists missing and unexpected keys when strict', () => {
    const model = new AutoEncoder(new Generator(0));
    const dict = model.stateDict();
    delete dict['decoder.weight'];
    delete dict['encoder.0.bias'];
    dict['decoder.bias'] = ones([4]);
    expect(() => model.loadStateDict(dict)).toThrow("loadStateDict: missing keys: 'encoder.0.bias', 'decoder.weight'; unexpected keys: 'decoder.bias'");
    expect(model.loadStateDict(dict, { strict: false })).toEqual({ missingKeys: ['encoder.0.bias', 'decoder.weight'], unexpectedKeys: ['decoder.bias'] });
  });

  it('loadStateDict() rejects values that are not tensors', () => {
    const m = new Scale();
    expect(() => m.loadStateDict({ weight: [1, 2, 3] as unknown as Tensor })).toThrow("loadStateDict: 'weight' is not a Tensor");
  });

  it('prints a PyTorch-style summary', () => {
    const model = new AutoEncoder(new Generator(0));
    expect(model.toString()).toBe(
      [
        'AutoEncoder(',
        '  (encoder): Sequential(',
        '    (0): Linear(inFeatures=4, outFeatures=3, bias=true)',
        '    (1): ReLU()',
        '    (2): Linear(inFeatures=3, outFeatures=2, bias=true)',
        '  )',
        '  (decoder): Linear(inFeatures=2, outFeatures=4, bias=false)',
        ')',
      ].join('\n'),
    );
  });
});
