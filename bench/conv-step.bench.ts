/**
 * One training step of the conv VAE (`new VAE({ inputDim: 784, arch: 'conv' })`: 1→32→64
 * channels, 4×4 kernels, stride 2, padding 1, and the mirror), timed at batch 128 of the bundled
 * MNIST: forward + backward + Adam in float32, exactly `trainStep` of `src/vae/train.ts`.
 *
 *   npx tsx bench/conv-step.bench.ts [--backend wasm|cpu] [--threads N] [--steps N] [--warmup N] [--cpu-conv]
 *
 * `--cpu-conv` takes the wasm backend's conv kernels away, so its convolutions fall back to the
 * cpu reference's (as before the wasm kernels existed): the baseline of the comparison. Prints the
 * median, min and max wall time per step, the load average before and after, and the share of the
 * step spent in conv2d and convTranspose2d kernels (timed around each call).
 */
import { loadavg } from 'node:os';
import { batches, batchTensor } from '../src/data/batches.js';
import { loadMnist } from '../src/data/mnist.js';
import type { Backend } from '../src/kernels/backend.js';
import { type BackendName, cpuBackend, useBackend } from '../src/kernels/index.js';
import { initWasmBackend } from '../src/kernels/wasm/index.js';
import { Adam } from '../src/nn/optim/adam.js';
import { Generator } from '../src/tensor/random.js';
import { VAE } from '../src/vae/model.js';
import { trainStep } from '../src/vae/train.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const backendName = (arg('backend') ?? 'wasm') as BackendName;
const cpuConv = process.argv.includes('--cpu-conv');
const slow = backendName !== 'wasm' || cpuConv;
const steps = Number(arg('steps') ?? (slow ? 3 : 20));
const warmup = Number(arg('warmup') ?? (slow ? 1 : 3));
const BATCH = 128;

/** Wraps the backend's conv kernels to add the time spent in them to `spent`. */
function timeConvs(backend: Backend, spent: { conv2d: number; convTranspose2d: number }): void {
  for (const kind of ['conv2d', 'convTranspose2d'] as const) {
    const kernel = backend[kind];
    if (!kernel) continue;
    backend[kind] = (...args: Parameters<typeof kernel>): void => {
      const t0 = performance.now();
      kernel.apply(backend, args);
      spent[kind] += performance.now() - t0;
    };
  }
}

async function main(): Promise<void> {
  let threads = 1;
  if (backendName === 'wasm') {
    const wasm = initWasmBackend(arg('threads') ? { threads: Number(arg('threads')) } : {});
    await wasm.ready();
    threads = wasm.info.threads;
  }
  const backend = useBackend(backendName);
  if (cpuConv) {
    delete backend.conv2d;
    delete backend.convTranspose2d;
  }
  const spent = { conv2d: 0, convTranspose2d: 0 };
  timeConvs(cpuConv ? cpuBackend : backend, spent); // ops fall back to the reference's kernels, looked up at each call

  const model = new VAE({ inputDim: 784, arch: 'conv', dtype: 'float32', seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Generator(2);
  const first = batches(loadMnist().train, { batchSize: BATCH }).next();
  if (first.done) throw new Error('no training data');
  const x = batchTensor(first.value);
  const step = (): number => {
    const t0 = performance.now();
    const { failure } = trainStep(model, optimizer, x, { beta: 1, rng });
    if (failure) throw new Error(`the step diverged: ${failure}`);
    return performance.now() - t0;
  };
  const load0 = loadavg()[0]!;
  for (let i = 0; i < warmup; i++) step();
  spent.conv2d = spent.convTranspose2d = 0;
  const wall = Array.from({ length: steps }, step).sort((a, b) => a - b);
  const load1 = loadavg()[0]!;
  const median = wall[Math.floor(wall.length / 2)]!;
  const label = `${backendName}${cpuConv ? ' (conv kernels: cpu reference)' : ''}, ${threads} thread(s)`;
  process.stdout.write(
    `conv VAE train step, batch ${BATCH}, ${label}: median ${median.toFixed(1)} ms (min ${wall[0]!.toFixed(1)}, max ${wall.at(-1)!.toFixed(1)}, ${steps} steps)\n` +
      `  in conv kernels per step: conv2d ${(spent.conv2d / steps).toFixed(1)} ms, convTranspose2d ${(spent.convTranspose2d / steps).toFixed(1)} ms\n` +
      `  load average ${load0.toFixed(2)} → ${load1.toFixed(2)}, Node ${process.version}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
