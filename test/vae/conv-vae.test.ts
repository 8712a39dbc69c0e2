import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/engine.js';
import { batchTensor, batches } from '../../src/data/batches.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { randn } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { elbo } from '../../src/vae/elbo.js';
import { iwae } from '../../src/vae/iwae.js';
import { VAE } from '../../src/vae/model.js';
import { modelParameterCount, validateTrainConfig } from '../../src/vae/train-checks.js';
import { buildModel, DEFAULT_TRAIN_CONFIG, trainStep } from '../../src/vae/train-step.js';
import { smallMnist } from './fixtures.js';

describe("VAE with arch 'conv'", () => {
  it('has the documented layers, parameter names, shapes and count, and keeps x flat', () => {
    const model = new VAE({ inputDim: 784, arch: 'conv', seed: 0 });
    const shapes = [...model.namedParameters()].map(([name, p]) => [name, p.shape]);
    expect(shapes).toEqual([
      ['encoder.1.weight', [32, 1, 4, 4]],
      ['encoder.1.bias', [32]],
      ['encoder.3.weight', [64, 32, 4, 4]],
      ['encoder.3.bias', [64]],
      ['mu.weight', [20, 3136]],
      ['mu.bias', [20]],
      ['logVar.weight', [20, 3136]],
      ['logVar.bias', [20]],
      ['decoder.0.weight', [3136, 20]],
      ['decoder.0.bias', [3136]],
      ['decoder.3.weight', [64, 32, 4, 4]],
      ['decoder.3.bias', [32]],
      ['output.weight', [32, 1, 4, 4]],
      ['output.bias', [1]],
    ]);
    const count = model.parameters().reduce((n, p) => n + p.numel(), 0);
    expect(modelParameterCount({ ...DEFAULT_TRAIN_CONFIG, arch: 'conv' }, 784)).toBe(count);
    const x = randn([3, 784], { rng: new Generator(1) });
    const { mu, logVar } = model.encode(x);
    expect(mu.shape).toEqual([3, 20]);
    expect(logVar.shape).toEqual([3, 20]);
    expect(model.decode(mu).shape).toEqual([3, 784]);
    expect(model.decode(randn([5, 3, 20], { rng: new Generator(2) })).shape).toEqual([5, 3, 784]); // iwae's k draws
    expect(model.sample(4, new Generator(3)).shape).toEqual([4, 784]);
    expect(
      Number.isFinite(
        iwae(model, x, 4, { rng: new Generator(4) })
          .mean()
          .item(),
      ),
    ).toBe(true);
  });

  it('buildModel builds it from TrainConfig.arch, and the MLP stays the default', () => {
    expect(buildModel({ ...DEFAULT_TRAIN_CONFIG, arch: 'conv' }, 784).config.arch).toBe('conv');
    const mlp = buildModel(DEFAULT_TRAIN_CONFIG, 784);
    expect(mlp.config.arch).toBe('mlp');
    expect([...mlp.namedParameters()].map(([name]) => name)).toEqual([
      'encoder.0.weight',
      'encoder.0.bias',
      'mu.weight',
      'mu.bias',
      'logVar.weight',
      'logVar.bias',
      'decoder.0.weight',
      'decoder.0.bias',
      'output.weight',
      'output.bias',
    ]);
  });

  it('a stored arch is validated; a config stored before arch existed reads as the MLP', () => {
    expect(() => validateTrainConfig({ arch: 'dense' }, 'run/config.json')).toThrow(
      'run/config.json: stored config field "arch" must be one of mlp, conv, got "dense"',
    );
    expect(validateTrainConfig({ arch: 'conv' }, 'run/config.json')).toEqual({ arch: 'conv' });
    const old = validateTrainConfig({ latentDim: 2 }, 'old/config.json');
    expect({ ...DEFAULT_TRAIN_CONFIG, ...old }.arch).toBe('mlp'); // how loadCheckpointConfig fills it in
  });

  it('refuses images it cannot take and conditional models, naming the size', () => {
    expect(() => new VAE({ inputDim: 780, arch: 'conv' })).toThrow(/arch 'conv' needs single-channel square images .* got inputDim 780 \(not a square\)/);
    expect(() => new VAE({ inputDim: 900, arch: 'conv' })).toThrow(/got inputDim 900 \(30×30\)/);
    expect(() => new VAE({ inputDim: 784, arch: 'conv', classes: 10 })).toThrow(/arch 'conv' has no conditional form yet/);
    expect(() => new VAE({ inputDim: 784, arch: 'dense' as 'mlp' })).toThrow(/unknown arch 'dense' \(choose mlp, conv\)/);
  });

  it("the ELBO's gradient with respect to each parameter tensor matches central differences (float64, 8×8)", () => {
    // A full Jacobian check would cost two forward passes per weight (over 40k); a directional
    // derivative along a random direction per parameter tensor checks every tensor's gradient
    // with two passes each: g·v = (f(θ + εv) − f(θ − εv)) / 2ε + O(ε²).
    const model = new VAE({ inputDim: 64, arch: 'conv', latentDim: 3, activation: 'tanh', dtype: 'float64', seed: 5 });
    const rng = new Generator(6);
    const x = noGrad(() => randn([2, 64], { dtype: 'float64', rng }).sigmoid());
    const eps = randn([2, 3], { dtype: 'float64', rng });
    const objective = (): number => noGrad(() => elbo(model, x, { eps }).objective.item());
    model.zeroGrad();
    elbo(model, x, { eps }).objective.backward();
    const h = 1e-5;
    for (const [name, p] of model.namedParameters()) {
      const direction = randn(p.shape, { dtype: 'float64', rng }).data;
      const analytic = Array.from(p.grad!.data).reduce((sum, g, i) => sum + g * direction[i]!, 0);
      const saved = Float64Array.from(p.data);
      p.data.set(saved.map((v, i) => v + h * direction[i]!));
      const up = objective();
      p.data.set(saved.map((v, i) => v - h * direction[i]!));
      const down = objective();
      p.data.set(saved);
      const numeric = (up - down) / (2 * h);
      expect(Math.abs(analytic - numeric), `${name}: backward ${analytic}, finite differences ${numeric}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
      expect(Math.abs(analytic), `${name}: a zero gradient checks nothing`).toBeGreaterThan(1e-8);
    }
  });

  it('a few Adam steps on real digits raise the ELBO of a held batch', () => {
    const data = smallMnist(48, 16);
    const model = new VAE({ inputDim: 784, arch: 'conv', seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
    const rng = new Generator(7);
    const held = new Tensor(
      Float32Array.from(data.test.images, (v) => (v > 0.5 ? 1 : 0)),
      [data.test.n, 784],
    );
    const eps = randn([data.test.n, 20], { rng: new Generator(8) });
    const score = (): number => noGrad(() => elbo(model, held, { eps }).objective.item());
    const before = score();
    for (const batch of batches(data.train, { batchSize: 16, shuffle: true, binarize: 'static', rng })) {
      const { failure } = trainStep(model, optimizer, batchTensor(batch), { beta: 1, rng });
      expect(failure).toBeUndefined();
    }
    const after = score();
    console.log(`conv VAE: held-batch ELBO ${before.toFixed(1)} -> ${after.toFixed(1)} nats`);
    expect(after).toBeGreaterThan(before + 50);
  });
});
