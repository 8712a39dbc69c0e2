import { DataError, type Dataset, type DataSplits } from './dataset.js';

/** What the pixels are targets of: `'unit'` for a Bernoulli decoder (each pixel in [0, 1]), `'real'` for a Gaussian one (any finite value). */
export type TargetRange = 'unit' | 'real';

/**
 * Checks one data set before any work is done on it: at least one image, a positive image
 * size, and every pixel finite (and in [0, 1] when `range` is `'unit'`).
 * @throws DataError naming the set, the image and the pixel, e.g.
 *   `mnist/train: image 3, pixel 17 is NaN; every pixel must be a finite number`.
 */
export function validateDataset(data: Dataset, range: TargetRange): void {
  if (!(data.n > 0)) throw new DataError(`${data.name}: the set holds no images; training and evaluation need at least one`);
  const dim = data.rows * data.cols;
  if (!(dim > 0)) throw new DataError(`${data.name}: images are ${data.rows}×${data.cols}, which holds no pixels`);
  if (data.images.length !== data.n * dim)
    throw new DataError(`${data.name}: ${data.images.length} pixels do not make ${data.n} images of ${data.rows}×${data.cols}`);
  const pixels = data.images;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    if (Number.isFinite(v) && (range === 'real' || (v >= 0 && v <= 1))) continue;
    const where = `${data.name}: image ${Math.floor(i / dim)}, pixel ${i % dim} is ${v}`;
    throw new DataError(
      Number.isFinite(v)
        ? `${where}, but a Bernoulli likelihood needs targets in [0, 1] (use --likelihood gaussian for other values)`
        : `${where}; every pixel must be a finite number`,
    );
  }
}

/**
 * Checks a train/test pair as {@link validateDataset} does, and that both splits hold images
 * of one size (a model reads a fixed number of pixels).
 * @throws DataError naming the split and the mismatch.
 */
export function validateSplits(data: DataSplits, range: TargetRange): void {
  const { train, test } = data;
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(
      `${train.name} images are ${train.rows}×${train.cols} but ${test.name} images are ${test.rows}×${test.cols}; both splits need one image size`,
    );
  }
  validateDataset(train, range);
  validateDataset(test, range);
}
