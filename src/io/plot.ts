import { Generator } from '../tensor/random.js';
import { axisScale } from './chart.js';
import { drawText, type Raster, type Rgb, setPixel, textWidth } from './font.js';
import type { PngImage } from './png.js';

export type { Rgb } from './font.js';

/** An 8-bit RGB image, ready for `writePng`. */
export interface RgbImage extends PngImage {
  readonly channels: 3;
}

/** Ten distinct colours (matplotlib's tab10), one per class label 0-9. */
export const PALETTE: readonly Rgb[] = ['1f77b4', 'ff7f0e', '2ca02c', 'd62728', '9467bd', '8c564b', 'e377c2', '7f7f7f', 'bcbd22', '17becf'].map(parseColor);

/** A colour from '#rrggbb' or 'rrggbb'. */
export function parseColor(hex: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`parseColor: expected '#rrggbb', got ${JSON.stringify(hex)}`);
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const WHITE: Rgb = [255, 255, 255];
const TEXT: Rgb = [34, 34, 34];
const AXIS: Rgb = [90, 90, 90];
const GRID: Rgb = [232, 232, 232];

function blank(width: number, height: number, color: Rgb): RgbImage {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) data.set(color, i);
  return { width: w, height: h, channels: 3, data };
}

function fillRect(img: Raster, x: number, y: number, w: number, h: number, color: Rgb): void {
  for (let j = Math.round(y); j < Math.round(y + h); j++) for (let i = Math.round(x); i < Math.round(x + w); i++) setPixel(img, i, j, color);
}

/** Mixes `color` into the pixel at (x, y) with opacity `alpha`. */
function blend(img: Raster, x: number, y: number, color: Rgb, alpha: number): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const k = 3 * (y * img.width + x);
  for (let c = 0; c < 3; c++) img.data[k + c] = Math.round(img.data[k + c]! * (1 - alpha) + color[c]! * alpha);
}

/** A line from (x0, y0) to (x1, y1), `thickness` pixels wide (a square brush stepped along it). */
function drawLine(img: Raster, x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const off = Math.floor((thickness - 1) / 2);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / steps) - off;
    const y = Math.round(y0 + ((y1 - y0) * s) / steps) - off;
    fillRect(img, x, y, thickness, thickness, color);
  }
}

/** Options of {@link imageGrid} and {@link pairGrid}. */
export interface GridOptions {
  /** Images per row; default ⌈√n⌉ for imageGrid, min(n, 10) for pairGrid. */
  columns?: number;
  /** Pixels between tiles (and around the border); default 2. */
  pad?: number;
  /** Each image pixel becomes scale × scale screen pixels; default 2. */
  scale?: number;
  /** Colour between tiles; default mid gray. */
  padColor?: Rgb;
}

/** Draws image `index` of a stack (pixel value 0 = black, 1 = white; clamped; NaN = red). */
function blit(img: RgbImage, images: ArrayLike<number>, index: number, rows: number, cols: number, x0: number, y0: number, scale: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = images[index * rows * cols + r * cols + c]!;
      const g = Math.round(255 * Math.min(1, Math.max(0, v)));
      fillRect(img, x0 + c * scale, y0 + r * scale, scale, scale, Number.isNaN(v) ? [255, 0, 0] : [g, g, g]);
    }
  }
}

function checkStack(op: string, images: ArrayLike<number>, n: number, rows: number, cols: number): void {
  if (!Number.isInteger(n) || n < 1 || images.length < n * rows * cols)
    throw new Error(`${op}: need n ≥ 1 images of ${rows} × ${cols} (${n * rows * cols} values), got ${images.length} values`);
}

/**
 * The first n images of a stack (n × rows × cols values in [0, 1], row-major) tiled into a grid,
 * white ink (value 1) on black (value 0), like MNIST is usually shown. Out-of-range values are
 * clamped; NaN pixels are red so they stand out.
 *
 * @example writePng('samples.png', imageGrid(train.images, 64, 28, 28)) // 8 × 8 digits
 */
export function imageGrid(images: ArrayLike<number>, n: number, rows: number, cols: number, options: GridOptions = {}): RgbImage {
  checkStack('imageGrid', images, n, rows, cols);
  const { columns = Math.ceil(Math.sqrt(n)), pad = 2, scale = 2, padColor = [128, 128, 128] } = options;
  const gridRows = Math.ceil(n / columns);
  const [tw, th] = [cols * scale + pad, rows * scale + pad];
  const img = blank(pad + columns * tw, pad + gridRows * th, padColor);
  for (let i = 0; i < n; i++) blit(img, images, i, rows, cols, pad + (i % columns) * tw, pad + Math.floor(i / columns) * th, scale);
  return img;
}

