import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { type Dataset, subset } from '../data/dataset.js';
import { spreadIndices } from './evaluate.js';
import { lineChart, pairGrid, imageGrid, scatterPlot, type RgbImage } from '../io/plot.js';
import { writePng } from '../io/png.js';
import { writeFileAtomic } from '../io/atomic.js';
import { lineChartSvg, scatterSvg } from '../io/chart.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { normalQuantile, projectTo2d } from './latent.js';
import { oneHot, type VAE } from './model.js';
import type { EpochMetrics } from './train.js';

/** One picture of a run: its file name, a caption, the image, and for charts the same chart as SVG. */
export interface Picture {
  file: string;
  caption: string;
  /** The PNG copy (charts: drawn with the bitmap font, ASCII texts). */
  image: RgbImage;
  /** Charts only: the chart as an SVG document with real text, written beside the PNG as `.svg`. */
  svg?: string;
}

const rowsOf = (data: Dataset, from: number, count: number) =>
  tensor(data.images.subarray(from * data.rows * data.cols, (from + count) * data.rows * data.cols), {
    shape: [count, data.rows * data.cols],
    dtype: 'float32',
  });
/** The images at `indices`, as one [count, D] tensor. */
const imagesAt = (data: Dataset, indices: number[]) =>
  tensor(subset(data, indices).images, { shape: [indices.length, data.rows * data.cols], dtype: 'float32' });
const asModelDtype = (model: VAE, t: ReturnType<typeof tensor>) => t.to(model.config.dtype);
/** The one-hot classes of `labels` for a conditional model; undefined for an unconditional one. */
const classesOf = (model: VAE, labels: ArrayLike<number>) => (model.config.classes > 0 ? oneHot(labels, model.config.classes, model.config.dtype) : undefined);

/** Test images and their reconstructions (mean of p(x | z = μ(x))), `n` test images spread over the set. */
export function reconstructionPicture(model: VAE, test: Dataset, n = 30): Picture {
  const indices = spreadIndices(test.n, n); // fewer than n when the test set is smaller
  const x = asModelDtype(model, imagesAt(test, indices));
  const recon = model.reconstruct(
    x,
    classesOf(
      model,
      indices.map((i) => test.labels[i]!),
    ),
  );
  return {
    file: 'reconstructions.png',
    caption: `${indices.length} test images spread evenly over the test set (upper rows) and their reconstructions through z = μ(x) (lower rows).`,
    image: pairGrid(x.data, recon.data, indices.length, test.rows, test.cols, { columns: 10 }),
  };
}

/**
 * Means of p(x|z) for z drawn from the prior; for a conditional model, means of p(x|z, y), one
 * row per class y, `perClass` draws each.
 */
export function samplePicture(model: VAE, test: Dataset, seed: number, n = 64, perClass = 10): Picture {
  const classes = model.config.classes;
  if (classes > 0) {
    const labels = Array.from({ length: classes * perClass }, (_, i) => Math.floor(i / perClass));
    const samples = model.sample(labels.length, new Generator(seed), oneHot(labels, classes, model.config.dtype));
    const names = test.classes ?? labels.filter((_, i) => i % perClass === 0).map(String);
    return {
      file: 'samples.png',
      caption: `Row y (${names.join(', ')}): ${perClass} draws z ~ N(0, I) decoded to the mean of p(x|z, y).`,
      image: imageGrid(samples.data, labels.length, test.rows, test.cols, { columns: perClass }),
    };
  }
  const samples = model.sample(n, new Generator(seed));
  return {
    file: 'samples.png',
    caption: `${n} draws z ~ N(0, I) from the prior, decoded to the mean of p(x|z).`,
    image: imageGrid(samples.data, n, test.rows, test.cols, { columns: 8 }),
  };
}

/**
 * Straight lines in latent space between the codes μ(x) of pairs of test digits of different
 * classes: each row shows the digit x₁, the `steps` decoded points, then the digit x₂. For a
 * conditional model each end is encoded with its own label and the label moves along the line too.
 */
export function interpolationPicture(model: VAE, test: Dataset, steps = 10, pairs = 6): Picture {
  const firstOf = (label: number): number => test.labels.indexOf(label);
  const frames: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const [i, j] = [firstOf(p % 10), firstOf((p + 5) % 10)];
    const a = asModelDtype(model, rowsOf(test, Math.max(i, 0), 1));
    const b = asModelDtype(model, rowsOf(test, Math.max(j, 0), 1));
    const [labelA, labelB] = [i, j].map((k) => classesOf(model, test.labels.subarray(Math.max(k, 0), Math.max(k, 0) + 1)));
    frames.push(...a.data, ...model.interpolate(a, b, steps, labelA, labelB).data, ...b.data);
  }
  const decoded = model.config.classes > 0 ? "p(x|z, y), the label y moving from x₁'s to x₂'s on the same line" : 'p(x|z)';
  const caption = `Each row: a test digit x₁ (left), ${steps} evenly spaced points on the segment from μ(x₁) to μ(x₂) decoded to the mean of ${decoded}, and the test digit x₂ (right).`;
  return { file: 'interpolation.png', caption, image: imageGrid(frames, pairs * (steps + 2), test.rows, test.cols, { columns: steps + 2 }) };
}

