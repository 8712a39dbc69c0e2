import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrainedModel, train, TrainingDivergedError, type TrainConfig } from '../../src/vae/train.js';
import { smallMnist } from './fixtures.js';
import { VAE } from '../../src/vae/model.js';
import { modelParameterCount } from '../../src/vae/train-checks.js';
import { removeStaleTemporaries } from '../../src/io/atomic.js';
import { DataError, type Dataset, type DataSplits } from '../../src/data/dataset.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';

const config: Partial<TrainConfig> = { hiddenDims: [32], latentDim: 2, epochs: 3, batchSize: 100, seed: 9, binarize: 'dynamic', warmupEpochs: 1 };
const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'elbo-train-')), 'run');

class Killed extends Error {}

describe('training', () => {
  const data = smallMnist(500, 100);

  it('writes metrics.jsonl, a checkpoint per epoch, and improves the test ELBO', () => {
    const outDir = fresh();
    const { metrics } = train(data, { config, outDir });
    const lines = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3]);
    for (const key of ['epoch', 'train_elbo', 'test_elbo', 'test_reconstruction', 'test_kl', 'samples_per_sec', 'seconds'])
      expect(lines[0]).toHaveProperty(key);
    expect(metrics[2]!.test_elbo).toBeGreaterThan(metrics[0]!.test_elbo);
    expect(existsSync(join(outDir, 'checkpoint.safetensors'))).toBe(true);
    const { model, config: stored, epoch } = loadTrainedModel(outDir);
    expect(epoch).toBe(3);
    expect(stored.hiddenDims).toEqual([32]);
    expect(model.config.latentDim).toBe(2);
  });

  it('killed mid-epoch and resumed, it ends with the same parameters as an uninterrupted run', () => {
    const straight = train(data, { config, outDir: fresh() });
    const outDir = fresh();
    // 5 batches per epoch: kill during epoch 2, after global step 7.
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
    expect(b.length).toBe(a.length);
    a.forEach((p, i) => expect(Array.from(b[i]!.data)).toEqual(Array.from(p.data)));
    expect(resumed.metrics.map((m) => m.test_elbo)).toEqual(straight.metrics.map((m) => m.test_elbo));
  });

  it('stops on a non-finite loss, naming the step, and keeps the last good checkpoint', () => {
    const outDir = fresh();
    let model: VAE | null = null;
    const run = (): unknown =>
      train(
        data,
        { config, outDir },
        {
          onStart: (info) => {
            model = info.model;
          },
          afterStep: (step) => {
            if (step === 6) model!.parameters()[0]!.data[0] = NaN;
          }, // poison a weight in epoch 2
        },
      );
    expect(run).toThrow(TrainingDivergedError);
    expect(run).toThrow(/./); // (second run refuses: the folder holds a run)
    const kept = loadTrainedModel(outDir);
    expect(kept.epoch).toBe(1);
    expect(kept.model.parameters().every((p) => Array.from(p.data).every(Number.isFinite))).toBe(true);
  });

  it('says which step diverged', () => {
    let model: VAE | null = null;
    const outDir = fresh();
    expect(() =>
      train(
        data,
        { config, outDir },
        {
          onStart: (info) => {
            model = info.model;
          },
          afterStep: (step) => {
            if (step === 6) model!.parameters()[0]!.data[0] = NaN;
          },
        },
      ),
    ).toThrow(
      `training stopped at step 7 (epoch 2): the loss is NaN (likely cause: the data hold extreme values, or the learning rate 0.001 is too large for them); the last good checkpoint is kept at ${join(outDir, 'checkpoint.safetensors')}`,
    );
  });

  it('an update that makes a parameter infinite stops the run at that step, naming the tensor and the learning rate; nothing is written', () => {
    const outDir = fresh();
    expect(() => train(data, { config: { ...config, lr: 1e39, batchSize: 100000 }, outDir })).toThrow(
      /^training stopped at step 1 \(epoch 1\): parameter [\w.]+ holds (?:NaN|-?Infinity) after the update \(element \d+\) \(likely cause: the learning rate 1e\+39 is too large \(try --lr 1e-3\)\); no checkpoint had been written yet$/,
    );
    expect(existsSync(join(outDir, 'checkpoint.safetensors'))).toBe(false);
  });

  it('an end-of-epoch evaluation that is not finite stops the run before its checkpoint; the last finite one stays', () => {
    let model: VAE | null = null;
    const outDir = fresh();
    // Poison a weight after the last step of epoch 2 (5 batches an epoch): the update checks have passed, the evaluation sees it.
    expect(() =>
      train(
        data,
        { config, outDir },
        {
          onStart: (info) => {
            model = info.model;
          },
          afterStep: (step) => {
            if (step === 10) model!.parameters()[0]!.data.fill(Infinity);
          },
        },
      ),
    ).toThrow(
      /^training stopped at step 10 \(epoch 2\): the end-of-epoch evaluation's test_elbo is NaN \(likely cause: .*\); the last good checkpoint is kept at /,
    );
    const kept = decodeSafetensors(readFileSync(join(outDir, 'checkpoint.safetensors')));
    expect(kept.metadata.epoch).toBe('1');
    for (const t of Object.values(kept.tensors)) expect(Array.from(t.data).every(Number.isFinite)).toBe(true);
    const lines = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(Number.isFinite((JSON.parse(lines[0]!) as { test_elbo: number }).test_elbo)).toBe(true);
  });

  it('stale temporary files of a killed atomic write are removed when the run is resumed', () => {
    const outDir = fresh();
    train(data, { config: { ...config, epochs: 1 }, outDir });
    const stale = join(outDir, '.checkpoint.safetensors.999999999.0123456789ab.tmp'); // no such process
    writeFileSync(stale, 'half a checkpoint');
    train(data, { config: { epochs: 2 }, outDir, resume: true });
    expect(readdirSync(outDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // a temporary file of a process still running (this one's parent) is another writer's: kept
    const live = `.metrics.jsonl.${process.ppid}.0123456789ab.tmp`;
    writeFileSync(join(outDir, live), '');
    expect(removeStaleTemporaries(outDir)).toEqual([]);
    expect(readdirSync(outDir)).toContain(live);
  });
});

