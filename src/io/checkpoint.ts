import type { Module } from '../nn/module.js';
import type { OptimizerStateDict, ParamState } from '../nn/optim/optimizer.js';
import type { Generator, GeneratorState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/**
 * Training checkpoints as one safetensors file:
 *
 *     tensors    model.<parameter name>        the model's stateDict()
 *                optim.state.<index>.<key>     the optimizer's state tensors (momenta, moments)
 *     metadata   format   "elbo.checkpoint"    version  "1"
 *                step, epoch                   JSON numbers
 *                rng                           JSON of Generator.getState()
 *                optimizer                     JSON { paramGroups, state: the numeric state (e.g. Adam's step) }
 *                config                        JSON of the caller's config object
 *
 * Tensors are stored bit for bit and JSON numbers round-trip exactly, so a reloaded model,
 * optimizer and generator continue training exactly as if never interrupted.
 */

/** The optimizer interface a checkpoint needs (every optimizer of `elbo/optim` has it). */
export interface CheckpointableOptimizer {
  /** The optimizer's state and hyperparameters. */
  stateDict(): OptimizerStateDict;
  /** Restores what {@link CheckpointableOptimizer.stateDict} returned. */
  loadStateDict(dict: OptimizerStateDict): void;
}

/** A JSON value, as stored for `config`. */
export type CheckpointJson = string | number | boolean | null | CheckpointJson[] | { [key: string]: CheckpointJson };

/** What {@link encodeCheckpoint} (and `saveCheckpoint` in `elbo/node`) stores. */
export interface CheckpointContents {
  model: Module;
  optimizer?: CheckpointableOptimizer;
  /** The number of optimizer steps taken so far. */
  step: number;
  epoch?: number;
  /** A generator whose state (e.g. for data shuffling) should resume where it was. */
  rng?: Generator;
  /** Settings to keep with the weights (hyperparameters, architecture); any JSON object. */
  config?: { [key: string]: CheckpointJson };
}

/** What {@link decodeCheckpoint} (and `loadCheckpoint` in `elbo/node`) returns besides restoring the objects passed to it. */
export interface LoadedCheckpoint {
  step: number;
  epoch?: number;
  config?: { [key: string]: CheckpointJson };
}

const FORMAT = 'elbo.checkpoint';
const MODEL = 'model.';
const OPTIM = 'optim.state.';

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`encodeCheckpoint: ${name} must be a non-negative integer, got ${value}`);
}

/** A checkpoint's bytes: one safetensors file (see the module comment for the layout). */
export function encodeCheckpoint(contents: CheckpointContents): Uint8Array {
  checkCount('step', contents.step);
  if (contents.epoch !== undefined) checkCount('epoch', contents.epoch);
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(contents.model.stateDict())) tensors[MODEL + name] = t;
  const metadata: Record<string, string> = { format: FORMAT, version: '1', step: JSON.stringify(contents.step) };
  if (contents.epoch !== undefined) metadata.epoch = JSON.stringify(contents.epoch);
  if (contents.rng) metadata.rng = JSON.stringify(contents.rng.getState());
  if (contents.config !== undefined) metadata.config = JSON.stringify(contents.config);
  if (contents.optimizer) {
    const { state, paramGroups } = contents.optimizer.stateDict();
    const numbers: Record<string, Record<string, number>> = {};
    for (const [index, s] of Object.entries(state)) {
      numbers[index] = {};
      for (const [key, v] of Object.entries(s)) {
        if (v instanceof Tensor) tensors[`${OPTIM}${index}.${key}`] = v;
        else numbers[index]![key] = v;
      }
    }
    metadata.optimizer = JSON.stringify({ paramGroups, state: numbers });
  }
  return encodeSafetensors(tensors, metadata);
}

function parseJson(field: string, text: string | undefined): unknown {
  if (text === undefined) throw new Error(`loadCheckpoint: the checkpoint has no '${field}'`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`loadCheckpoint: '${field}' is not valid JSON`);
  }
}

/** What a checkpoint is loaded into: the model (always) and, when given, the optimizer and the generator. */
export interface CheckpointTargets {
  model: Module;
  optimizer?: CheckpointableOptimizer;
  rng?: Generator;
}

/**
 * Loads a checkpoint's bytes into `into.model` (strictly: names and shapes must match) and,
 * when given, `into.optimizer` and `into.rng`; returns the step, epoch and config. `source`
 * names the bytes in errors (a file's path).
 * @throws SafetensorsError for malformed bytes; Error for a checkpoint that does not fit.
 */
export function decodeCheckpoint(bytes: Uint8Array, into: CheckpointTargets, source = 'the checkpoint'): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== FORMAT)
    throw new Error(`loadCheckpoint: ${source} is not an elbo checkpoint (metadata format is ${JSON.stringify(metadata.format ?? null)})`);
  const step = parseJson('step', metadata.step);
  if (typeof step !== 'number') throw new Error(`loadCheckpoint: 'step' must be a number`);
  const epoch = metadata.epoch === undefined ? undefined : parseJson('epoch', metadata.epoch);
  if (epoch !== undefined && typeof epoch !== 'number') throw new Error(`loadCheckpoint: 'epoch' must be a number`);
  const modelDict: Record<string, Tensor> = {};
  const optimTensors: Array<[string, string, Tensor]> = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(MODEL)) modelDict[name.slice(MODEL.length)] = t;
    else if (name.startsWith(OPTIM) && name.indexOf('.', OPTIM.length) > OPTIM.length) {
      const dot = name.indexOf('.', OPTIM.length);
      optimTensors.push([name.slice(OPTIM.length, dot), name.slice(dot + 1), t]);
    } else throw new Error(`loadCheckpoint: unexpected tensor ${JSON.stringify(name)}`);
  }
  let optimDict: OptimizerStateDict | undefined;
  if (into.optimizer) {
    const saved = parseJson('optimizer', metadata.optimizer) as { paramGroups: OptimizerStateDict['paramGroups']; state: Record<string, ParamState> } | null;
    if (typeof saved !== 'object' || saved === null || typeof saved.state !== 'object' || saved.state === null) {
      throw new Error(`loadCheckpoint: 'optimizer' must be a JSON object with paramGroups and state`);
    }
    const state: Record<string, ParamState> = { ...saved.state };
    for (const [index, key, t] of optimTensors) state[index] = { ...state[index], [key]: t };
    optimDict = { paramGroups: saved.paramGroups, state };
  }
  const rngState = into.rng ? (parseJson('rng', metadata.rng) as GeneratorState) : undefined;
  into.model.loadStateDict(modelDict, { strict: true });
  if (optimDict) into.optimizer!.loadStateDict(optimDict);
  if (rngState) into.rng!.setState(rngState);
  const result: LoadedCheckpoint = { step };
  if (epoch !== undefined) result.epoch = epoch;
  if (metadata.config !== undefined) result.config = parseJson('config', metadata.config) as LoadedCheckpoint['config'];
  return result;
}