/** The codes μ(x) of every test image, [n, latentDim], computed in batches. */
export function testCodes(model: VAE, test: Dataset, batchSize = 500): Float64Array {
  const d = model.config.latentDim;
  const codes = new Float64Array(test.n * d);
  noGrad(() => {
    for (let from = 0; from < test.n; from += batchSize) {
      const count = Math.min(batchSize, test.n - from);
      codes.set(model.encode(asModelDtype(model, rowsOf(test, from, count)), classesOf(model, test.labels.subarray(from, from + count))).mu.data, from * d);
    }
  });
  return codes;
}

/** The test codes as a scatter coloured by class: the two latent axes, or the first two principal components. */
export function latentPicture(model: VAE, test: Dataset): Picture {
  const d = model.config.latentDim;
  const points = projectTo2d(testCodes(model, test), test.n, d);
  const how =
    d === 2 ? 'the two latent axes' : d === 1 ? 'the single latent axis' : `the first two principal components of the ${d}-D codes (PCA over the test set)`;
  const image = scatterPlot(points, test.labels, {
    title: 'Test codes mu(x)',
    xLabel: d === 2 ? 'z1' : 'PC 1',
    yLabel: d === 2 ? 'z2' : 'PC 2',
    classNames: test.classes,
    width: 640,
    height: 520,
  });
  const svg = scatterSvg(points, test.labels, {
    title: 'Test codes μ(x)',
    xLabel: d === 2 ? 'z₁' : 'PC 1',
    yLabel: d === 2 ? 'z₂' : 'PC 2',
    classNames: test.classes,
    width: 640,
    height: 520,
  });
  return { file: 'latent.png', caption: `Codes μ(x) of the ${test.n} test images, coloured by label, shown on ${how}.`, image, svg };
}

/** For a 2-D latent: decodes a grid of z at standard normal quantiles 0.05 … 0.95 on each axis. */
export function manifoldPicture(model: VAE, test: Dataset, side = 15): Picture | null {
  if (model.config.latentDim !== 2 || model.config.classes > 0) return null;
  const q = Array.from({ length: side }, (_, i) => normalQuantile(0.05 + (0.9 * i) / (side - 1)));
  const z = new Float64Array(side * side * 2);
  for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) z.set([q[c]!, q[side - 1 - r]!], 2 * (r * side + c));
  const decoded = noGrad(() => model.mean(model.decode(tensor(z, { shape: [side * side, 2], dtype: model.config.dtype }))));
  return {
    file: 'manifold.png',
    caption: `The decoded manifold: z on a ${side}×${side} grid of N(0, 1) quantiles (z₁ left to right, z₂ bottom to top).`,
    image: imageGrid(decoded.data, side * side, test.rows, test.cols, { columns: side, pad: 0, scale: 1 }),
  };
}

/** Per-epoch curves: ELBO, reconstruction term and KL term, train and test. */
export function curvePictures(metrics: readonly EpochMetrics[]): Picture[] {
  const x = metrics.map((m) => m.epoch);
  // The PNG copy's bitmap font has ASCII only; the SVG says it in Unicode math.
  const chart = (file: string, [asciiTitle, title]: [string, string], train: number[], test: number[], caption: string): Picture => {
    const series = [
      { name: 'train', values: train },
      { name: 'test', values: test },
    ];
    const size = { xLabel: 'epoch', yLabel: 'nats per example', x, width: 560, height: 360 };
    return { file, caption, image: lineChart(series, { ...size, title: asciiTitle }), svg: lineChartSvg(series, { ...size, title }) };
  };
  return [
    chart(
      'curve-elbo.png',
      ['ELBO per example', 'ELBO per example'],
      metrics.map((m) => m.train_elbo),
      metrics.map((m) => m.test_elbo),
      'Mean ELBO per example (nats; higher is better). Train: running mean over the epoch; test: after the epoch.',
    ),
    chart(
      'curve-reconstruction.png',
      ['Reconstruction E_q[ln p(x|z)]', 'Reconstruction 𝔼_{q(z|x)}[ln p(x|z)]'],
      metrics.map((m) => m.train_reconstruction),
      metrics.map((m) => m.test_reconstruction),
      'The reconstruction term 𝔼_{q(z|x)}[ln p(x|z)], one draw per example.',
    ),
    chart(
      'curve-kl.png',
      ['KL(q(z|x) || p(z))', 'KL(q(z|x) ‖ p(z))'],
      metrics.map((m) => m.train_kl),
      metrics.map((m) => m.test_kl),
      'The KL term KL(q(z|x) ‖ p(z)) in closed form.',
    ),
  ];
}

/** The `.svg` file name beside a picture's PNG file. */
export const svgFileOf = (file: string): string => file.replace(/\.png$/, '') + '.svg';

/** Every picture of a run, written as PNG files into `dir` (charts also as SVG); returns them for the report. */
export function writePictures(model: VAE, test: Dataset, metrics: readonly EpochMetrics[], dir: string, seed: number): Picture[] {
  const pictures = [
    reconstructionPicture(model, test),
    samplePicture(model, test, seed),
    interpolationPicture(model, test),
    latentPicture(model, test),
    manifoldPicture(model, test),
    ...curvePictures(metrics),
  ].filter((p): p is Picture => p !== null);
  for (const p of pictures) {
    writePng(join(dir, p.file), p.image);
    if (p.svg) writeFileAtomic(join(dir, svgFileOf(p.file)), new TextEncoder().encode(p.svg));
  }
  return pictures;
}
