import type { Binarization } from '../data/batches.js';
import { allocate, allocateEmpty, type DType } from '../tensor/dtype.js';
import { backendFor, cpuBackend, inScratchScope } from '../kernels/index.js';
import { zeroGradInPlace } from '../autograd/engine.js';
import type { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { type ElboResult, elbo } from './elbo.js';
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
  /** K > 0: a conditional VAE on the K classes of the data's labels (`elbo train --conditional`); 0: unconditional. */
  classes: number;
}

/** The standard VAE of Kingma & Welling as in the PyTorch example: 784-400-20, Bernoulli, Adam 1e-3, batch 128. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  data: 'mnist', hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli', sigma: 1, activation: 'relu', dtype: 'float32',
  epochs: 20, batchSize: 128, lr: 1e-3, beta: 1, warmupEpochs: 0, seed: 1, binarize: 'none', classes: 0,
};

/** The VAE a training config describes, for inputs of `inputDim` pixels, its weights drawn from Generator(config.seed). */
export const buildModel = (config: TrainConfig, inputDim: number): VAE =>
  new VAE({ inputDim, hiddenDims: config.hiddenDims, latentDim: config.latentDim, likelihood: config.likelihood, sigma: config.sigma, activation: config.activation, dtype: config.dtype, seed: config.seed, classes: config.classes });

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
 * One training step on the batch `x` (with its one-hot classes `y` for a conditional model), exactly as `train` (in `elbo/node`) runs it: the ELBO forward pass,
 * zeroGrad, backward, a check that the loss and every gradient are finite, and the optimizer's
 * update. When something is not finite, `failure` says what and no update is made.
 */
export function trainStep(model: VAE, optimizer: { readonly paramGroups: ReadonlyArray<{ readonly params: readonly Tensor[] }>; stepIfFinite(): boolean }, x: Tensor, options: { beta: number; rng: Generator; y?: Tensor }, phases?: StepPhases): { result: ElboResult; loss: number; failure?: string } {
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
    const terms = elbo(options.y ? model.given(options.y) : model, batch, options);
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

/**
 * How a model trained with `config` is evaluated on test digits: grey pixels when it trained on
 * them, else the fixed x > 0.5 binarization (a dynamically binarized run is scored on static
 * binary digits, so every evaluation of it sees the same targets).
 */
export const testBinarization = (config: Pick<TrainConfig, 'binarize'>): Binarization => (config.binarize === 'none' ? 'none' : 'static');
