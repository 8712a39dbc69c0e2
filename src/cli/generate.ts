import { resolve } from 'node:path';
import { writePng } from '../io/png.js';
import { imageGrid, pairGrid } from '../io/plot.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { subset } from '../data/dataset.js';
import { spreadIndices } from '../vae/evaluate.js';
import { samplePicture } from '../vae/artifacts.js';
import { oneHot } from '../vae/model.js';
import { int, parse, str, UsageError } from './args.js';
import { selectBackend, BACKEND_FLAG } from './backend.js';
import { assertFinite, loadModelAndData } from './common.js';
import { checkOutputFile } from './paths.js';

const CHECKPOINT = '  --checkpoint PATH     a checkpoint.safetensors, or the run folder holding it';
const DATA = '  --data NAME|DIR       the test images to use (default: what the model was trained on)';
const out = (file: string): string => `  --out FILE            the PNG to write (default ${file})`;
const HELP_FLAG = '  -h, --help            this help';

const SAMPLE_HELP = [
  'elbo sample: decode z ~ N(0, I) into a grid of images',
  '',
  'Usage: elbo sample --checkpoint PATH [options]',
  '',
  CHECKPOINT,
  '  --n N                 images to draw (default 64, at most 10000)',
  '  --seed S              seed of the draws (default 0)',
  '  --class C             a conditional model: draw from p(x|y = C) only (C a label, 0-based);',
  '                        without it, one row per class (--n images a row, default 10)',
  DATA,
  out('samples.png'),
  BACKEND_FLAG,
  HELP_FLAG,
  '',
].join('\n');
const RECONSTRUCT_HELP = [
  'elbo reconstruct: N test images (spread evenly over the test set) above their reconstructions',
  '',
  'Usage: elbo reconstruct --checkpoint PATH [options]',
  '',
  CHECKPOINT,
  '  --n N                 test images to show (default 30, at most 10000)',
  DATA,
  out('reconstructions.png'),
  BACKEND_FLAG,
  HELP_FLAG,
  '',
].join('\n');
const INTERPOLATE_HELP = [
  'elbo interpolate: decode the segment between the codes of two test images (shown between the two images)',
  'A conditional model encodes each image with its own label, and the label moves along the segment too.',
  '',
  'Usage: elbo interpolate --checkpoint PATH [options]',
  '',
  CHECKPOINT,
  '  --from I              index of the first test image (default 0)',
  '  --to J                index of the second test image (default 1)',
  '  --steps N             points on the segment, endpoints included (default 10)',
  DATA,
  out('interpolation.png'),
  BACKEND_FLAG,
  HELP_FLAG,
  '',
].join('\n');

const BASE = { checkpoint: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string' } } as const;

/** The --out file, checked before the model is loaded. */
function outputPath(value: string | boolean | undefined, fallback: string): string {
  const out = resolve(str(value) ?? fallback);
  checkOutputFile('out', str(value) ?? out);
  return out;
}

/** Throws unless every pixel about to be drawn is finite. */
function assertFinitePixels(command: string, pixels: ArrayLike<number>): void {
  for (let i = 0; i < pixels.length; i++) if (!Number.isFinite(pixels[i]!)) assertFinite(command, { [`pixel ${i} of the picture`]: pixels[i]! });
}

function done(path: string): void {
  process.stdout.write(`wrote ${path}\n`);
}

export async function sampleCommand(argv: string[]): Promise<void> {
  const { values } = parse('sample', argv, { ...BASE, n: { type: 'string' }, seed: { type: 'string' }, class: { type: 'string' } });
  if (values.help) return void process.stdout.write(SAMPLE_HELP);
  const seed = int('seed', values.seed, 0, 0);
  const out = outputPath(values.out, 'samples.png');
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const classes = model.config.classes;
  if (values.class !== undefined && classes === 0) throw new UsageError('--class needs a conditional model (one trained with --conditional)');
  if (classes > 0 && values.class === undefined) {
    writePng(out, samplePicture(model, data.test, seed, 0, int('n', values.n, 10, 1, 1000)).image); // one row per class
    return done(out);
  }
  const n = int('n', values.n, 64, 1, 10_000);
  const y = classes > 0 ? oneHot(new Array<number>(n).fill(int('class', values.class, 0, 0, classes - 1)), classes, model.config.dtype) : undefined;
  const images = model.sample(n, new Generator(seed), y).data;
  assertFinitePixels('sample', images);
  writePng(out, imageGrid(images, n, data.test.rows, data.test.cols));
  done(out);
}

export async function reconstructCommand(argv: string[]): Promise<void> {
  const { values } = parse('reconstruct', argv, { ...BASE, n: { type: 'string' } });
  if (values.help) return void process.stdout.write(RECONSTRUCT_HELP);
  const n = int('n', values.n, 30, 1, 10_000);
  const out = outputPath(values.out, 'reconstructions.png');
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const indices = spreadIndices(data.test.n, n);
  const count = indices.length;
  const x = tensor(subset(data.test, indices).images, { shape: [count, data.test.rows * data.test.cols], dtype: model.config.dtype });
  const y =
    model.config.classes > 0
      ? oneHot(
          indices.map((i) => data.test.labels[i]!),
          model.config.classes,
          model.config.dtype,
        )
      : undefined;
  const reconstructions = model.reconstruct(x, y).data;
  assertFinitePixels('reconstruct', reconstructions);
  writePng(out, pairGrid(x.data, reconstructions, count, data.test.rows, data.test.cols));
  done(out);
}

export async function interpolateCommand(argv: string[]): Promise<void> {
  const { values } = parse('interpolate', argv, { ...BASE, from: { type: 'string' }, to: { type: 'string' }, steps: { type: 'string' } });
  if (values.help) return void process.stdout.write(INTERPOLATE_HELP);
  const out = outputPath(values.out, 'interpolation.png');
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const from = int('from', values.from, 0, 0, data.test.n - 1);
  const to = int('to', values.to, 1, 0, data.test.n - 1);
  const steps = int('steps', values.steps, 10, 2, 1000);
  const dim = data.test.rows * data.test.cols;
  const image = (i: number) => tensor(data.test.images.subarray(i * dim, (i + 1) * dim), { shape: [1, dim], dtype: model.config.dtype });
  const { classes } = model.config;
  const label = (i: number) => (classes > 0 ? oneHot([data.test.labels[i]!], classes, model.config.dtype) : undefined);
  const line = model.interpolate(image(from), image(to), steps, label(from), label(to)).data;
  assertFinitePixels('interpolate', line);
  // The two test digits frame the decoded segment, so the picture shows where it starts and ends.
  const frames = [...image(from).data, ...line, ...image(to).data];
  writePng(out, imageGrid(frames, steps + 2, data.test.rows, data.test.cols, { columns: steps + 2 }));
  done(out);
}
