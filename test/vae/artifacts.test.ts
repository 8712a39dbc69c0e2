import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { reconstructionPicture } from '../../src/vae/artifacts.js';
import { VAE } from '../../src/vae/model.js';

describe('run pictures', () => {
  it('draws the reconstructions of a test set smaller than the number asked for (all of its images)', () => {
    const test: Dataset = { name: 'tiny', n: 3, rows: 2, cols: 2, images: Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 4), labels: Uint8Array.from([0, 1, 2]) };
    const model = new VAE({ inputDim: 4, hiddenDims: [3], latentDim: 2, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
    const picture = reconstructionPicture(model, test, 30);
    expect(picture.caption.startsWith('3 test images')).toBe(true);
    expect(picture.image.width).toBeGreaterThan(0);
  });
});
