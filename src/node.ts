/**
 * `elbo/node`: the parts of elbo that need Node: files (safetensors and checkpoints on disk,
 * atomic writes), data sets on disk (the bundled MNIST digits, Fashion-MNIST, IDX files),
 * training runs that checkpoint to a folder and resume, and the pictures and report of a run.
 * Everything else is in the platform-neutral entries (`elbo`, `elbo/nn`, `elbo/optim`,
 * `elbo/vae`, `elbo/data`, `elbo/io`).
 *
 * @packageDocumentation
 */
export { writeFileAtomic } from './io/atomic.js';
export { saveSafetensors, loadSafetensors } from './io/safetensors-file.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint-file.js';
export { encodePng, decodePng, writePng, PngError, type PngImage } from './io/png.js';
export { loadMnist, MNIST_SPLIT_RULE } from './data/mnist.js';
export { loadIdxDataset } from './data/idx-file.js';
export { loadDataset, findIdxFiles, type DatasetSource, type IdxPair, DATASET_NAMES, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from './data/datasets.js';
export {
  train,
  loadTrainedModel,
  loadCheckpointConfig,
  storedRunConfig,
  TrainingDivergedError,
  CHECKPOINT_FILE,
  METRICS_FILE,
  type TrainHooks,
  type TrainResult,
  type EpochMetrics,
  type BatchProgress,
} from './vae/train.js';
export { writePictures, type Picture } from './vae/artifacts.js';
export { renderReport, writeReport, type ReportContents } from './vae/report.js';
