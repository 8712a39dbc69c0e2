import { noGrad } from '../autograd/engine.js';
import { batches, batchTensor, binarizeStatic, numBatches } from '../data/batches.js';
import { type Dataset, type DataSplits, subset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { drawText, type Rgb } from '../io/font.js';
import { imageGrid, pairGrid, type RgbImage } from '../io/plot.js';
import { Adam } from '../nn/optim/adam.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { elbo, klWeight } from '../vae/elbo.js';
import { evaluate, spreadIndices } from '../vae/evaluate.js';
import { klStandardNormalPerDimension } from '../vae/kl.js';
import { VAE } from '../vae/model.js';

/** Options of {@link runCollapse}. */
export interface CollapseOptions {
  /** KL weights to train with (default [0.5, 1, 4]). */
  betas?: number[];
  /** Epochs of linear KL warm-up in the warm-up runs (default 2); each β runs without and with it. */
  warmupEpochs?: number;
  epochs?: number;
  /** Statically binarized training and test digits (defaults 2000 and 500). */
  trainImages?: number;
  testImages?: number;
  hiddenDims?: number[];
  latentDim?: number;
  /** Adam's learning rate (default 3e-3). */
  lr?: number;
  seed?: number;
  /** Called after each run (for progress). */
  onRun?(run: CollapseRun): void;
  /** Called after every training epoch of every run (for progress bars). */
  onEpoch?(info: { beta: number; warmupEpochs: number; epoch: number; epochs: number }): void;
}

/** One trained configuration, evaluated on the test digits with the unweighted ELBO (β = 1). */
export interface CollapseRun {
  beta: number;
  warmupEpochs: number;
  /** Mean test ELBO, its reconstruction term E_q[ln p(x|z)] (one draw) and KL(q(z|x) ‖ p(z)), nats. */
  elbo: number;
  reconstruction: number;
  kl: number;
  /** Latent dimensions whose code varies with x: Var over test x of μⱼ(x) > 0.01 (Burda et al. 2016). */
  activeUnits: number;
  /** Latent dimensions that carry more than {@link INFORMATIVE_KL} nats of KL(q ‖ p(z)) on average. */
  informativeUnits: number;
  /** Var over test x of μⱼ(x), per latent dimension. */
  codeVariance: number[];
  /** Mean KL(q ‖ p(z)) contributed by each latent dimension. */
  klPerDimension: number[];
  seconds: number;
  model: VAE;
}

/** The active-unit threshold on Var_x(E_q[zⱼ]). */
export const ACTIVE_UNIT_THRESHOLD = 0.01;
/** A latent dimension whose mean KL term exceeds this many nats counts as informative. */
export const INFORMATIVE_KL = 0.1;

/** Per latent dimension: the variance over the data of the code mean μⱼ(x), and the mean KL term. */
export function latentUsage(model: VAE, data: Dataset): { codeVariance: number[]; klPerDimension: number[] } {
  const x = tensor(data.images, { shape: [data.n, data.rows * data.cols], dtype: model.config.dtype });
  const { mu, logVar } = noGrad(() => model.encode(x));
  const l = model.config.latentDim;
  const n = data.n;
  const codeVariance = Array.from({ length: l }, (_, j) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += mu.data[i * l + j]! / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (mu.data[i * l + j]! - m) ** 2 / n;
    return v;
  });
  const kl = noGrad(() => klStandardNormalPerDimension(mu.to('float64'), logVar.to('float64'))).data; // [n, l]
  const klPerDimension = Array.from({ length: l }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += kl[i * l + j]!;
    return s / n;
  });
  return { codeVariance, klPerDimension };
}

/** Trains one VAE with KL weight β (warmed up linearly over `warmupEpochs`) and evaluates it. */
export function trainWithBeta(data: DataSplits, beta: number, warmupEpochs: number, options: CollapseOptions = {}): CollapseRun {
  const started = performance.now();
  const seed = options.seed ?? 1;
  const model = new VAE({ inputDim: 784, hiddenDims: options.hiddenDims ?? [64], latentDim: options.latentDim ?? 16, seed });
  const optimizer = new Adam(model.parameters(), { lr: options.lr ?? 3e-3 });
  const rng = new Generator(seed + 1);
  const batchSize = 100;
  const warmupSteps = warmupEpochs * numBatches(data.train.n, batchSize);
  let step = 0;
  for (let epoch = 0; epoch < (options.epochs ?? 5); epoch++) {
    for (const batch of batches(data.train, { batchSize, shuffle: true, rng })) {
      const { loss } = elbo(model, batchTensor(batch), { beta: klWeight(step, beta, warmupSteps), rng });
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      step++;
    }
    options.onEpoch?.({ beta, warmupEpochs, epoch: epoch + 1, epochs: options.epochs ?? 5 });
  }
  model.eval();
  const test = evaluate(model, data.test, { seed });
  const usage = latentUsage(model, data.test);
  return {
    beta,
    warmupEpochs,
    elbo: test.elbo,
    reconstruction: test.reconstruction,
    kl: test.kl,
    activeUnits: usage.codeVariance.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
    informativeUnits: usage.klPerDimension.filter((k) => k > INFORMATIVE_KL).length,
    ...usage,
    seconds: (performance.now() - started) / 1000,
    model,
  };
}

