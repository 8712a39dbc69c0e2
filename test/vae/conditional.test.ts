import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { add, concat, mul, slice } from '../../src/autograd/ops.js';
import { randn, tensor } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { elbo } from '../../src/vae/elbo.js';
import { evaluate } from '../../src/vae/evaluate.js';
import { iwae } from '../../src/vae/iwae.js';
import { oneHot, VAE } from '../../src/vae/model.js';
import { loadTrainedModel, train, type TrainConfig } from '../../src/vae/train.js';
import { smallMnist } from './fixtures.js';

const param = (model: VAE, name: string) => new Map(model.namedParameters()).get(name)!;
const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'elbo-cvae-')), 'run');

describe('oneHot', () => {
  it('puts a 1 at each label and rejects labels outside 0..K−1', () => {
    expect(Array.from(oneHot([2, 0], 3).data)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(oneHot([1], 4, 'float64').dtype).toBe('float64');
    expect(() => oneHot([3], 3)).toThrow('oneHot: label 3 at index 0 is not a class in 0..2');
  });
});

describe('conditional VAE', () => {
  const cvae = new VAE({ inputDim: 6, hiddenDims: [5], latentDim: 2, classes: 3, dtype: 'float64', seed: 4 });
  const x = tensor(
    [
      [0, 1, 0, 1, 1, 0],
      [1, 1, 0, 0, 0, 1],
      [0, 0, 1, 1, 0, 0],
    ],
    { dtype: 'float64' },
  );
  const y = oneHot([0, 2, 1], 3, 'float64');

  it('widens the encoder input to D + K and the decoder input to L + K', () => {
    expect(param(cvae, 'encoder.0.weight').shape).toEqual([5, 9]);
    expect(param(cvae, 'decoder.0.weight').shape).toEqual([5, 5]);
  });

  it('encodes [x, y] and decodes [z, y]: the class changes q and p', () => {
    const other = oneHot([1, 1, 1], 3, 'float64');
    expect(Array.from(cvae.encode(x, y).mu.data)).not.toEqual(Array.from(cvae.encode(x, other).mu.data));
    const z = randn([3, 2], { dtype: 'float64', rng: new Generator(1) });
    expect(Array.from(cvae.decode(z, y).data)).not.toEqual(Array.from(cvae.decode(z, other).data));
    // The first layer sees exactly the concatenation.
    const first = param(cvae, 'encoder.0.weight');
    const bias = param(cvae, 'encoder.0.bias');
    const input = concat([x, y], 1);
    const pre = Array.from(
      { length: 5 },
      (_, h) => bias.data[h]! + Array.from({ length: 9 }, (_, j) => first.data[h * 9 + j]! * input.data[j]!).reduce((s, v) => s + v, 0),
    );
    const hidden = pre.map((v) => Math.max(0, v));
    const muWeight = cvae.mu.weight.data;
    const mu0 = cvae.mu.bias!.data[0]! + hidden.reduce((s, v, h) => s + v * muWeight[h]!, 0);
    expect(cvae.encode(x, y).mu.data[0]).toBeCloseTo(mu0, 12);
  });

  it('needs y when conditional, refuses y when not, and names the shapes', () => {
    expect(() => cvae.encode(x)).toThrow('VAE.encode: this model is conditional on 3 classes: pass y, one-hot [batch, 3]');
    expect(() => cvae.decode(randn([3, 2], { dtype: 'float64' }))).toThrow('VAE.decode: this model is conditional on 3 classes');
    expect(() => cvae.encode(x, oneHot([0, 1], 3, 'float64'))).toThrow(
      'VAE.encode: y must be one-hot [batch, 3] with batch dividing the 3 rows of [3, 6], got [2, 3]',
    );
    expect(() => elbo(cvae, x)).toThrow('conditional on 3 classes');
    const plain = new VAE({ inputDim: 6, hiddenDims: [5], latentDim: 2, dtype: 'float64' });
    expect(() => plain.encode(x, y)).toThrow('VAE.encode: a class y was given, but this model is unconditional');
    expect(() => plain.given(y)).toThrow('VAE.given: this model is unconditional');
    expect(() => cvae.given(oneHot([0], 2, 'float64'))).toThrow('ConditionedVAE: y must be one-hot [batch, 3], got [1, 2]');
  });

  it('elbo(model.given(y), x) scores each row under its own class, as one-row batches do', () => {
    const eps = randn([3, 2], { dtype: 'float64', rng: new Generator(2) });
    const batch = elbo(cvae.given(y), x, { eps }).elbo.data;
    for (let n = 0; n < 3; n++) {
      const one = elbo(cvae.given(y.slice(0, n, n + 1)), x.slice(0, n, n + 1), { eps: eps.slice(0, n, n + 1) }).elbo.data[0]!;
      expect(batch[n]).toBeCloseTo(one, 12);
    }
  });

  it("iwae(model.given(y), x, k) lines each draw up with its own example's class", () => {
    const k = 7;
    const eps = randn([k, 3, 2], { dtype: 'float64', rng: new Generator(3) });
    const batch = iwae(cvae.given(y), x, k, { eps, chunkSize: 3 }).data;
    for (let n = 0; n < 3; n++) {
      const epsN = tensor(
        Array.from({ length: k }, (_, i) => [Array.from(eps.data.subarray((i * 3 + n) * 2, (i * 3 + n) * 2 + 2))]),
        { dtype: 'float64' },
      );
      const one = iwae(cvae.given(y.slice(0, n, n + 1)), x.slice(0, n, n + 1), k, { eps: epsN }).data[0]!;
      expect(batch[n]).toBeCloseTo(one, 12);
    }
  });

  it('interpolates between codes encoded with their own labels, the label moving along the same line', () => {
    const [x1, x2, y1, y2] = [slice(x, 0, 0, 1), slice(x, 0, 1, 2), slice(y, 0, 0, 1), slice(y, 0, 1, 2)];
    const line = cvae.interpolate(x1, x2, 3, y1, y2);
    const [mu1, mu2] = [cvae.encode(x1, y1).mu, cvae.encode(x2, y2).mu];
    const middle = cvae.mean(cvae.decode(mul(add(mu1, mu2), 0.5), mul(add(y1, y2), 0.5)));
    const expected = [cvae.mean(cvae.decode(mu1, y1)), middle, cvae.mean(cvae.decode(mu2, y2))].flatMap((t) => Array.from(t.data));
    const got = Array.from(line.data);
    expect(got).toHaveLength(18);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    expect(() => cvae.interpolate(x1, x2, 3)).toThrow("VAE.interpolate: this model is conditional on 3 classes; pass each end's one-hot label (y1, y2)");
    const plain = new VAE({ inputDim: 6, hiddenDims: [5], latentDim: 2, dtype: 'float64', seed: 4 });
    expect(() => plain.interpolate(x1, x2, 3, y1, y2)).toThrow('VAE.interpolate: labels were given, but this model is unconditional');
  });

  it('samples of class c: decode(z, y) with one y row tiled over n draws', () => {
    const a = cvae.sample(4, new Generator(5), oneHot([2], 3, 'float64'));
    const b = cvae.sample(4, new Generator(5), oneHot([2, 2, 2, 2], 3, 'float64'));
    expect(a.shape).toEqual([4, 6]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('conditional training', () => {
  const data = smallMnist(500, 100);
  const config: Partial<TrainConfig> = { hiddenDims: [32], latentDim: 2, epochs: 3, batchSize: 100, seed: 9, binarize: 'dynamic', classes: 10 };
  class Killed extends Error {}

  it("trains, checkpoints with its class count, reloads, and evaluates on each image's own label", () => {
    const outDir = fresh();
    const { metrics } = train(data, { config, outDir });
    expect(metrics[2]!.test_elbo).toBeGreaterThan(metrics[0]!.test_elbo);
    const { model, config: stored } = loadTrainedModel(outDir);
    expect(stored.classes).toBe(10);
    expect(model.config.classes).toBe(10);
    const right = evaluate(model, data.test, { seed: 1, binarize: 'static' });
    // The same images scored under the wrong class (label + 5 mod 10) fit worse.
    const wrong = evaluate(model, { ...data.test, labels: data.test.labels.map((l) => (l + 5) % 10) }, { seed: 1, binarize: 'static' });
    expect(right.elbo).toBeGreaterThan(wrong.elbo);
  });

  it('killed mid-epoch and resumed, it ends with the same parameters as an uninterrupted run', () => {
    const straight = train(data, { config, outDir: fresh() });
    const outDir = fresh();
    expect(() =>
      train(
        data,
        { config, outDir },
        {
          afterStep: (step) => {
            if (step === 7) throw new Killed();
          },
        },
      ),
    ).toThrow(Killed);
    const resumed = train(data, { config, outDir, resume: true });
    const a = straight.model.parameters();
    const b = resumed.model.parameters();
    a.forEach((p, i) => expect(Array.from(b[i]!.data)).toEqual(Array.from(p.data)));
    expect(resumed.metrics.map((m) => m.test_elbo)).toEqual(straight.metrics.map((m) => m.test_elbo));
  });
});
