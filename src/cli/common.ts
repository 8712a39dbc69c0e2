import { loadDataset } from '../data/datasets.js';
import type { DataSplits } from '../data/dataset.js';
import { loadTrainedModel } from '../vae/train.js';
import type { VAE } from '../vae/model.js';
import type { TrainConfig } from '../vae/train.js';
import { UsageError } from './args.js';

/** The model of `--checkpoint` and the data it is used on (`--data`, else the data it was trained on). */
export function loadModelAndData(checkpoint: string | boolean | undefined, dataFlag: string | boolean | undefined): { model: VAE; config: TrainConfig; data: DataSplits } {
  if (typeof checkpoint !== 'string') throw new UsageError('--checkpoint FILE (or a run folder) is required');
  const { model, config, inputDim } = loadTrainedModel(checkpoint);
  const source = typeof dataFlag === 'string' ? dataFlag : config.data;
  const data = loadDataset(source);
  const pixels = data.test.rows * data.test.cols;
  if (pixels !== inputDim) {
    throw new Error(`the checkpoint expects images of ${inputDim} pixels, but ${data.test.name} has ${data.test.rows}×${data.test.cols} = ${pixels}`);
  }
  return { model, config, data };
}