/** The bundled digits, statically binarized, `train` and `test` of them spread over each split. */
export function collapseData(trainImages = 2000, testImages = 500): DataSplits {
  const { train, test } = loadMnist();
  return { train: binarizeStatic(subset(train, spreadIndices(train.n, trainImages))), test: binarizeStatic(subset(test, spreadIndices(test.n, testImages))) };
}

/**
 * Posterior collapse and β: trains the same VAE with each KL weight β, without and with a linear
 * KL warm-up, and reports for each the test ELBO (always with β = 1), its two terms, and the
 * number of active latent units.
 */
export function runCollapse(options: CollapseOptions = {}): CollapseRun[] {
  const data = collapseData(options.trainImages, options.testImages);
  const runs: CollapseRun[] = [];
  for (const warmup of [0, options.warmupEpochs ?? 2]) {
    for (const beta of options.betas ?? [0.5, 1, 4]) {
      const run = trainWithBeta(data, beta, warmup, options);
      runs.push(run);
      options.onRun?.(run);
    }
  }
  return runs;
}

/** A label for a run: `β = 4, warm-up 2` or `β = 1, no warm-up`. */
export const runLabel = (r: Pick<CollapseRun, 'beta' | 'warmupEpochs'>): string =>
  `beta = ${r.beta}, ${r.warmupEpochs > 0 ? `warm-up ${r.warmupEpochs}` : 'no warm-up'}`;

/**
 * The runs side by side: one panel per run (columns: β; rows: without, then with warm-up), each
 * with its label and active units, 8 test digits above their reconstructions, and 16 samples;
 * a header line says what the four rows of a panel are.
 */
export function collapsePicture(runs: readonly CollapseRun[], test: Dataset, seed = 1): RgbImage {
  const x = tensor(subset(test, spreadIndices(test.n, 8)).images, { shape: [8, 784] });
  const panels = runs.map((r) => {
    const recon = r.model.reconstruct(x.to(r.model.config.dtype));
    const top = pairGrid(x.data, recon.data, 8, 28, 28, { columns: 8 });
    const bottom = imageGrid(r.model.sample(16, new Generator(seed)).data, 16, 28, 28, { columns: 8 });
    return { label: `${runLabel(r)}: KL ${r.kl.toFixed(1)}, ${r.informativeUnits} informative`, top, bottom };
  });
  const columns = Math.max(1, new Set(runs.map((r) => r.beta)).size);
  const panelW = Math.max(...panels.map((p) => Math.max(p.top.width, p.bottom.width)));
  const panelH = 16 + Math.max(...panels.map((p) => p.top.height + 6 + p.bottom.height));
  const rows = Math.ceil(panels.length / columns);
  const gap = 12;
  const width = columns * panelW + (columns + 1) * gap;
  const header = 22; // one line saying what the four rows of each panel are
  const height = header + rows * panelH + (rows + 1) * gap;
  const img: RgbImage = { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(255) };
  const paste = (src: RgbImage, x0: number, y0: number): void => {
    for (let y = 0; y < src.height; y++) img.data.set(src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3), ((y0 + y) * width + x0) * 3);
  };
  const ink: Rgb = [0, 0, 0];
  drawText(img, 'Each panel: row 1 test digits, row 2 their reconstructions, rows 3-4 samples from the prior.', gap, gap, ink);
  panels.forEach((p, i) => {
    const x0 = gap + (i % columns) * (panelW + gap);
    const y0 = header + gap + Math.floor(i / columns) * (panelH + gap);
    drawText(img, p.label, x0, y0, ink);
    paste(p.top, x0, y0 + 16);
    paste(p.bottom, x0, y0 + 16 + p.top.height + 6);
  });
  return img;
}
