import { noGrad } from 'elbo';
import { batches, batchTensor, type Batch } from 'elbo/data';
import type { DataSplits, Dataset } from 'elbo/data';
import { Adam } from 'elbo/optim';
import { tensor } from 'elbo';
import { Generator } from 'elbo';
import type { Tensor } from 'elbo';
import { evaluate, spreadIndices } from 'elbo/vae';
import { normalQuantile, projectTo2d } from 'elbo/vae';
import type { VAE } from 'elbo/vae';
import { buildModel, DEFAULT_TRAIN_CONFIG, type TrainConfig, trainStep } from 'elbo/vae';
import { INPUT_DIM, type LoadedModel } from './checkpoint.js';
import type { BatchTerms, CurvePoint, LabSettings, LatentView, ModelInfo } from './protocol.js';

/** Digits shown with their reconstructions, codes on the latent plot, cells per side of the manifold. */
export const RECON_COUNT = 20;
const LATENT_COUNT = 1000;
export const MANIFOLD_SIDE = 15;
/** Test digits in each test-curve point. */
const EVAL_COUNT = 500;

/**
 * The training state of the lab, in the worker: the model, Adam, the seeded stream of shuffled
 * batches (as `elbo train`: batch 128, seed 1), and the pictures' numbers. Every method runs on
 * whatever kernel backend is active.
 */
export class Lab {
  model!: VAE;
  config!: TrainConfig;
  optimizer!: Adam;
  step = 0;
  epoch = 0;
  source = 'new';
  note: string | undefined;
  private rng!: Generator;
  private stream!: Iterator<Batch>;
  /** The plane of the latent plot: its origin and two axes in latent space (the identity for d = 2). */
  private plane: { mean: number[]; axes: number[][] } | undefined;

  constructor(
    readonly data: DataSplits,
    settings: LabSettings,
  ) {
    this.reset(settings);
  }