describe('training refuses bad data and bad stored configs before writing anything', () => {
  const data = smallMnist(200, 50);
  const withPixel = (set: Dataset, index: number, value: number): Dataset => {
    const images = set.images.slice();
    images[index] = value;
    return { ...set, images };
  };
  const cases: Array<[string, DataSplits, Partial<TrainConfig>, string]> = [
    [
      'a NaN pixel in the test set',
      { train: data.train, test: withPixel(data.test, 784 * 3 + 17, NaN) },
      {},
      `${data.test.name}: image 3, pixel 17 is NaN; every pixel must be a finite number`,
    ],
    [
      'a pixel of 2 as a Bernoulli target',
      { train: withPixel(data.train, 5, 2), test: data.test },
      {},
      `${data.train.name}: image 0, pixel 5 is 2, but a Bernoulli likelihood needs targets in [0, 1]`,
    ],
    [
      'an infinite pixel under a Gaussian likelihood',
      { train: withPixel(data.train, 5, -Infinity), test: data.test },
      { likelihood: 'gaussian' },
      'image 0, pixel 5 is -Infinity; every pixel must be a finite number',
    ],
    [
      'an empty training set',
      { train: { ...data.train, n: 0, images: new Float32Array(0), labels: new Uint8Array(0) }, test: data.test },
      {},
      `${data.train.name}: the set holds no images`,
    ],
    [
      'train and test images of different sizes',
      { train: data.train, test: { ...data.test, rows: 14, cols: 56 } },
      {},
      `${data.train.name} images are 28×28 but ${data.test.name} images are 14×56`,
    ],
  ];

  it.each(cases)('%s', (_, splits, extra, message) => {
    const outDir = fresh();
    expect(() => train(splits, { config: { ...config, ...extra }, outDir })).toThrow(DataError);
    expect(() => train(splits, { config: { ...config, ...extra }, outDir })).toThrow(message);
    expect(existsSync(outDir)).toBe(false);
  });

  it('a pixel of 2 is fine for a Gaussian likelihood', () => {
    const outDir = fresh();
    const splits = { train: withPixel(data.train, 5, 2), test: data.test };
    expect(train(splits, { config: { ...config, epochs: 1, likelihood: 'gaussian' }, outDir }).metrics).toHaveLength(1);
  });

  const stored: Array<[string, string, RegExp]> = [
    ['an array', '[1,2]', /config\.json: the stored config must be a JSON object, got an array$/],
    ['null', 'null', /config\.json: the stored config must be a JSON object, got null$/],
    ['not JSON', '{epochs: 3', /config\.json: the stored config is not valid JSON \(/],
    ['epochs -3', '{"epochs": -3}', /config\.json: stored config field "epochs" must be an integer >= 1, got -3$/],
    ['lr as a string', '{"lr": "fast"}', /config\.json: stored config field "lr" must be a finite number > 0, got "fast"$/],
    ['hidden sizes with a zero', '{"hiddenDims": [0]}', /config\.json: stored config field "hiddenDims" must be an array of integers >= 1, got \[0\]$/],
  ];

  it.each(stored)('a stored config that is %s is refused on --resume, naming the file', (_, text, message) => {
    const outDir = fresh();
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'config.json'), text);
    expect(() => train(data, { outDir, resume: true })).toThrow(message);
  });
});

describe('modelParameterCount', () => {
  it.each([
    [[400], 20, 'bernoulli'],
    [[], 3, 'gaussian-learned'],
    [[16, 8], 2, 'gaussian'],
  ] as const)('counts what the VAE of hidden %j, latent %d, %s really holds', (hiddenDims, latentDim, likelihood) => {
    const model = new VAE({ inputDim: 784, hiddenDims: [...hiddenDims], latentDim, likelihood });
    expect(modelParameterCount({ hiddenDims: [...hiddenDims], latentDim, likelihood }, 784)).toBe(
      model.parameters().reduce((total, p) => total + p.numel(), 0),
    );
  });
});