/**
 * Originals above their reconstructions: for each group of `columns` images, one row of
 * originals and, right below it, the row of their reconstructions; groups are separated by a
 * wider gap. Same colours as {@link imageGrid}.
 */
export function pairGrid(
  originals: ArrayLike<number>,
  reconstructions: ArrayLike<number>,
  n: number,
  rows: number,
  cols: number,
  options: GridOptions = {},
): RgbImage {
  checkStack('pairGrid', originals, n, rows, cols);
  checkStack('pairGrid', reconstructions, n, rows, cols);
  const { columns = Math.min(n, 10), pad = 2, scale = 2, padColor = [128, 128, 128] } = options;
  const groups = Math.ceil(n / columns);
  const [tw, th, gap] = [cols * scale + pad, rows * scale + pad, 3 * pad + 2];
  const img = blank(pad + columns * tw, pad + groups * 2 * th + (groups - 1) * gap, padColor);
  for (let i = 0; i < n; i++) {
    const x = pad + (i % columns) * tw;
    const y = pad + Math.floor(i / columns) * (2 * th + gap);
    blit(img, originals, i, rows, cols, x, y, scale);
    blit(img, reconstructions, i, rows, cols, x, y + th, scale);
  }
  return img;
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(min: number, max: number, count = 6): { ticks: number[]; step: number } {
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12))); // no -0, no 0.30000000000000004
  return { ticks, step };
}

