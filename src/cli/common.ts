import { loadDataset } from '../data/datasets.js';
import type { DataSplits } from '../data/dataset.js';
import { CHECKPOINT_FILE, loadTrainedModel } from '../vae/train.js';
import { nonFiniteEntry } from '../vae/train-checks.js';
import { validateDataset } from '../data/validate.js';
import { checkInputFile } from './paths.js';
import type { VAE } from '../vae/model.js';
import type { TrainConfig } from '../vae/train.js';
import { UsageError } from './args.js';

/** Throws unless every figure a command is about to report is finite, naming the first that is not. */
export function assertFinite(command: string, figures: Record<string, number | undefined>): void {
  for (const [name, value] of Object.entries(figures)) {
    if (value !== undefined && !Number.isFinite(value))
      throw new Error(`${command}: the ${name} is ${value}, not a finite number; the model or the data hold extreme values`);
  }
}

/** The model of `--checkpoint` and the data it is used on (`--data`, else the data it was trained on). */
export function loadModelAndData(
  checkpoint: string | boolean | undefined,
  dataFlag: string | boolean | undefined,
): { model: VAE; config: TrainConfig; data: DataSplits } {
  if (typeof checkpoint !== 'string') throw new UsageError('--checkpoint FILE (or a run folder) is required');
  const file = checkInputFile('checkpoint', checkpoint, CHECKPOINT_FILE);
  const { model, config, inputDim } = loadTrainedModel(file);
  const broken = nonFiniteEntry(model.namedParameters());
  if (broken)
    throw new Error(
      `${file}: parameter ${broken.name} holds ${broken.value} (element ${broken.index}); a model with non-finite weights gives no meaningful figures or pictures`,
    );
  const source = typeof dataFlag === 'string' ? dataFlag : config.data;
  const data = loadDataset(source);
  const pixels = data.test.rows * data.test.cols;
  if (pixels !== inputDim) {
    throw new Error(`the checkpoint expects images of ${inputDim} pixels, but ${data.test.name} has ${data.test.rows}×${data.test.cols} = ${pixels}`);
  }
  validateDataset(data.test, config.likelihood === 'bernoulli' ? 'unit' : 'real');
  return { model, config, data };
}
