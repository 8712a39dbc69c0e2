import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binarizeSampled, sampledTestSet } from '../data/batches.js';
import { type DataSplits, type Dataset, subset } from '../data/dataset.js';
import { Generator } from '../tensor/random.js';
import { evaluate, spreadIndices } from '../vae/evaluate.js';
import type { VAE } from '../vae/model.js';
import { train, type TrainConfig } from '../vae/train.js';
import {
  type BernoulliMixture,
  bernoulliMixtureLogJoint,
  bernoulliMixtureLogProb,
  bernoulliMixtureMStep,
  binaryData,
  type BinaryData,
  fitBernoulliMixture,
} from './bernoulli-mixture.js';
import { exactPosterior } from './em.js';
import { bernoulliKdeLogProb, chooseBernoulliBandwidth, hammingHistograms } from './kde.js';

/** One line of the baselines table: a model's mean test score in nats, and what that number is. */
export interface BaselineRow {
  model: string;
  /** Mean over the test images, in nats. */
  nats: number;
  /** 'exact': the model's ln p(x); 'lower bound': an ELBO or IWAE bound on it. */
  kind: 'exact' | 'lower bound';
  /** How it was fitted (the chosen bandwidth or smoothing, iterations, seconds). */
  detail: string;
}

/** Options of {@link runBaselines}. */
export interface BaselinesOptions {
  /** Training images (spread over the training split; default 10,000, i.e. all 8,000 bundled digits). */
  trainLimit?: number;
  /** Of those, held out to choose the KDE bandwidth and the mixtures' smoothing (default 1,000). */
  heldOut?: number;
  /** Test images, spread over the test set binarized once (default 500). */
  testLimit?: number;
  /** Mixture sizes (default 10, 50, 200) and EM iterations (default 20). */
  components?: readonly number[];
  iterations?: number;
  /** The VAE to score (trained on dynamically binarized images); else one is trained for `vaeEpochs`. */
  vae?: VAE;
  /** Epochs of the VAE trained here when none is given (default 10). */
  vaeEpochs?: number;
  /** Importance samples of the VAE's IWAE bound (default 5000). */
  iwaeK?: number;
  seed?: number;
  /** Called with each row as soon as it is computed. */
  onRow?(row: BaselineRow): void;
}

/** The pseudo-counts α tried for the mixtures' smoothing, chosen by held-out likelihood. */
export const PSEUDO_COUNT_GRID: readonly number[] = [1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];

const mean = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
};

const asBinary = (data: Dataset): BinaryData => binaryData(data.images, data.n, data.rows * data.cols);

/**
 * The mixture's μ re-estimated from its final responsibilities with each α of the grid; the one
 * with the best held-out mean ln p(x) is kept (the E-step's q stays that of the fit).
 */
function smoothByHeldOut(model: BernoulliMixture, fitData: BinaryData, heldOut: BinaryData): { model: BernoulliMixture; alpha: number } {
  const q = exactPosterior(bernoulliMixtureLogJoint(model, fitData));
  let best = { model, alpha: NaN, score: -Infinity };
  for (const alpha of PSEUDO_COUNT_GRID) {
    const candidate = bernoulliMixtureMStep(fitData, q, model, alpha);
    const score = mean(bernoulliMixtureLogProb(candidate, heldOut));
    if (score > best.score) best = { model: candidate, alpha, score };
  }
  return { model: best.model, alpha: best.alpha };
}

/**
 * The baselines table on one data set, every row on the same test images (the test set binarized
 * once, {@link sampledTestSet}, then `testLimit` of them spread over it):
 *
 * - KDE with the Bernoulli-product kernel, λ chosen on held-out training images;
 * - Bernoulli mixtures fitted by EM for each K, smoothing α chosen on the same held-out images;
 * - the VAE's one-draw ELBO and its IWAE_k bound.
 *
 * The KDE's centres and the mixtures' training data are the training images binarized once
 * (seed `seed`), minus the held-out ones; the VAE trains on dynamically binarized images.
 */
export function runBaselines(data: DataSplits, options: BaselinesOptions = {}): { rows: BaselineRow[]; description: string } {
  const seed = options.seed ?? 1;
  const rows: BaselineRow[] = [];
  const push = (r: BaselineRow): void => {
    rows.push(r);
    options.onRow?.(r);
  };
  const trainGrey = subset(data.train, spreadIndices(data.train.n, options.trainLimit ?? 10000));
  const trainBinary = binarizeSampled(trainGrey, new Generator(seed + 17));
  const heldOutCount = Math.min(options.heldOut ?? 1000, Math.floor(trainBinary.n / 4));
  const heldOutIndices = new Set(spreadIndices(trainBinary.n, heldOutCount));
  const fitIndices = Array.from({ length: trainBinary.n }, (_, i) => i).filter((i) => !heldOutIndices.has(i));
  const fit = asBinary(subset(trainBinary, fitIndices));
  const heldOut = asBinary(subset(trainBinary, [...heldOutIndices]));
  const testSet = sampledTestSet(data.test);
  const test = subset(testSet, spreadIndices(testSet.n, options.testLimit ?? 500));
  const testBinary = asBinary(test);
  const where = `${fit.n} training images (+${heldOut.n} held out), ${test.n} test images`;

  let started = performance.now();
  const lambda = chooseBernoulliBandwidth(fit, heldOut);
  const kde = mean(bernoulliKdeLogProb(hammingHistograms(testBinary, fit), lambda.best));
  push({
    model: 'KDE, Bernoulli-product kernel',
    nats: kde,
    kind: 'exact',
    detail: `λ = ${lambda.best.toFixed(4)} by held-out likelihood; ${fit.n} centres; ${seconds(started)}`,
  });

  for (const k of options.components ?? [10, 50, 200]) {
    started = performance.now();
    const { model: fitted, history } = fitBernoulliMixture(fit, { k, iterations: options.iterations ?? 20, seed, pseudoCount: 0.01 });
    const { model, alpha } = smoothByHeldOut(fitted, fit, heldOut);
    push({
      model: `Bernoulli mixture, K = ${k} (EM)`,
      nats: mean(bernoulliMixtureLogProb(model, testBinary)),
      kind: 'exact',
      detail: `${history.length} EM iterations; α = ${alpha} by held-out likelihood; ${seconds(started)}`,
    });
  }

  started = performance.now();
  let vae = options.vae;
  if (!vae) {
    const outDir = mkdtempSync(join(tmpdir(), 'elbo-baselines-'));
    const config: Partial<TrainConfig> = { binarize: 'dynamic', epochs: options.vaeEpochs ?? 10, seed };
    vae = train({ train: trainGrey, test }, { config, outDir: join(outDir, 'run') }).model;
    rmSync(outDir, { recursive: true, force: true });
  }
  const k = options.iwaeK ?? 5000;
  const scores = evaluate(vae, test, { iwaeK: k, seed, batchSize: 100 });
  const how = options.vae ? 'the given checkpoint' : `trained here: ${options.vaeEpochs ?? 10} epochs, dynamic binarization, ${trainGrey.n} images`;
  push({ model: 'VAE, ELBO (one draw)', nats: scores.elbo, kind: 'lower bound', detail: how });
  push({
    model: `VAE, IWAE bound, k = ${k}`,
    nats: scores.iwae!,
    kind: 'lower bound',
    detail: `${seconds(started)}${options.vae ? '' : ', training included'}`,
  });
  return { rows, description: where };
}

const seconds = (started: number): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
