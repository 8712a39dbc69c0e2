import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { batches, batchTensor, type Binarization, binarizeStatic, numBatches, sampledTestSet } from '../data/batches.js';
import type { DataSplits, Dataset } from '../data/dataset.js';
import { type CheckpointJson, loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { loadSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Adam } from '../nn/optim/adam.js';
import { Tensor } from '../tensor/tensor.js';
import { backendFor, cpuBackend, getBackend, inScratchScope } from '../kernels/index.js';
import { zeroGradInPlace } from '../autograd/engine.js';
import { allocate, allocateEmpty, type DType } from '../tensor/dtype.js';
import { Generator } from '../tensor/random.js';
import { type ElboResult, elbo, klWeight } from './elbo.js';
import { evaluate } from './evaluate.js';
import type { LikelihoodName } from './likelihoods.js';
import { type ActivationName, VAE } from './model.js';

/** Everything that defines a training run; stored in the checkpoint so `--resume` needs no flags. */
export interface TrainConfig {
  data: string;
  hiddenDims: number[];
  latentDim: number;
  likelihood: LikelihoodName;
  sigma: number;
  activation: ActivationName;
  dtype: DType;
  epochs: number;
  batchSize: number;
  lr: number;
  beta: number;
  /** Epochs over which the KL weight rises linearly from 0 to β (0: no warm-up). */
  warmupEpochs: number;
  seed: number;
  binarize: Binarization;
}

/** The standard VAE of Kingma & Welling as in the PyTorch example: 784-400-20, Bernoulli, Adam 1e-3, batch 128. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  data: 'mnist', hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli', sigma: 1, activation: 'relu', dtype: 'float32',
  epochs: 20, batchSize: 128, lr: 1e-3, beta: 1, warmupEpochs: 0, seed: 1, binarize: 'none',
};

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

export interface TrainHooks {
  onStart?(info: { resumedFromEpoch: number; config: TrainConfig; outDir: string; model: VAE }): void;
  onBatch?(progress: BatchProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
  /** Test hook: called after each batch with the global step; throwing here simulates a kill. */
  afterStep?(step: number): void;
}

/** Thrown when a loss or gradient stops being finite; the last good checkpoint stays on disk. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const METRICS_FILE = 'metrics.jsonl';

/** Seeds: weights from Generator(seed); data order, noise and dynamic binarization from Generator(seed + TRAIN_STREAM). */
const TRAIN_STREAM = 1_000_003;

export interface TrainResult {
  model: VAE;
  metrics: EpochMetrics[];
  outDir: string;
  config: TrainConfig;
}

export const buildModel = (config: TrainConfig, inputDim: number): VAE =>
  new VAE({ inputDim, hiddenDims: config.hiddenDims, latentDim: config.latentDim, likelihood: config.likelihood, sigma: config.sigma, activation: config.activation, dtype: config.dtype, seed: config.seed });

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
    if (!stored) throw new Error(`train --resume: ${outDir} holds no run (no ${CHECKPOINT_FILE}, no config.json)`);
    config = { ...stored, epochs: Math.max(stored.epochs, options.config?.epochs ?? stored.epochs) };
  } else if (hasCheckpoint || existsSync(configPath)) {
    throw new Error(`train: ${outDir} already holds a run; pass --resume to continue it, or choose another --out`);
  }
  mkdirSync(outDir, { recursive: true });
  const inputDim = data.train.rows * data.train.cols;
  const rng = new Generator(config.seed + TRAIN_STREAM);
  const model = buildModel(config, inputDim);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
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
      const { result, loss, failure } = trainStep(model, optimizer, batchTensor(batch), { beta: weight, rng });
      if (failure) diverged(failure, step + 1, epoch, checkpointPath);
      step++;
      batchIndex++;
      const size = batch.size;
      sums.loss += loss * size;
      sums.n += size;
      for (const [key, t] of [['elbo', result.elbo], ['reconstruction', result.reconstruction], ['kl', result.kl]] as const) {
        for (let i = 0; i < t.data.length; i++) sums[key] += t.data[i]!;
      }
      const seconds = (performance.now() - started) / 1000;
      hooks.onBatch?.({ epoch, epochs: config.epochs, batch: batchIndex, batches: perEpoch, loss: sums.loss / sums.n, elbo: sums.elbo / sums.n, kl: sums.kl / sums.n, samplesPerSec: sums.n / seconds });
      hooks.afterStep?.(step);
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const test = evaluate(model, testSet, { seed: config.seed });
    const m: EpochMetrics = {
      epoch, step, train_loss: sums.loss / sums.n, train_elbo: sums.elbo / sums.n, train_reconstruction: sums.reconstruction / sums.n, train_kl: sums.kl / sums.n,
      test_elbo: test.elbo, test_reconstruction: test.reconstruction, test_kl: test.kl, kl_weight: weight,
      samples_per_sec: sums.n / trainSeconds, seconds: (performance.now() - started) / 1000, backend: getBackend().name,
    };
    metrics.push(m);
    // Checkpoint first (it carries the metrics history too), then metrics.jsonl: a kill between
    // the two loses nothing, since --resume rewrites metrics.jsonl from the checkpoint.
    saveCheckpoint(checkpointPath, { model, optimizer, step, epoch, rng, config: { ...config, history: metrics } as unknown as { [key: string]: CheckpointJson } });
    writeFileAtomic(metricsPath, encodeLines(metrics));
    hooks.onEpoch?.(m);
  }
  model.eval();
  return { model, metrics, outDir, config };
}

