/**
 * `elbo/io`: formats as bytes, platform-neutral: safetensors files (the format PyTorch and
 * others read) and training checkpoints stored in them. Reading and
 * writing files is in `elbo/node`. Also the pictures of a run: digit image grids, and
 * charts as SVG text (real `<text>`, Unicode math), which embed in a page as they are.
 *
 * @packageDocumentation
 */
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type SafetensorsContent } from './safetensors.js';
export {
  encodeCheckpoint,
  decodeCheckpoint,
  type CheckpointContents,
  type CheckpointTargets,
  type LoadedCheckpoint,
  type CheckpointJson,
  type CheckpointableOptimizer,
} from './checkpoint.js';
export { imageGrid, pairGrid, PALETTE, type RgbImage, type GridOptions, type Rgb } from './plot.js';
export { lineChartSvg, scatterSvg, CHART_COLORS, type SvgChartOptions, type SvgSeries, type SvgLineOptions, type SvgScatterOptions } from './chart.js';
