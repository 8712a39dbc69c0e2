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
import { loadModelAndData } from './common.js';

const COMMON = `  --checkpoint PATH     a checkpoint.safetensors, or the run folder holding it
  --out FILE            the PNG to write
${BACKEND_FLAG}`;

const OPTIONS = { checkpoint: { type: 'string' }, out: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, data: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, steps: { type: 'string' }, class: { type: 'string' }, backend: { type: 'string' } } as const;

function done(path: string): void {
  process.stdout.write(`wrote ${path}\n`);
}

export async function sampleCommand(argv: string[]): Promise<void> {
  const { values } = parse('sample', argv, OPTIONS);
  if (values.help) {
    return void process.stdout.write(`elbo sample: decode z ~ N(0, I) into a grid of images\n\nUsage: elbo sample --checkpoint PATH [--n 64] [--seed 0] [--class C] [--out samples.png]\n  --n N                 images (a conditional model without --class: images per class row, default 10)\n  --class C             a conditional model: draw from p(x|y = C) only (C a label, 0-based)\n${COMMON}\n`);
  }
  const seed = int('seed', values.seed, 0, 0);
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const classes = model.config.classes;
  if (values.class !== undefined && classes === 0) throw new UsageError('--class needs a conditional model (one trained with --conditional)');
  const out = resolve(str(values.out) ?? 'samples.png');
  if (classes > 0 && values.class === undefined) {
    writePng(out, samplePicture(model, data.test, seed, 0, int('n', values.n, 10, 1, 1000)).image); // one row per class
    return done(out);
  }
  const n = int('n', values.n, 64, 1, 10_000);
  const y = classes > 0 ? oneHot(new Array<number>(n).fill(int('class', values.class, 0, 0, classes - 1)), classes, model.config.dtype) : undefined;
  writePng(out, imageGrid(model.sample(n, new Generator(seed), y).data, n, data.test.rows, data.test.cols));
  done(out);
}

export async function reconstructCommand(argv: string[]): Promise<void> {
  const { values } = parse('reconstruct', argv, OPTIONS);
  if (values.help) return void process.stdout.write(`elbo reconstruct: N test images (spread evenly over the test set) above their reconstructions\n\nUsage: elbo reconstruct --checkpoint PATH [--n 30] [--data NAME|DIR] [--out reconstructions.png]\n${COMMON}\n`);
  const n = int('n', values.n, 30, 1, 10_000);
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const indices = spreadIndices(data.test.n, n);
  const count = indices.length;
  const x = tensor(subset(data.test, indices).images, { shape: [count, data.test.rows * data.test.cols], dtype: model.config.dtype });
  const out = resolve(str(values.out) ?? 'reconstructions.png');
  const y = model.config.classes > 0 ? oneHot(indices.map((i) => data.test.labels[i]!), model.config.classes, model.config.dtype) : undefined;
  writePng(out, pairGrid(x.data, model.reconstruct(x, y).data, count, data.test.rows, data.test.cols));
  done(out);
}

export async function interpolateCommand(argv: string[]): Promise<void> {
  const { values } = parse('interpolate', argv, OPTIONS);
  if (values.help) return void process.stdout.write(`elbo interpolate: decode the segment between the codes of two test images\n\nUsage: elbo interpolate --checkpoint PATH [--from 0] [--to 1] [--steps 10] [--out interpolation.png]\n  --from I, --to J      indices of the two test images\n  --steps N             points on the segment, endpoints included (default 10)\n${COMMON}\n`);
  await selectBackend(values.backend);
  const { model, data } = loadModelAndData(values.checkpoint, values.data);
  const from = int('from', values.from, 0, 0, data.test.n - 1);
  const to = int('to', values.to, 1, 0, data.test.n - 1);
  const steps = int('steps', values.steps, 10, 2, 1000);
  const dim = data.test.rows * data.test.cols;
  const image = (i: number) => tensor(data.test.images.subarray(i * dim, (i + 1) * dim), { shape: [1, dim], dtype: model.config.dtype });
  const out = resolve(str(values.out) ?? 'interpolation.png');
  writePng(out, imageGrid(model.interpolate(image(from), image(to), steps).data, steps, data.test.rows, data.test.cols, { columns: steps }));
  done(out);
}