/** A tick label with just enough decimals for `step` ("-0" printed as "0"). */
export function formatTick(v: number, step: number): string {
  if (Math.abs(v) >= 1e6 || (step < 1e-4 && v !== 0)) return v.toExponential(1);
  const s = v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Chart texts and size shared by {@link scatterPlot} and {@link lineChart}. */
export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

interface Frame {
  img: RgbImage;
  px: (x: number) => number;
  py: (y: number) => number;
  box: { left: number; top: number; right: number; bottom: number };
}

/** The min and max of the finite values ([NaN, NaN] when there are none: axisScale then gives [0, 1]). */
function extent(values: number[]): [number, number] {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return lo > hi ? [NaN, NaN] : [lo, hi];
}

type LegendItem = { name: string; color: Rgb };

/** White background, title, grid, axes with ticks, axis labels and a legend on the right. */
function frame(options: ChartOptions, xs: number[], ys: number[], legend: LegendItem[], swatch: 'box' | 'line', integerX: boolean): Frame {
  const { width = 640, height = 440, title, xLabel, yLabel } = options;
  const img = blank(width, height, WHITE);
  // The end ticks enclose the data (as in the SVG charts), so no value sits beyond the last tick.
  const xt = axisScale(...extent(xs), Math.max(2, Math.floor(width / 90)), integerX);
  const yt = axisScale(...extent(ys), Math.max(2, Math.floor(height / 60)));
  const [x0, x1, y0, y1] = [xt.lo, xt.hi, yt.lo, yt.hi];
  const yLabels = yt.ticks.map((v) => formatTick(v, yt.step));
  const legendWidth = legend.length ? 30 + Math.max(...legend.map((l) => textWidth(l.name))) : 0;
  const box = {
    left: (yLabel ? 20 : 6) + Math.max(...yLabels.map((s) => textWidth(s))) + 8,
    top: title ? 36 : 14,
    right: width - 14 - legendWidth,
    bottom: height - (xLabel ? 34 : 20),
  };
  const px = (x: number): number => box.left + ((x - x0) / (x1 - x0)) * (box.right - box.left);
  const py = (y: number): number => box.bottom - ((y - y0) / (y1 - y0)) * (box.bottom - box.top);
  for (const [k, v] of xt.ticks.entries()) {
    const x = Math.round(px(v));
    drawLine(img, x, box.top, x, box.bottom, GRID);
    drawLine(img, x, box.bottom, x, box.bottom + 3, AXIS);
    const s = formatTick(xt.ticks[k]!, xt.step);
    drawText(img, s, x - Math.floor(textWidth(s) / 2), box.bottom + 6, TEXT);
  }
  for (const [k, v] of yt.ticks.entries()) {
    const y = Math.round(py(v));
    drawLine(img, box.left, y, box.right, y, GRID);
    drawLine(img, box.left - 3, y, box.left, y, AXIS);
    drawText(img, yLabels[k]!, box.left - 6 - textWidth(yLabels[k]!), y - 3, TEXT);
  }
  drawLine(img, box.left, box.top, box.left, box.bottom, AXIS);
  drawLine(img, box.left, box.bottom, box.right, box.bottom, AXIS);
  if (title) drawText(img, title, Math.round((box.left + box.right - textWidth(title, 2)) / 2), 10, TEXT, { scale: 2 });
  if (xLabel) drawText(img, xLabel, Math.round((box.left + box.right - textWidth(xLabel)) / 2), height - 14, TEXT);
  if (yLabel) drawText(img, yLabel, 6, Math.round((box.top + box.bottom - textWidth(yLabel)) / 2), TEXT, { vertical: true });
  legend.forEach(({ name, color }, k) => {
    const [x, y] = [box.right + 14, box.top + 4 + 14 * k];
    if (swatch === 'box') fillRect(img, x, y, 8, 8, color);
    else drawLine(img, x - 2, y + 4, x + 12, y + 4, color, 2);
    drawText(img, name, x + 18, y + 1, TEXT);
  });
  return { img, px, py, box };
}

/** Options of {@link scatterPlot}. */
export interface ScatterOptions extends ChartOptions {
  /** Legend text per label (default the label number), e.g. FASHION_MNIST_CLASSES. */
  classNames?: readonly string[];
  /** Marker radius in pixels; default 2. */
  radius?: number;
  /** Marker opacity in (0, 1]; default 0.6. */
  alpha?: number;
}

/**
 * A scatter plot of 2-D points (e.g. latent means), coloured by class label with
 * {@link PALETTE}, with axes, ticks and a legend of the labels present. Points are drawn in a
 * fixed shuffled order (seed 0), so data sorted by label does not hide early classes; points
 * with a non-finite coordinate are skipped.
 *
 * @example writePng('latent.png', scatterPlot(points, test.labels, { title: 'Latent space' }))
 */
export function scatterPlot(points: readonly (readonly [number, number])[], labels?: ArrayLike<number> | null, options: ScatterOptions = {}): RgbImage {
  if (labels && labels.length !== points.length) throw new Error(`scatterPlot: ${points.length} points but ${labels.length} labels`);
  const present = labels ? [...new Set(Array.from(labels))].sort((a, b) => a - b) : [];
  const colorOf = (label: number): Rgb => PALETTE[((label % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
  const legend = present.map((l) => ({ name: options.classNames?.[l] ?? String(l), color: colorOf(l) }));
  const { img, px, py, box } = frame(
    options,
    points.map((p) => p[0]),
    points.map((p) => p[1]),
    legend,
    'box',
    false,
  );
  const { radius = 2, alpha = 0.6 } = options;
  for (const i of new Generator(0).permutation(points.length)) {
    const [x, y] = points[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const [cx, cy] = [Math.round(px(x)), Math.round(py(y))];
    const color = labels ? colorOf(labels[i]!) : PALETTE[0]!;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const [xx, yy] = [cx + dx, cy + dy];
        if (dx * dx + dy * dy <= radius * radius + radius && xx > box.left && xx <= box.right && yy >= box.top && yy < box.bottom)
          blend(img, xx, yy, color, alpha);
      }
    }
  }
  return img;
}

/** One line of a {@link lineChart}. */
export interface Series {
  name: string;
  values: readonly number[];
  /** '#rrggbb' or [r, g, b]; default the series' index in {@link PALETTE}. */
  color?: string | Rgb;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions extends ChartOptions {
  /** The x value of each index (shared by all series); default 0, 1, 2, …. */
  x?: readonly number[];
}

/**
 * Line charts (e.g. the ELBO per epoch), with axes, ticks and a legend. Non-finite values leave
 * a gap; a lone finite value is drawn as a dot.
 *
 * @example lineChart([{ name: 'train', values: trainElbo }, { name: 'test', values: testElbo }], { title: 'ELBO', xLabel: 'epoch' })
 */
export function lineChart(series: readonly Series[], options: LineChartOptions = {}): RgbImage {
  const xOf = (i: number): number => options.x?.[i] ?? i;
  const colors = series.map((s, k) => (typeof s.color === 'string' ? parseColor(s.color) : (s.color ?? PALETTE[k % PALETTE.length]!)));
  const xs = series.flatMap((s) => s.values.map((_, i) => xOf(i)));
  const legend = series.map((s, k) => ({ name: s.name, color: colors[k]! }));
  const { img, px, py } = frame(
    options,
    xs,
    series.flatMap((s) => [...s.values]),
    legend,
    'line',
    xs.every(Number.isInteger),
  );
  series.forEach((s, k) => {
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || !Number.isFinite(xOf(i))) return;
      const prev = s.values[i - 1];
      const next = s.values[i + 1];
      if (i > 0 && Number.isFinite(prev)) drawLine(img, px(xOf(i - 1)), py(prev!), px(xOf(i)), py(v), colors[k]!, 2);
      else if (!Number.isFinite(next)) fillRect(img, px(xOf(i)) - 2, py(v) - 2, 4, 4, colors[k]!);
    });
  });
  return img;
}
