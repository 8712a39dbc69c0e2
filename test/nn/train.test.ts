import { describe, expect, it } from 'vitest';
import { binaryCrossEntropyWithLogits, mean, square, sub } from '../../src/autograd/ops.js';
import { rand, tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Linear, type Module, ReLU, Sequential, Tanh } from '../../src/nn/index.js';
import { Adam, type Optimizer, type Hyper, SGD } from '../../src/nn/optim/index.js';

/** Full-batch training: returns the loss of the last step. */
function train<H extends Hyper>(model: Module, opt: Optimizer<H>, loss: (out: Tensor) => Tensor, x: Tensor, steps: number): number {
  let last = Infinity;
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const l = loss(model.call(x));
    l.backward();
    opt.step();
    last = l.item();
  }
  return last;
}

describe('training end to end', () => {
  const x = tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]);
  const y = tensor([[0], [1], [1], [0]]);
  const bce = (logits: Tensor) => binaryCrossEntropyWithLogits(logits, y);

  it('a 2-8-1 tanh MLP learns XOR with Adam: BCE < 0.01 after 300 steps (seed 1, float32)', () => {
    const rng = new Generator(1);
    const model = new Sequential(new Linear(2, 8, { rng }), new Tanh(), new Linear(8, 1, { rng }));
    const before = bce(model.call(x)).item();
    const loss = train(model, new Adam(model.parameters(), { lr: 0.05 }), bce, x, 300);
    expect(before).toBeGreaterThan(0.6); // it starts near ln 2
    expect(loss).toBeLessThan(0.01);
    const predictions = [...model.call(x).data].map((logit) => (logit > 0 ? 1 : 0));
    expect(predictions).toEqual([0, 1, 1, 0]);
  });

  it('a 2-16-1 ReLU MLP learns XOR with SGD + momentum: BCE < 0.05 after 500 steps (seed 4, float64)', () => {
    const rng = new Generator(4);
    const dtype = 'float64';
    const model = new Sequential(new Linear(2, 16, { rng, dtype }), new ReLU(), new Linear(16, 1, { rng, dtype }));
    const loss64 = (logits: Tensor) => binaryCrossEntropyWithLogits(logits, y.to(dtype));
    const loss = train(model, new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), loss64, x.to(dtype), 500);
    expect(loss).toBeLessThan(0.05);
  });

  it('a 1-16-1 tanh MLP fits y = sin(x) on [-3, 3]: MSE < 1e-3 after 1000 Adam steps (seed 2, float64)', () => {
    const rng = new Generator(2);
    const dtype = 'float64';
    const inputs = rand([64, 1], { rng, dtype, low: -3, high: 3 });
    const targets = new Tensor(inputs.data.map(Math.sin), [64, 1]);
    const model = new Sequential(new Linear(1, 16, { rng, dtype }), new Tanh(), new Linear(16, 1, { rng, dtype }));
    const mse = (out: Tensor) => mean(square(sub(out, targets)));
    const before = mse(model.call(inputs)).item();
    const loss = train(model, new Adam(model.parameters(), { lr: 0.01 }), mse, inputs, 1000);
    expect(loss).toBeLessThan(1e-3);
    expect(loss).toBeLessThan(before / 50);
  });
});
