/**
 * `elbo/data`: data sets held in memory, platform-neutral: the `Dataset` shape, IDX parsing from
 * bytes, binarization and shuffled mini-batches. Reading files and the bundled MNIST digits are
 * in `elbo/node`.
 *
 * @packageDocumentation
 */
export { type Dataset, type DataSplits, DataError, DIGIT_CLASSES, imageSize, subset } from './dataset.js';
export { validateDataset, validateSplits, type TargetRange } from './validate.js';
export { parseIdx, encodeIdx, idxToDataset, maybeGunzip, type IdxArray, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.js';
export {
  batches,
  batchTensor,
  datasetTensor,
  binarizeStatic,
  binarizeSampled,
  sampledTestSet,
  SAMPLED_TEST_SEED,
  bernoulliInto,
  shuffledIndices,
  numBatches,
  type Batch,
  type BatchOptions,
  type Binarization,
  STATIC_THRESHOLD,
} from './batches.js';