/** Milliseconds spent in each phase of {@link trainStep}, added to by every call that is given it. */
export interface StepPhases {
  /** The ELBO's forward pass and reading the loss. */
  forward: number;
  /** zeroGrad, backward and the gradients' finiteness check. */
  backward: number;
  /** The optimizer's update. */
  optimizer: number;
}

/**
 * One training step on the batch `x`, exactly as {@link train} runs it: the ELBO forward pass,
 * zeroGrad, backward, a check that the loss and every gradient are finite, and the optimizer's
 * update. When something is not finite, `failure` says what and no update is made.
 */
export function trainStep(model: VAE, optimizer: { readonly paramGroups: ReadonlyArray<{ readonly params: readonly Tensor[] }>; stepIfFinite(): boolean }, x: Tensor, options: { beta: number; rng: Generator }, phases?: StepPhases): { result: ElboResult; loss: number; failure?: string } {
  let t = performance.now();
  const lap = (key: keyof StepPhases): void => {
    if (!phases) return;
    const now = performance.now();
    phases[key] += now - t;
    t = now;
  };
  // Every parameter keeps one gradient tensor from step to step, zeroed in place (created on the
  // first step, moved into the backend's memory): backward writes the gradients there.
  const params = optimizer.paramGroups.flatMap((group) => group.params);
  for (const p of params) {
    p.grad ??= new Tensor(allocate(p.dtype, p.numel()), p.shape);
    zeroGradInPlace(p, { deferFill: true }); // backward writes every one of them (zeros only where it does not)
  }
  // Forward and backward in the backend's scratch scope: the activations and the gradients
  // flowing between layers live in its memory (wasm: no copies) and are dropped when it ends, so
  // the returned terms are copies, detached from the graph.
  const { result, loss } = inScratchScope(params[0]?.dtype ?? 'float32', () => {
    // The batch is read three times (the first layer, the likelihood, the first layer's weight
    // gradient): copied once into scratch memory, read in place after (the cpu backend reads
    // every array in place, and backends that cannot keep arrays have no scratch memory).
    const kernels = backendFor(x.dtype);
    const inScratch = kernels.isKept && kernels !== cpuBackend ? allocateEmpty(x.dtype, x.numel()) : undefined;
    const batch = inScratch && kernels.isKept!(inScratch) ? new Tensor(inScratch, x.shape) : x;
    if (batch !== x) batch.data.set(x.data);
    const terms = elbo(model, batch, options);
    const value = terms.loss.item();
    lap('forward');
    if (Number.isFinite(value)) {
      terms.loss.backward();
      lap('backward');
    }
    const kept = Object.fromEntries(Object.entries(terms).map(([key, t]) => [key, t.copy()])) as unknown as ElboResult;
    return { result: kept, loss: value };
  });
  if (!Number.isFinite(loss)) {
    for (const p of params) zeroGradInPlace(p); // backward did not run: the deferred zeros now
    return { result, loss, failure: `the loss is ${loss}` };
  }
  const stepped = optimizer.stepIfFinite(); // checks every gradient first; no update if one is NaN/±∞
  lap('optimizer');
  return stepped ? { result, loss } : { result, loss, failure: 'a gradient is not finite' };
}

