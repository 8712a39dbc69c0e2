import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { interpolationPicture, reconstructionPicture } from '../../src/vae/artifacts.js';
import { VAE } from '../../src/vae/model.js';

describe('run pictures', () => {
  it('draws the reconstructions of a test set smaller than the number asked for (all of its images)', () => {
    const test: Dataset = {
      name: 'tiny',
      n: 3,
      rows: 2,
      cols: 2,
      images: Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 4),
      labels: Uint8Array.from([0, 1, 2]),
    };
    const model = new VAE({ inputDim: 4, hiddenDims: [3], latentDim: 2, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
    const picture = reconstructionPicture(model, test, 30);
    expect(picture.caption.startsWith('3 test images')).toBe(true);
    expect(picture.image.width).toBeGreaterThan(0);
  });

  it('shows each interpolation between its two end digits', () => {
    // Ten 2×2 digits, labels 0-9; digit d has ink (1) in pixel d % 4 only.
    const images = Float32Array.from({ length: 40 }, (_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0));
    const test: Dataset = { name: 'tiny', n: 10, rows: 2, cols: 2, images, labels: Uint8Array.from({ length: 10 }, (_, i) => i) };
    const model = new VAE({ inputDim: 4, hiddenDims: [3], latentDim: 2, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
    const { image, caption } = interpolationPicture(model, test, 3, 1)!; // digit 0 to digit 5
    const [pad, tile] = [2, 2 * 2 + 2];
    expect(image.width).toBe(pad + 5 * tile); // x₁, 3 decoded points, x₂
    const grey = (tileIndex: number, pixel: number): number =>
      image.data[3 * ((pad + 2 * Math.floor(pixel / 2)) * image.width + pad + tileIndex * tile + 2 * (pixel % 2))]!;
    expect([0, 1, 2, 3].map((p) => grey(0, p))).toEqual([255, 0, 0, 0]); // digit 0: ink in pixel 0
    expect([0, 1, 2, 3].map((p) => grey(4, p))).toEqual([0, 255, 0, 0]); // digit 5: ink in pixel 1
    expect(caption).toContain('x₁ (left)');
  });
});
