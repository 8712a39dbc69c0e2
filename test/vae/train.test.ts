import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrainedModel, train, TrainingDivergedError, type TrainConfig } from '../../src/vae/train.js';
import { smallMnist } from './fixtures.js';
import type { VAE } from '../../src/vae/model.js';

const config: Partial<TrainConfig> = { hiddenDims: [32], latentDim: 2, epochs: 3, batchSize: 100, seed: 9, binarize: 'dynamic', warmupEpochs: 1 };
const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'elbo-train-')), 'run');

class Killed extends Error {}

describe('training', () => {
  const data = smallMnist(500, 100);

  it('writes metrics.jsonl, a checkpoint per epoch, and improves the test ELBO', () => {
    const outDir = fresh();
    const { metrics } = train(data, { config, outDir });
    const lines = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3]);
    for (const key of ['epoch', 'train_elbo', 'test_elbo', 'test_reconstruction', 'test_kl', 'samples_per_sec', 'seconds']) expect(lines[0]).toHaveProperty(key);
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
    expect(() => train(data, { config, outDir }, { afterStep: (step) => { if (step === 7) throw new Killed(); } })).toThrow(Killed);
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
    const run = (): unknown => train(data, { config, outDir }, {
      onStart: (info) => { model = info.model; },
      afterStep: (step) => { if (step === 6) model!.parameters()[0]!.data[0] = NaN; }, // poison a weight in epoch 2
    });
    expect(run).toThrow(TrainingDivergedError);
    expect(run).toThrow(/./); // (second run refuses: the folder holds a run)
    const kept = loadTrainedModel(outDir);
    expect(kept.epoch).toBe(1);
    expect(kept.model.parameters().every((p) => Array.from(p.data).every(Number.isFinite))).toBe(true);
  });

  it('says which step diverged', () => {
    let model: VAE | null = null;
    const outDir = fresh();
    expect(() => train(data, { config, outDir }, {
      onStart: (info) => { model = info.model; },
      afterStep: (step) => { if (step === 6) model!.parameters()[0]!.data[0] = NaN; },
    })).toThrow(`training stopped at step 7 (epoch 2): the loss is NaN; the last good checkpoint is kept at ${join(outDir, 'checkpoint.safetensors')}`);
  });
});
