import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { batches, batchTensor, numBatches } from '../data/batches.js';
import type { DataSplits } from '../data/dataset.js';
import { type CheckpointJson, decodeCheckpoint } from '../io/checkpoint.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint-file.js';
import { readRegularFile } from '../io/read-file.js';
import { loadSafetensors } from '../io/safetensors-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Adam } from '../nn/optim/adam.js';
import { buildModel, DEFAULT_TRAIN_CONFIG, testSetFor, type TrainConfig, trainStep } from './train-step.js';
export { buildModel, DEFAULT_TRAIN_CONFIG, testSetFor, scoresAreNats, type TrainConfig, trainStep, type StepPhases, type StepOptimizer } from './train-step.js';
import { deviceName } from '../tensor/device.js';
import { Generator } from '../tensor/random.js';
import { klWeight } from './elbo.js';
import { evaluate } from './evaluate.js';
import { oneHot, type VAE } from './model.js';
import { divergenceCause, nonFiniteEntry, nonFiniteMetric, parseStoredConfig } from './train-checks.js';
import { validateSplits } from '../data/validate.js';
import { removeStaleTemporaries } from '../io/atomic.js';

/** One line of `metrics.jsonl`: means over the epoch's training batches and over the test set, in nats. */
export interface EpochMetrics {
  epoch: number;
  step: number;
  train_loss: number;
  train_elbo: number;
  train_reconstruction: number;
  train_kl: number;
  test_elbo: number;
  test_reconstruction: number;
  test_kl: number;
  kl_weight: number;
  samples_per_sec: number;
  seconds: number;
  backend: string;
}

/** Live numbers after each batch, for progress bars. */
export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  elbo: number;
  kl: number;
  samplesPerSec: number;
}

/** Callbacks {@link train} calls as it runs (progress bars, logs, tests). */
export interface TrainHooks {
  /** Before the first epoch: where training starts (0, or the epoch a resumed run had reached). */
  onStart?(info: { resumedFromEpoch: number; config: TrainConfig; outDir: string; model: VAE }): void;
  /** After each batch, with the epoch's running means. */
  onBatch?(progress: BatchProgress): void;
  /** After each epoch's evaluation and checkpoint. */
  onEpoch?(metrics: EpochMetrics): void;
  /** Test hook: called after each batch with the global step; throwing here simulates a kill. */
  afterStep?(step: number): void;
}

/** Thrown when a loss or gradient stops being finite; the last good checkpoint stays on disk. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

/** The checkpoint's file name in a run folder. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** The per-epoch metrics' file name in a run folder (one JSON object a line). */
export const METRICS_FILE = 'metrics.jsonl';

/** Seeds: weights from Generator(seed); data order, noise and dynamic binarization from Generator(seed + TRAIN_STREAM). */
const TRAIN_STREAM = 1_000_003;

/** What {@link train} returns: the trained model (in eval mode), every epoch's metrics, and the run's folder and config. */
export interface TrainResult {
  model: VAE;
  metrics: EpochMetrics[];
  outDir: string;
  config: TrainConfig;
}

/**
 * Trains a VAE by maximizing the ELBO with Adam, checkpointing atomically after every epoch into
 * `outDir`. With `resume`, training continues from the checkpoint there exactly as if it had
 * never stopped (same parameters, optimizer moments, random stream and metrics).
 */
