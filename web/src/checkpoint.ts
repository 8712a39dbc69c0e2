import { decodeSafetensors, encodeSafetensors } from 'elbo/io';
import type { Tensor } from 'elbo';
import type { VAE } from 'elbo/vae';
import { buildModel, DEFAULT_TRAIN_CONFIG, type TrainConfig } from 'elbo/vae';

/**
 * Checkpoints in the browser, from and to bytes, in the layout of src/io/checkpoint.ts (whose
 * load and save take file paths): tensors `model.<parameter>` (plus `optim.state.*`, ignored
 * here), metadata `format` = "elbo.checkpoint", `version`, `step`, `epoch` and `config`, the
 * run's TrainConfig as JSON. A file exported here loads in `elbo eval|sample|reconstruct`.
 */

const FORMAT = 'elbo.checkpoint';
const MODEL = 'model.';
/** The lab trains on 28×28 digits. */
export const INPUT_DIM = 784;

/** A model rebuilt from a checkpoint's bytes. */
export interface LoadedModel {
  model: VAE;
  config: TrainConfig;
  step: number;
  epoch: number;
}

/**
 * Rebuilds the VAE a checkpoint holds: its architecture from metadata `config`, its weights from
 * the `model.*` tensors (shapes checked by loadStateDict). Throws an Error with a one-line
 * message saying what is wrong: not safetensors, not an elbo checkpoint, no config, images of
 * another size, or weights that do not fit the architecture.
 */
export function modelFromCheckpoint(bytes: Uint8Array): LoadedModel {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== FORMAT) {
    throw new Error(`not an elbo checkpoint (its metadata 'format' is ${JSON.stringify(metadata.format ?? null)}, expected "${FORMAT}")`);
  }
  if (metadata.config === undefined) throw new Error(`this checkpoint holds no training config (metadata 'config'), so its architecture is unknown`);
  let stored: Partial<TrainConfig>;
  try {
    stored = JSON.parse(metadata.config) as Partial<TrainConfig>;
  } catch {
    throw new Error(`its metadata 'config' is not valid JSON`);
  }
  const { history: _history, ...fields } = stored as Partial<TrainConfig> & { history?: unknown };
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...fields };
  const bias = tensors[`${MODEL}output.bias`];
  if (bias?.ndim !== 1) throw new Error(`not a VAE checkpoint (no 1-D tensor 'model.output.bias')`);
  if (config.arch !== 'conv' && bias.shape[0] !== INPUT_DIM)
    // a conv decoder's output bias is per channel; its other weights fix the image size
    throw new Error(`mismatched checkpoint: it models images of ${bias.shape[0]} pixels, the lab's digits have ${INPUT_DIM} (28×28)`);
  let model: VAE;
  try {
    model = buildModel(config, INPUT_DIM);
  } catch (error) {
    throw new Error(`its config does not describe a valid VAE: ${(error as Error).message}`);
  }
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (name.startsWith(MODEL)) weights[name.slice(MODEL.length)] = t;
  try {
    model.loadStateDict(weights, { strict: true });
  } catch (error) {
    throw new Error(
      `mismatched checkpoint: its weights do not fit its config (${config.hiddenDims.join('-') || 'no hidden layer'}, latent ${config.latentDim}): ${(error as Error).message}`,
    );
  }
  const count = (key: string): number => {
    try {
      const value = Number(JSON.parse(metadata[key] ?? '0'));
      return Number.isSafeInteger(value) && value >= 0 ? value : 0;
    } catch {
      return 0;
    }
  };
  return { model: model.eval(), config, step: count('step'), epoch: count('epoch') };
}

/** The bytes of a checkpoint holding `model`'s weights and `config` (no optimizer state). */
export function checkpointBytes(model: VAE, config: TrainConfig, step: number, epoch: number): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) tensors[MODEL + name] = t;
  const metadata = { format: FORMAT, version: '1', step: JSON.stringify(step), epoch: JSON.stringify(epoch), config: JSON.stringify(config) };
  return encodeSafetensors(tensors, metadata);
}
