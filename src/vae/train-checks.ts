import { ACTIVATIONS, ARCHS } from './model.js';
import { LIKELIHOODS } from './likelihoods.js';
import { allFinite } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainConfig } from './train-step.js';

/**
 * The checks that keep a training run honest, each small and named so that `train` reads as
 * the algorithm: nothing non-finite reaches a checkpoint, and a stored config is validated as
 * the command-line flags are.
 */

/** Where a tensor first holds NaN or ±∞. */
export interface NonFiniteEntry {
  /** The tensor's name, e.g. `encoder.layers.0.weight`. */
  name: string;
  /** The flat index of the first non-finite element. */
  index: number;
  value: number;
}

/**
 * The first element, over the named tensors in order, that is NaN or ±∞; null when all are finite.
 * @example nonFiniteEntry(model.namedParameters()) // null, or { name: 'decoder.output.bias', index: 3, value: NaN }
 */
export function nonFiniteEntry(tensors: Iterable<[string, Tensor]>): NonFiniteEntry | null {
  for (const [name, t] of tensors) {
    const data = t.data;
    if (allFinite(t)) continue; // the backend's fused pass (wasm: SIMD, in place)
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) return { name, index: i, value: v }; // NaN for NaN and ±∞ alone
    }
  }
  return null;
}

/** The usual causes of a run that stops being finite, given the run's own learning rate (above 0.01 is suspect first). */
export function divergenceCause(config: Pick<TrainConfig, 'lr'>): string {
  const lr = config.lr >= 1e6 ? config.lr.toExponential() : String(config.lr); // 1e+20, not twenty-one digits
  return config.lr > 0.01
    ? `likely cause: the learning rate ${lr} is too large (try --lr 1e-3)`
    : `likely cause: the data hold extreme values, or the learning rate ${lr} is too large for them`;
}

/** The metrics of an epoch that must be finite before its checkpoint is written, by name. */
export function nonFiniteMetric(metrics: object): string | null {
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value === 'number' && !Number.isFinite(value)) return `${key} is ${value}`;
  }
  return null;
}

/**
 * The number of parameters of the VAE that `config` builds for images of `inputDim` pixels:
 * (in + 1)·out for each linear layer (encoder, the μ and log σ² heads, decoder, output), plus
 * the per-pixel log σ² of 'gaussian-learned'; for `arch: 'conv'`, the convolutions' weights and
 * biases and the three Linear layers around the 64·D/16 features.
 * @example modelParameterCount({ hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli' }, 784) // 652824
 */
export function modelParameterCount(
  config: Pick<TrainConfig, 'hiddenDims' | 'latentDim' | 'likelihood'> & { arch?: TrainConfig['arch'] },
  inputDim: number,
): number {
  if (config.arch === 'conv') {
    // 4×4 kernels 1→32→64, 64·(D/16) features to the heads and back, 64→32→1; biases per output channel.
    const features = 64 * Math.floor(inputDim / 16);
    const convs = (1 * 16 + 1) * 32 + (32 * 16 + 1) * 64 + (64 * 32 * 16 + 32) + (32 * 16 + 1);
    return convs + 2 * (features + 1) * config.latentDim + (config.latentDim + 1) * features + (config.likelihood === 'gaussian-learned' ? inputDim : 0);
  }
  const layers = (sizes: number[]): number => sizes.slice(1).reduce((total, out, i) => total + (sizes[i]! + 1) * out, 0);
  const hidden = config.hiddenDims;
  const encoderOut = hidden.at(-1) ?? inputDim;
  const decoderOut = hidden[0] ?? config.latentDim;
  return (
    layers([inputDim, ...hidden]) +
    2 * (encoderOut + 1) * config.latentDim +
    layers([config.latentDim, ...[...hidden].reverse()]) +
    (decoderOut + 1) * inputDim +
    (config.likelihood === 'gaussian-learned' ? inputDim : 0)
  );
}

/** A value as short JSON for a message (never throws, never long). */
function preview(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined; // too deep to print
  }
  text ??= typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

type Rule = (value: unknown) => boolean;
const integer =
  (min: number): Rule =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min;
const finite =
  (min: number, open: boolean): Rule =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && (open ? v > min : v >= min);
const oneOf =
  (choices: readonly string[]): Rule =>
  (v) =>
    typeof v === 'string' && choices.includes(v);

/** What each stored field must be (the same bounds as the flags of `elbo train`), and how to say it. */
const RULES: { [K in keyof TrainConfig]: [Rule, string] } = {
  data: [(v) => typeof v === 'string' && v !== '', 'a non-empty string'],
  arch: [oneOf(ARCHS), `one of ${ARCHS.join(', ')}`],
  hiddenDims: [(v) => Array.isArray(v) && v.every(integer(1)), 'an array of integers >= 1'],
  latentDim: [integer(1), 'an integer >= 1'],
  likelihood: [oneOf(LIKELIHOODS), `one of ${LIKELIHOODS.join(', ')}`],
  sigma: [finite(0, true), 'a finite number > 0'],
  activation: [oneOf(ACTIVATIONS), `one of ${ACTIVATIONS.join(', ')}`],
  dtype: [oneOf(['float32', 'float64']), 'float32 or float64'],
  epochs: [integer(1), 'an integer >= 1'],
  batchSize: [integer(1), 'an integer >= 1'],
  lr: [finite(0, true), 'a finite number > 0'],
  beta: [finite(0, false), 'a finite number >= 0'],
  warmupEpochs: [integer(0), 'an integer >= 0'],
  seed: [integer(0), 'an integer >= 0'],
  binarize: [oneOf(['none', 'static', 'dynamic']), 'one of none, static, dynamic'],
  classes: [integer(0), 'an integer >= 0 (0: unconditional)'],
};

/**
 * A stored training config (config.json, or a checkpoint's `config` metadata) checked field by
 * field like the flags of `elbo train`; fields it lacks are left out (the caller fills in the
 * defaults), fields it does not know (such as the checkpoint's `history`) are dropped.
 * @throws Error naming `source`, the field and its value, e.g.
 *   `runs/x/config.json: stored config field "epochs" must be an integer >= 1, got -3`.
 */
export function validateTrainConfig(value: unknown, source: string): Partial<TrainConfig> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: the stored config must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, [rule, what]] of Object.entries(RULES)) {
    if (!Object.hasOwn(value, key)) continue;
    const field = (value as Record<string, unknown>)[key];
    if (!rule(field)) throw new Error(`${source}: stored config field "${key}" must be ${what}, got ${preview(field)}`);
    out[key] = field;
  }
  return out as Partial<TrainConfig>;
}

/** The stored config's text, parsed; a file that is not JSON is an error naming it. */
export function parseStoredConfig(text: string, source: string): Partial<TrainConfig> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: the stored config is not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  return validateTrainConfig(value, source);
}
