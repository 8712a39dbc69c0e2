/**
 * One training step of the standard VAE, timed: batch 128 of the bundled MNIST, 784-400-20
 * encoder (ReLU), μ and log σ² heads, 20-400-784 decoder, Bernoulli likelihood (BCE with logits),
 * analytic KL, forward + backward + Adam, float32 — exactly `trainStep` of `src/vae/train.ts`,
 * the step `elbo train` runs (the gradient finiteness check included).
 *
 *   npx tsx bench/train-step.bench.ts [--backend wasm|cpu|gpujs] [--threads N] [--steps N] [--warmup N] [--json]
 *
 * Reports the median, min and max wall time per step, samples/s at the median, the median time
 * per phase (forward, backward, optimizer), and the process CPU time per step (process.cpuUsage:
 * every thread of the process, so the wasm worker's share and its short spin-waits are counted).
 * The machine may be shared: other processes' load stretches wall times (a descheduled thread
 * waits), while CPU time per step is what this process itself consumed, so compare both.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { loadMnist } from '../src/data/mnist.js';
import { batches, batchTensor } from '../src/data/batches.js';
import { useBackend, type BackendName } from '../src/kernels/index.js';
import { initWasmBackend } from '../src/kernels/wasm/index.js';
import { registerGpujsBackend } from '../src/kernels/gpujs.js';
import { Adam } from '../src/nn/optim/adam.js';
import { Generator } from '../src/tensor/random.js';
import { VAE } from '../src/vae/model.js';
import { type StepPhases, trainStep } from '../src/vae/train.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const backendName = (arg('backend') ?? 'wasm') as BackendName;
const threadsArg = arg('threads');
const json = process.argv.includes('--json');
const slow = backendName !== 'wasm';
const steps = Number(arg('steps') ?? (slow ? 10 : 200));
const warmup = Number(arg('warmup') ?? (slow ? 3 : 50));
const BATCH = 128;

async function main(): Promise<void> {
  let threads = 1;
  if (backendName === 'wasm') {
    const wasm = initWasmBackend(threadsArg ? { threads: Number(threadsArg) } : {});
    await wasm.ready();
    threads = wasm.info.threads;
  } else if (backendName === 'gpujs') registerGpujsBackend();
  const backend = useBackend(backendName);

  const model = new VAE({ inputDim: 784, hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Generator(2);
  const first = batches(loadMnist().train, { batchSize: BATCH }).next();
  if (first.done) throw new Error('no training data');
  const x = batchTensor(first.value);

  const load0 = loadavg()[0]!;
  const step = (phases?: StepPhases): number => {
    const t0 = performance.now();
    const { failure } = trainStep(model, optimizer, x, { beta: 1, rng }, phases);
    if (failure) throw new Error(`the step diverged: ${failure}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) step();
  const wall: number[] = [];
  const phases: StepPhases[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const p = { forward: 0, backward: 0, optimizer: 0 };
    wall.push(step(p));
    phases.push(p);
  }
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1e3 / steps;
  const load1 = loadavg()[0]!;

  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const sorted = [...wall].sort((a, b) => a - b);
  const result = {
    bench: 'vae_train_step',
    impl: 'elbo',
    backend: backend.name,
    threads,
    batch: BATCH,
    steps,
    warmup,
    median_ms: median(wall),
    min_ms: sorted[0]!,
    max_ms: sorted.at(-1)!,
    mean_ms: elapsed / steps,
    samples_per_sec: (BATCH / median(wall)) * 1e3,
    forward_ms: median(phases.map((p) => p.forward)),
    backward_ms: median(phases.map((p) => p.backward)),
    optimizer_ms: median(phases.map((p) => p.optimizer)),
    cpu_ms_per_step: cpuMs,
    cpu_per_wall: (cpu.user + cpu.system) / 1e3 / elapsed,
    load_before: load0,
    load_after: load1,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
  const f = (v: number): string => v.toFixed(2);
  if (!json) {
    console.log(
      `elbo VAE train step, batch ${BATCH}, float32, backend ${backend.name}${backend.name === 'wasm' ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}; ${steps} steps after ${warmup} warm-up`,
    );
    console.log(
      `  wall: median ${f(result.median_ms)} ms  min ${f(result.min_ms)}  max ${f(result.max_ms)}  mean ${f(result.mean_ms)}  -> ${result.samples_per_sec.toFixed(0)} samples/s`,
    );
    console.log(`  phases (median): forward ${f(result.forward_ms)} ms  backward ${f(result.backward_ms)} ms  optimizer ${f(result.optimizer_ms)} ms`);
    console.log(`  process CPU: ${f(cpuMs)} ms per step (${f(result.cpu_per_wall)} cores busy on average)`);
    console.log(
      `  machine: ${result.cpu}, ${result.cores} cores, Node ${result.node}; load average (1 min) ${load0.toFixed(2)} before, ${load1.toFixed(2)} after`,
    );
    console.log("  note: the machine may be shared; other processes' load stretches wall time, CPU ms per step is this process's own work.");
  } else console.log(JSON.stringify(result));
  if (backend.name === 'wasm') await initWasmBackend().dispose();
}

await main();
