import { describe, expect, it } from 'vitest';
import { buildModel, DEFAULT_TRAIN_CONFIG } from '../../src/vae/train-step.js';
import { checkpointBytes, modelFromCheckpoint } from '../../web/src/checkpoint.js';

describe("the lab's checkpoints", () => {
  it('a conv VAE (its output bias is per channel, [1]) saves and loads back with its arch and weights', () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, arch: 'conv' as const, latentDim: 4 };
    const model = buildModel(config, 784);
    const loaded = modelFromCheckpoint(checkpointBytes(model, config, 7, 1));
    expect(loaded.config.arch).toBe('conv');
    expect(loaded.model.config.arch).toBe('conv');
    expect([loaded.step, loaded.epoch]).toEqual([7, 1]);
    expect(loaded.model.stateDict()).toEqual(model.stateDict());
  });

  it('an MLP whose output is not 784 pixels is still refused by its size', () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, hiddenDims: [8], latentDim: 2 };
    expect(() => modelFromCheckpoint(checkpointBytes(buildModel(config, 100), config, 0, 0))).toThrow(
      "mismatched checkpoint: it models images of 100 pixels, the lab's digits have 784 (28×28)",
    );
  });
});
