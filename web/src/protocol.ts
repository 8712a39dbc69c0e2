/**
 * The messages between the page (main.ts) and the training worker (worker.ts). Requests that
 * expect an answer carry an `id`; the worker answers each with one `reply` of the same id.
 */

import type { ArchName } from 'elbo/vae';

/** The kernel backends the lab offers. */
export type LabBackend = 'gpujs' | 'webgpu' | 'wasm' | 'cpu';

/** The settings a user picks; a new architecture or latent size needs a reset, β and lr apply at once. */
export interface LabSettings {
  /** 'mlp' (784-400-d) or 'conv' (two stride-2 convolutions and their transposes, as `elbo train --arch conv`). */
  arch: ArchName;
  latentDim: number;
  beta: number;
  lr: number;
}

/** The model the worker holds, as the page shows it. */
export interface ModelInfo {
  arch: ArchName;
  latentDim: number;
  hiddenDims: number[];
  likelihood: string;
  activation: string;
  dtype: string;
  /** 'new' for one the lab built, else the checkpoint's file name. */
  source: string;
  step: number;
  note?: string;
}

/** A point of a learning curve: means over examples, in nats. */
export interface CurvePoint {
  step: number;
  elbo: number;
  reconstruction: number;
  kl: number;
}

/** The current batch's ELBO terms, for the math panel (means over the batch). */
export interface BatchTerms {
  step: number;
  batchSize: number;
  beta: number;
  reconstruction: number;
  kl: number;
  elbo: number;
  objective: number;
  /** Mean KL of each latent dimension, ½(μ² + σ² − ln σ² − 1), over the batch. */
  klPerDim: number[];
}

/** The test codes on the plot: the latent axes (d = 2) or the first two principal components. */
export interface LatentView {
  d: number;
  /** x, y per point. */
  points: Float32Array;
  labels: Uint8Array;
}

/** The active backend's matmul against the float64 reference: worst error / float32 bound (≤ 1 passes). */
export interface BackendCheck {
  backend: LabBackend;
  cases: number;
  worst: number;
}

/** ELBO, IWAE(k) and ln p(x) by quadrature for one test digit (2-D latent only). */
export interface BoundsResult {
  index: number;
  label: number;
  elbo: number;
  reconstruction: number;
  kl: number;
  iwae: Array<{ k: number; value: number }>;
  logPx: number;
  /** |ln p(x) on the grid − on its 2h sub-grid|: the quadrature's own error estimate. */
  gridError: number;
  /** max ln p(x, z) on the grid's border − max overall: how far below the peak the grid ends. */
  borderDrop: number;
  /** KL(q(z|x) ‖ p(z|x)) integrated on the grid; equals ln p(x) − ELBO. */
  posteriorKl: number;
  gridPoints: number;
  halfWidth: number;
  seconds: number;
}

export type ToWorker =
  | { type: 'init'; digitsUrl: string; settings: LabSettings }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset'; settings: LabSettings }
  | { type: 'hyper'; beta: number; lr: number }
  | { type: 'backend'; id: number; name: LabBackend; port?: MessagePort }
  | { type: 'decode'; id: number; u: number; v: number }
  | { type: 'bounds'; id: number; index: number }
  | { type: 'load'; id: number; name: string; bytes: ArrayBuffer }
  | { type: 'export'; id: number }
  | { type: 'reconstruct'; id: number; indices: number[] }
  | { type: 'images'; id: number; indices: number[] };

export type FromWorker =
  | { type: 'ready'; testCount: number; wasm: boolean }
  | { type: 'model'; model: ModelInfo; fresh: boolean }
  | { type: 'status'; running: boolean; step: number; epoch: number; samplesPerSec: number; backend: LabBackend; detail: string }
  | { type: 'train'; point: CurvePoint; terms: BatchTerms }
  | { type: 'test'; point: CurvePoint }
  | { type: 'recon'; count: number; originals: Float32Array; reconstructions: Float32Array }
  | { type: 'latent'; view: LatentView }
  | { type: 'manifold'; side: number; images: Float32Array }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'error'; message: string };

/** What the page exposes as `window.elboLab`, for tests and the curious (browser console). */
export interface LabHook {
  /** True once the digits are loaded and the first pictures drawn. */
  ready: boolean;
  state(): {
    status: Extract<FromWorker, { type: 'status' }> | null;
    model: ModelInfo | null;
    train: CurvePoint[];
    test: CurvePoint[];
    terms: BatchTerms | null;
    decoded: { u: number; v: number; z: number[] } | null;
    /** The matmul check run when the backend was last switched. */
    check: BackendCheck | null;
    message: { text: string; kind: 'info' | 'error' } | null;
  };
  /** The page's reconstructions of test digits (flattened, 784 per digit), from the worker's model. */
  reconstruct(indices: number[]): Promise<number[]>;
  /** The pixels of test digits as the page holds them. */
  images(indices: number[]): Promise<number[]>;
  bounds(index: number): Promise<BoundsResult>;
}
