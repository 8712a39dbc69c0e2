/**
 * How the training step's cost grows with the batch and the hidden width, ours beside PyTorch's
 * in the same run: the standard VAE (784-h-20, Bernoulli, analytic KL, Adam 1e-3) on `batch`
 * training digits of every class (`benchBatch`, the ones train_step.py takes too), batch
 * 32…1024 at h = 400, then h = 400…2000 at batch 128. Ours is
 * `trainStep` (the step `elbo train` runs) on the default backend (wasm, every core); PyTorch is
 * bench/peers/train_step.py with as many threads, in a child process.
 *
 *   npx tsx bench/cost-growth.bench.ts [--steps N] [--warmup N]
 *
 * Prints a Markdown table of median ms per step and the ratio ours / PyTorch.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBatch } from '../src/cli/bench-measure.js';
import { getBackend } from '../src/kernels/index.js';
import { initWasmBackend } from '../src/kernels/wasm/index.js';
import { Adam } from '../src/nn/optim/adam.js';
import { tensor } from '../src/tensor/create.js';
import { Generator } from '../src/tensor/random.js';
import { VAE } from '../src/vae/model.js';
import { trainStep } from '../src/vae/train-step.js';
import { PYTHON, torchUnavailable } from './peers/pytorch.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const steps = arg('steps', 60);
const warmup = arg('warmup', 15);
const SCRIPT = fileURLToPath(new URL('./peers/train_step.py', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Our median ms per step for `batch` digits and hidden width `hidden`. */
function ours(batch: number, hidden: number): number {
  const model = new VAE({ inputDim: 784, hiddenDims: [hidden], latentDim: 20, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Generator(2);
  const x = tensor(benchBatch(batch), { shape: [batch, 784] }); // the digits train_step.py takes
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const { failure } = trainStep(model, optimizer, x, { beta: 1, rng });
    if (failure) throw new Error(`batch ${batch}, hidden ${hidden}: ${failure}`);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

/** PyTorch's median ms per step, same sizes, `threads` threads. */
function pytorch(batch: number, hidden: number, threads: number): number {
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread', PYTHONDONTWRITEBYTECODE: '1' };
  const args = [
    SCRIPT,
    '--threads',
    String(threads),
    '--batch',
    String(batch),
    '--hidden',
    String(hidden),
    '--warmup',
    String(warmup),
    '--steps',
    String(steps),
  ];
  const r = spawnSync(PYTHON, args, { env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`train_step.py: ${r.stderr.trim().split('\n').at(-1)}`);
  const line = r.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))!;
  return (JSON.parse(line) as { median_ms: number }).median_ms;
}

async function main(): Promise<void> {
  const wasm = initWasmBackend();
  await wasm.ready();
  const threads = Math.min(2, getBackend().name === 'wasm' ? wasm.info.threads : 1);
  const torch = torchUnavailable();
  const configs: Array<[number, number]> = [
    ...[32, 64, 128, 256, 512, 1024].map((b): [number, number] => [b, 400]),
    ...[800, 1200, 2000].map((h): [number, number] => [128, h]),
  ];
  const load = loadavg()[0]!.toFixed(2);
  const rows: string[] = [];
  for (const [batch, hidden] of configs) {
    const a = ours(batch, hidden);
    const b = torch ? NaN : pytorch(batch, hidden, threads);
    rows.push(`| ${batch} | ${hidden} | ${a.toFixed(2)} | ${Number.isNaN(b) ? '–' : b.toFixed(2)} | ${Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}x`} |`);
    process.stderr.write(`${rows.at(-1)}\n`);
  }
  process.stdout.write(
    [
      `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}; ${new Date().toISOString()}; load average ${load} at the start.`,
      `elbo: trainStep on ${getBackend().name} (${wasm.info.threads} threads); PyTorch: ${torch ?? `train_step.py, ${threads} threads`}; ${warmup} warm-up + ${steps} timed steps each.`,
      '',
      '| batch | hidden | elbo ms/step (median) | PyTorch ms/step (median) | elbo / PyTorch |',
      '|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
