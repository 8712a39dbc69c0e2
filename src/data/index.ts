/** Data: the embedded MNIST digits, IDX files, named data sets, binarization and mini-batches. */
export { type Dataset, type DataSplits, DataError, DIGIT_CLASSES, imageSize, subset } from './dataset.js';
export { loadMnist, mnistDigitsDir, MNIST_SPLIT_RULE } from './mnist.js';
export { parseIdx, encodeIdx, loadIdxDataset, idxToDataset, maybeGunzip, type IdxArray, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.js';
export { loadDataset, findIdxFiles, type DatasetSource, type IdxPair, DATASET_NAMES, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from './datasets.js';
export { batches, batchTensor, datasetTensor, binarizeStatic, binarizeSampled, bernoulliInto, shuffledIndices, numBatches, type Batch, type BatchOptions, type Binarization, STATIC_THRESHOLD } from './batches.js';