export function train(data: DataSplits, options: { config?: Partial<TrainConfig>; outDir: string; resume?: boolean }, hooks: TrainHooks = {}): TrainResult {
  const { outDir } = options;
  const checkpointPath = join(outDir, CHECKPOINT_FILE);
  const metricsPath = join(outDir, METRICS_FILE);
  const configPath = join(outDir, 'config.json');
  let config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...options.config };
  const hasCheckpoint = existsSync(checkpointPath);
  if (options.resume) {
    // The checkpoint is the truth; a run killed before its first checkpoint restarts from its config.json.
    const stored = storedRunConfig(outDir);
    if (!stored) throw new Error(`${outDir} holds no run to resume (no ${CHECKPOINT_FILE}, no config.json)`);
    config = { ...stored, epochs: Math.max(stored.epochs, options.config?.epochs ?? stored.epochs) };
  } else if (hasCheckpoint || existsSync(configPath)) {
    throw new Error(`${outDir} already holds a run; pass --resume to continue it, or choose another --out`);
  }
  validateSplits(data, config.likelihood === 'bernoulli' ? 'unit' : 'real'); // before anything is written
  const inputDim = data.train.rows * data.train.cols;
  const rng = new Generator(config.seed + TRAIN_STREAM);
  const model = buildModel(config, inputDim);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  mkdirSync(outDir, { recursive: true }); // after the model is built: a model too large leaves no folder
  removeStaleTemporaries(outDir); // of atomic writes a kill interrupted
  let step = 0;
  let startEpoch = 0;
  let metrics: EpochMetrics[] = [];
  if (options.resume && hasCheckpoint) {
    const loaded = loadCheckpoint(checkpointPath, { model, optimizer, rng });
    step = loaded.step;
    startEpoch = loaded.epoch ?? 0;
    metrics = (loaded.config?.history as unknown as EpochMetrics[] | undefined) ?? [];
  }
  writeFileAtomic(metricsPath, encodeLines(metrics));
  writeFileAtomic(configPath, new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
  hooks.onStart?.({ resumedFromEpoch: startEpoch, config, outDir, model });

  const testSet = testSetFor(config, data.test);
  const perEpoch = numBatches(data.train.n, config.batchSize);
  const warmupSteps = config.warmupEpochs * perEpoch;
  for (let epoch = startEpoch + 1; epoch <= config.epochs; epoch++) {
    model.train();
    const started = performance.now();
    const sums = { loss: 0, elbo: 0, reconstruction: 0, kl: 0, n: 0 };
    let batchIndex = 0;
    let weight = klWeight(step, config.beta, warmupSteps);
    for (const batch of batches(data.train, { batchSize: config.batchSize, shuffle: true, binarize: config.binarize, rng, dtype: config.dtype })) {
      weight = klWeight(step, config.beta, warmupSteps);
      const y = config.classes > 0 ? oneHot(batch.labels, config.classes, config.dtype) : undefined;
      const { result, loss, failure } = trainStep(model, optimizer, batchTensor(batch), { beta: weight, rng, y });
      if (failure) diverged(failure, step + 1, epoch, checkpointPath, divergenceCause(config));
      const broken = nonFiniteEntry(model.namedParameters());
      if (broken)
        diverged(
          `parameter ${broken.name} holds ${broken.value} after the update (element ${broken.index})`,
          step + 1,
          epoch,
          checkpointPath,
          divergenceCause(config),
        );
      step++;
      batchIndex++;
      const size = batch.size;
      sums.loss += loss * size;
      sums.n += size;
      for (const [key, t] of [
        ['elbo', result.elbo],
        ['reconstruction', result.reconstruction],
        ['kl', result.kl],
      ] as const) {
        for (const v of t.data) sums[key] += v;
      }
      const seconds = (performance.now() - started) / 1000;
      hooks.onBatch?.({
        epoch,
        epochs: config.epochs,
        batch: batchIndex,
        batches: perEpoch,
        loss: sums.loss / sums.n,
        elbo: sums.elbo / sums.n,
        kl: sums.kl / sums.n,
        samplesPerSec: sums.n / seconds,
      });
      hooks.afterStep?.(step);
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const test = evaluate(model, testSet, { seed: config.seed });
    const m: EpochMetrics = {
      epoch,
      step,
      train_loss: sums.loss / sums.n,
      train_elbo: sums.elbo / sums.n,
      train_reconstruction: sums.reconstruction / sums.n,
      train_kl: sums.kl / sums.n,
      test_elbo: test.elbo,
      test_reconstruction: test.reconstruction,
      test_kl: test.kl,
      kl_weight: weight,
      samples_per_sec: sums.n / trainSeconds,
      seconds: (performance.now() - started) / 1000,
      backend: deviceName(config.dtype),
    };
    const notFinite = nonFiniteMetric(m);
    if (notFinite) diverged(`the end-of-epoch evaluation's ${notFinite}`, step, epoch, checkpointPath, divergenceCause(config));
    metrics.push(m);
    // Checkpoint first (it carries the metrics history too), then metrics.jsonl: a kill between
    // the two loses nothing, since --resume rewrites metrics.jsonl from the checkpoint.
    saveCheckpoint(checkpointPath, {
      model,
      optimizer,
      step,
      epoch,
      rng,
      config: { ...config, history: metrics } as unknown as { [key: string]: CheckpointJson },
    });
    writeFileAtomic(metricsPath, encodeLines(metrics));
    hooks.onEpoch?.(m);
  }
  model.eval();
  return { model, metrics, outDir, config };
}

function diverged(what: string, step: number, epoch: number, checkpointPath: string, cause?: string): never {
  const kept = existsSync(checkpointPath) ? `the last good checkpoint is kept at ${checkpointPath}` : 'no checkpoint had been written yet';
  throw new TrainingDivergedError(`training stopped at step ${step} (epoch ${epoch}): ${what}${cause ? ` (${cause})` : ''}; ${kept}`);
}

/** The training config stored in a checkpoint's metadata. */
export function loadCheckpointConfig(path: string): TrainConfig {
  return configOf(loadSafetensors(path).metadata, path);
}

/** The training config in a checkpoint's metadata (read from `path`), its history dropped. */
function configOf(metadata: Readonly<Record<string, string>>, path: string): TrainConfig {
  if (!metadata.config) throw new Error(`${path}: this checkpoint holds no training config`);
  return { ...DEFAULT_TRAIN_CONFIG, ...parseStoredConfig(metadata.config, path) };
}

const encodeLines = (metrics: readonly EpochMetrics[]): Uint8Array => new TextEncoder().encode(metrics.map((m) => JSON.stringify(m) + '\n').join(''));

/** The config of the run in `outDir` (from its checkpoint, else its config.json), or null when there is none. */
export function storedRunConfig(outDir: string): TrainConfig | null {
  const checkpointPath = join(outDir, CHECKPOINT_FILE);
  const configPath = join(outDir, 'config.json');
  return existsSync(checkpointPath) ? loadCheckpointConfig(checkpointPath) : existsSync(configPath) ? readConfig(configPath) : null;
}

function readConfig(path: string): TrainConfig {
  return { ...DEFAULT_TRAIN_CONFIG, ...parseStoredConfig(new TextDecoder().decode(readRegularFile(path)), path) };
}

/**
 * Rebuilds the trained model stored in a checkpoint (a file, or a run folder holding
 * `checkpoint.safetensors`), with its training config.
 */
export function loadTrainedModel(path: string): { model: VAE; config: TrainConfig; inputDim: number; epoch?: number } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, CHECKPOINT_FILE) : path;
  if (!existsSync(file)) throw new Error(`no checkpoint at ${file}`);
  const bytes = readRegularFile(file); // read once: config, sizes and weights all come from these bytes
  const { tensors, metadata } = decodeSafetensors(bytes);
  const config = configOf(metadata, file);
  // The MLP's output bias has D entries; the conv decoder's first Linear feeds 64·(D/16) features.
  const sized = config.arch === 'conv' ? tensors['model.decoder.0.bias'] : tensors['model.output.bias'];
  if (sized?.ndim !== 1) throw new Error(`${file}: not a VAE checkpoint (no ${config.arch === 'conv' ? 'model.decoder.0.bias' : 'model.output.bias'})`);
  const inputDim = config.arch === 'conv' ? (sized.shape[0]! / 64) * 16 : sized.shape[0]!;
  const model = buildModel(config, inputDim);
  const loaded = decodeCheckpoint(bytes, { model }, file);
  model.eval();
  return { model, config, inputDim, epoch: loaded.epoch };
}
