import { type Binarization, binarizeStatic, sampledTestSet } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import type { DType } from '../tensor/dtype.js';
import { scratchScope } from '../tensor/device.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ElboResult, elbo } from './elbo.js';
import type { LikelihoodName } from './likelihoods.js';
import { type ActivationName, type ArchName, VAE } from './model.js';

/** Everything that defines a training run; stored in the checkpoint so `--resume` needs no flags. */
export interface TrainConfig {
  data: string;
  /** 'mlp' (Linear layers of `hiddenDims`) or 'conv' (the convolutional VAE of {@link VAE}, 28×28 images; `elbo train --arch conv`). */
  arch: ArchName;
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
  /** K > 0: a conditional VAE on the K classes of the data's labels (`elbo train --conditional`); 0: unconditional. */
  classes: number;
}

/** The standard VAE of Kingma & Welling as in the PyTorch example: 784-400-20, Bernoulli, Adam 1e-3, batch 128. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  data: 'mnist',
  arch: 'mlp',
  hiddenDims: [400],
  latentDim: 20,
  likelihood: 'bernoulli',
  sigma: 1,
  activation: 'relu',
  dtype: 'float32',
  epochs: 20,
  batchSize: 128,
  lr: 1e-3,
  beta: 1,
  warmupEpochs: 0,
  seed: 1,
  binarize: 'none',
  classes: 0,
};

/** The VAE a training config describes, for inputs of `inputDim` pixels, its weights drawn from Generator(config.seed). */
export const buildModel = (config: TrainConfig, inputDim: number): VAE =>
  new VAE({
    inputDim,
    arch: config.arch,
    hiddenDims: config.hiddenDims,
    latentDim: config.latentDim,
    likelihood: config.likelihood,
    sigma: config.sigma,
    activation: config.activation,
    dtype: config.dtype,
    seed: config.seed,
    classes: config.classes,
  });

/** Milliseconds spent in each phase of {@link trainStep}, added to by every call that is given it. */
export interface StepPhases {
  /** The ELBO's forward pass and reading the loss. */
  forward: number;
  /** zeroGrad and backward. */
  backward: number;
  /** The gradients' finiteness check and the optimizer's update. */
  optimizer: number;
}

/** What {@link trainStep} needs of an optimizer: `zeroGrad` and a step that checks the gradients first. */
export interface StepOptimizer {
  /** Clears the gradients (in place with `setToNone: false`, PyTorch's semantics). */
  zeroGrad(options?: { setToNone?: boolean }): void;
  /** Updates the parameters unless a gradient is NaN/±∞; says whether it did. */
  stepIfFinite(): boolean;
}

/**
 * One training step on the batch `x` (with its one-hot classes `y` for a conditional model),
 * exactly as `train` (in `elbo/node`) runs it: the loop any user writes (forward, zeroGrad,
 * backward, step), with the gradients zeroed in place (PyTorch's `zero_grad(set_to_none=False)`:
 * backward writes them into the same memory every step) and the step checked: when the loss or a
 * gradient is not finite, `failure` says what and no update is made. Forward and backward run in
 * a scratch scope, so the returned terms are copies.
 */
export function trainStep(
  model: VAE,
  optimizer: StepOptimizer,
  x: Tensor,
  options: { beta: number; rng: Generator; y?: Tensor },
  phases?: StepPhases,
): { result: ElboResult; loss: number; failure?: string } {
  let t = performance.now();
  const lap = (key: keyof StepPhases): void => {
    if (!phases) return;
    const now = performance.now();
    phases[key] += now - t;
    t = now;
  };
  const { result, loss } = scratchScope(x.dtype, () => {
    const terms = elbo(options.y ? model.given(options.y) : model, x, options);
    const value = terms.loss.item();
    lap('forward');
    optimizer.zeroGrad({ setToNone: false });
    if (Number.isFinite(value)) terms.loss.backward();
    lap('backward');
    return { result: Object.fromEntries(Object.entries(terms).map(([key, term]) => [key, term.copy()])) as unknown as ElboResult, loss: value };
  });
  if (!Number.isFinite(loss)) return { result, loss, failure: `the loss is ${loss}` };
  const stepped = optimizer.stepIfFinite(); // checks every gradient first; no update if one is NaN/±∞
  lap('optimizer');
  return stepped ? { result, loss } : { result, loss, failure: 'a gradient is not finite' };
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
export const scoresAreNats = (config: Pick<TrainConfig, 'binarize' | 'likelihood'>): boolean =>
  !(config.likelihood === 'bernoulli' && config.binarize === 'none');