function diverged(what: string, step: number, epoch: number, checkpointPath: string): never {
  const kept = existsSync(checkpointPath) ? `the last good checkpoint is kept at ${checkpointPath}` : 'no checkpoint had been written yet';
  throw new TrainingDivergedError(`training stopped at step ${step} (epoch ${epoch}): ${what}; ${kept}`);
}

/**
 * The test digits a model trained with `config` is scored on, chosen so that its bounds are in
 * nats of a density of those very digits:
 * - `'dynamic'`: the test set binarized ONCE by Bernoulli draws with the fixed seed
 *   SAMPLED_TEST_SEED ({@link sampledTestSet}): the standard protocol, the same binary digits
 *   for every run, every seed and every command.
 * - `'static'`: the test set thresholded at 0.5, as the run's training digits were.
 * - `'none'`: grey pixels as they are. With a Bernoulli decoder the scores are then the BCE
 *   objective, not log-likelihoods (docs/likelihoods.md).
 */
export function testSetFor(config: Pick<TrainConfig, 'binarize'>, test: Dataset): Dataset {
  if (config.binarize === 'dynamic') return sampledTestSet(test);
  if (config.binarize === 'static') return binarizeStatic(test);
  return test;
}

/**
 * Whether a run's scores are log-likelihood bounds in nats: true unless a Bernoulli decoder was
 * fed grey pixels (then they are the negative BCE objective, which is not a density of the data).
 */
export const scoresAreNats = (config: Pick<TrainConfig, 'binarize' | 'likelihood'>): boolean => !(config.likelihood === 'bernoulli' && config.binarize === 'none');

/** The training config stored in a checkpoint's metadata. */
export function loadCheckpointConfig(path: string): TrainConfig {
  const { metadata } = loadSafetensors(path);
  if (!metadata.config) throw new Error(`${path}: this checkpoint holds no training config`);
  const { history: _history, ...config } = JSON.parse(metadata.config) as Partial<TrainConfig> & { history?: unknown };
  return { ...DEFAULT_TRAIN_CONFIG, ...config };
}

const encodeLines = (metrics: readonly EpochMetrics[]): Uint8Array => new TextEncoder().encode(metrics.map((m) => JSON.stringify(m) + '\n').join(''));

/** The config of the run in `outDir` (from its checkpoint, else its config.json), or null when there is none. */
export function storedRunConfig(outDir: string): TrainConfig | null {
  const checkpointPath = join(outDir, CHECKPOINT_FILE);
  const configPath = join(outDir, 'config.json');
  return existsSync(checkpointPath) ? loadCheckpointConfig(checkpointPath) : existsSync(configPath) ? readConfig(configPath) : null;
}

function readConfig(path: string): TrainConfig {
  return { ...DEFAULT_TRAIN_CONFIG, ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<TrainConfig>) };
}

/**
 * Rebuilds the trained model stored in a checkpoint (a file, or a run folder holding
 * `checkpoint.safetensors`), with its training config.
 */
export function loadTrainedModel(path: string): { model: VAE; config: TrainConfig; inputDim: number; epoch?: number } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, CHECKPOINT_FILE) : path;
  if (!existsSync(file)) throw new Error(`no checkpoint at ${file}`);
  const config = loadCheckpointConfig(file);
  const { tensors } = loadSafetensors(file);
  const outputBias = tensors['model.output.bias'];
  if (!outputBias || outputBias.ndim !== 1) throw new Error(`${file}: not a VAE checkpoint (no model.output.bias)`);
  const inputDim = outputBias.shape[0]!;
  const model = buildModel(config, inputDim);
  const loaded = loadCheckpoint(file, { model });
  model.eval();
  return { model, config, inputDim, epoch: loaded.epoch };
}