  /** A fresh model of the given architecture (`elbo train`'s layers for it), latent size, β and learning rate. */
  reset(settings: LabSettings): void {
    checkHyper(settings.beta, settings.lr);
    const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, arch: settings.arch, latentDim: settings.latentDim, beta: settings.beta, lr: settings.lr };
    this.adopt(buildModel(config, INPUT_DIM), config, 0, 0, 'new');
  }

  /** Takes over a model loaded from a checkpoint; training continues from its weights with a fresh Adam. */
  load(loaded: LoadedModel, name: string): void {
    this.adopt(loaded.model, loaded.config, loaded.step, loaded.epoch, name);
    if (loaded.config.data !== 'mnist') this.note = `trained on '${loaded.config.data}', shown on the bundled MNIST digits`;
  }

  private adopt(model: VAE, config: TrainConfig, step: number, epoch: number, source: string): void {
    this.model = model.train();
    this.config = { ...config, batchSize: DEFAULT_TRAIN_CONFIG.batchSize };
    this.optimizer = new Adam(model.parameters(), { lr: config.lr });
    this.rng = new Generator(config.seed + 1_000_003 + step); // train()'s stream for a fresh run
    this.stream = batches(this.data.train, { batchSize: this.config.batchSize, shuffle: true, binarize: 'dynamic', rng: this.rng, dtype: model.config.dtype });
    this.step = step;
    this.epoch = epoch;
    this.source = source;
    this.note = undefined;
    this.plane = undefined;
  }

  setHyper(beta: number, lr: number): void {
    checkHyper(beta, lr);
    this.config = { ...this.config, beta, lr };
    for (const group of this.optimizer.paramGroups) group.lr = lr;
  }

  info(): ModelInfo {
    const c = this.model.config;
    return {
      arch: c.arch,
      latentDim: c.latentDim,
      hiddenDims: c.hiddenDims,
      likelihood: c.likelihood,
      activation: c.activation,
      dtype: c.dtype,
      source: this.source,
      step: this.step,
      ...(this.note ? { note: this.note } : {}),
    };
  }

  private nextBatch(): Batch {
    let next = this.stream.next();
    if (next.done) {
      this.epoch++;
      this.stream = batches(this.data.train, {
        batchSize: this.config.batchSize,
        shuffle: true,
        binarize: 'dynamic',
        rng: this.rng,
        dtype: this.model.config.dtype,
      });
      next = this.stream.next();
    }
    return next.value as Batch;
  }

  /** One Adam step on the next batch; returns the batch's ELBO terms. Throws when the loss is not finite. */
  trainStep(): BatchTerms {
    this.model.train();
    const batch = this.nextBatch();
    // The step `elbo train` runs: forward, backward, every gradient checked, then Adam.
    const { result, loss, failure } = trainStep(this.model, this.optimizer, batchTensor(batch), { beta: this.config.beta, rng: this.rng });
    if (failure) throw new Error(`training diverged at step ${this.step + 1} (${failure}); lower the learning rate and reset`);
    this.step++;
    const mean = (t: Tensor): number => {
      let s = 0;
      for (let i = 0; i < t.data.length; i++) s += t.data[i]!;
      return s / batch.size;
    };
    const d = this.model.config.latentDim;
    const klPerDim = Array.from({ length: d }, (_, k) => {
      let s = 0;
      for (let i = 0; i < batch.size; i++) {
        const m = result.mu.data[i * d + k]!;
        const lv = result.logVar.data[i * d + k]!;
        s += 0.5 * (m * m + Math.exp(lv) - lv - 1);
      }
      return s / batch.size;
    });
    const [reconstruction, kl] = [mean(result.reconstruction), mean(result.kl)];
    return { step: this.step, batchSize: batch.size, beta: this.config.beta, reconstruction, kl, elbo: reconstruction - kl, objective: -loss, klPerDim };
  }

  /** The test ELBO and its terms over EVAL_COUNT test digits spread over the set (fixed noise seed). */
  testPoint(): CurvePoint {
    const r = evaluate(this.model.eval(), this.data.test, { limit: EVAL_COUNT, seed: 0, batchSize: 250 });
    return { step: this.step, elbo: r.elbo, reconstruction: r.reconstruction, kl: r.kl };
  }

  /** Test digits as a [count, 784] tensor in the model's dtype. */
  images(indices: readonly number[]): Tensor {
    const test = this.data.test;
    const x = new Float32Array(indices.length * INPUT_DIM);
    indices.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= test.n) throw new RangeError(`test digit ${i} is out of range (0 … ${test.n - 1})`);
      x.set(test.images.subarray(i * INPUT_DIM, (i + 1) * INPUT_DIM), k * INPUT_DIM);
    });
    return tensor(x, { shape: [indices.length, INPUT_DIM], dtype: this.model.config.dtype });
  }

  /** The mean of p(x | z = μ(x)) for the test digits at `indices`. */
  reconstruct(indices: readonly number[]): Float32Array {
    return Float32Array.from(this.model.eval().reconstruct(this.images(indices)).data);
  }

  /** Codes μ(x) of LATENT_COUNT test digits on the plot's plane (PCA for d > 2, as src/vae/latent.ts). */
  latent(): LatentView {
    const test: Dataset = this.data.test;
    const indices = spreadIndices(test.n, LATENT_COUNT);
    const d = this.model.config.latentDim;
    const codes = new Float64Array(indices.length * d);
    noGrad(() => {
      for (let from = 0; from < indices.length; from += 250) {
        codes.set(this.model.eval().encode(this.images(indices.slice(from, from + 250))).mu.data, from * d);
      }
    });
    const points = projectTo2d(codes, indices.length, d);
    this.plane = planeOf(codes, points, d);
    return { d, points: Float32Array.from(points.flat()), labels: Uint8Array.from(indices, (i) => test.labels[i]!) };
  }

  /** Decodes the point (u, v) of the latent plot: z = (u, v) for d = 2, else mean + u·PC₁ + v·PC₂. */
  decodeAt(u: number, v: number): { z: number[]; image: Float32Array } {
    const d = this.model.config.latentDim;
    const plane = this.plane ?? { mean: new Array<number>(d).fill(0), axes: [unit(d, 0), unit(d, 1)] };
    const z = plane.mean.map((m, k) => m + u * plane.axes[0]![k]! + v * (plane.axes[1]?.[k] ?? 0));
    const image = noGrad(() => this.model.mean(this.model.decode(tensor(z, { shape: [1, d], dtype: this.model.config.dtype }))));
    return { z, image: Float32Array.from(image.data) };
  }

  /** For a 2-D latent: the decoded manifold at N(0, 1) quantiles 0.05 … 0.95 (as manifoldPicture). */
  manifold(): Float32Array | null {
    if (this.model.config.latentDim !== 2) return null;
    const side = MANIFOLD_SIDE;
    const q = Array.from({ length: side }, (_, i) => normalQuantile(0.05 + (0.9 * i) / (side - 1)));
    const z = new Float64Array(side * side * 2);
    for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) z.set([q[c]!, q[side - 1 - r]!], 2 * (r * side + c));
    return Float32Array.from(noGrad(() => this.model.mean(this.model.decode(tensor(z, { shape: [side * side, 2], dtype: this.model.config.dtype })))).data);
  }
}

function checkHyper(beta: number, lr: number): void {
  if (!(beta >= 0 && Number.isFinite(beta))) throw new RangeError(`β must be a finite number ≥ 0, got ${beta}`);
  if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`the learning rate must be a finite number > 0, got ${lr}`);
}

const unit = (d: number, k: number): number[] => Array.from({ length: d }, (_, j) => (j === k ? 1 : 0));

/**
 * The plane projectTo2d projected onto: for d > 2 its axes are the top two eigenvectors aⱼ of the
 * codes' covariance C, and pⱼ = aⱼ·(c − mean), so Σᵢ (cᵢ − mean) pᵢⱼ = (n − 1) C aⱼ = (n − 1) λⱼ aⱼ:
 * normalizing that sum gives aⱼ back (with its sign) from the projected points alone.
 */
function planeOf(codes: Float64Array, points: Array<[number, number]>, d: number): { mean: number[]; axes: number[][] } {
  const n = points.length;
  if (d <= 2) return { mean: new Array<number>(d).fill(0), axes: [unit(d, 0), d === 2 ? unit(d, 1) : []] };
  const mean = Array.from({ length: d }, (_, k) => codes.reduce((s, _v, i) => (i % d === k ? s + codes[i]! : s), 0) / n);
  const axes = [0, 1].map((j) => {
    const a = mean.map((m, k) => points.reduce((s, p, i) => s + (codes[i * d + k]! - m) * p[j]!, 0));
    const norm = Math.hypot(...a);
    return norm > 0 ? a.map((x) => x / norm) : unit(d, j);
  });
  return { mean, axes };
}
