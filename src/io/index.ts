/**
 * `elbo/io`: formats as bytes, platform-neutral: safetensors files (the format PyTorch and
 * others read), training checkpoints stored in them, and image grids of digits. Reading and
 * writing files is in `elbo/node`.
 *
 * @packageDocumentation
 */
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type SafetensorsContent } from './safetensors.js';
export {
  encodeCheckpoint, decodeCheckpoint, type CheckpointContents, type CheckpointTargets, type LoadedCheckpoint, type CheckpointJson,
  type CheckpointableOptimizer,
} from './checkpoint.js';
export { imageGrid, pairGrid, PALETTE, type RgbImage, type GridOptions, type Rgb } from './plot.js';
