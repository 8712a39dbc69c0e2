/**
 * What `elbo bench` measures on elbo's own backends: matmul GFLOP/s, elementwise throughput and
 * the full training step of the standard VAE (784-400-20, Bernoulli, Adam 1e-3, batch 128).
 */
import type { VAE } from '../vae/model.js';
import { loadMnist } from '../data/mnist.js';
import type { Backend, BinaryOp, UnaryOp } from '../kernels/backend.js';
import { cpuBackend } from '../kernels/cpu.js';
import { gpujsInfo, registerGpujsBackend, probeGpujsMode } from '../kernels/gpujs.js';
import { registerBackend, setBackend } from '../kernels/index.js';
import { createWasmBackend, initWasmBackend, wasmInfo, type WasmBackend } from '../kernels/wasm/index.js';
import { Adam } from '../nn/optim/adam.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { buildModel, DEFAULT_TRAIN_CONFIG, type TrainConfig, trainStep } from '../vae/train.js';
import { elbo } from '../vae/elbo.js';
import type { PairedOurs } from './bench-paired.js';
import {
  type MatmulCase,
  type MatmulResult,
  type Stat,
  round,
  seededUniform,
  stepResult,
  timeCalls,
  timeMatmul,
  type Timing,
  type TimerOptions,
  type TrainStepResult,
} from './bench-timing.js';

/** The batch size of the standard training step. */
export const BENCH_BATCH = 128;

/** One of elbo's float32 backends as benchmarked: a column of the tables. */
export interface BenchBackend {
  /** Column label: 'cpu', 'wasm 1 thread', 'wasm 2 threads', 'gpujs webasm' (the mode gpu.js runs in). */
  label: string;
  /** The registry name `setBackend` selects it by. */
  name: string;
  /** The `--backend` family: 'cpu', 'wasm' or 'gpujs'. */
  family: 'cpu' | 'wasm' | 'gpujs';
  backend: Backend;
  threads: number;
  /** e.g. "wasm (SIMD, 2 threads)"; for gpujs, call after a kernel has run to see the real mode. */
  detail(): string;
}

/** Creates (and registers) the backends of the chosen families; `dispose` stops the extra wasm threads. */
export async function createBenchBackends(families: ReadonlySet<string>): Promise<{ backends: BenchBackend[]; dispose(): Promise<void> }> {
  const backends: BenchBackend[] = [];
  const owned: WasmBackend[] = [];
  if (families.has('cpu')) backends.push({ label: 'cpu', name: 'cpu', family: 'cpu', backend: cpuBackend, threads: 1, detail: () => 'cpu (JS reference)' });
  if (families.has('wasm') && wasmInfo().simd) {
    const all = initWasmBackend();
    await all.ready();
    const simd = `SIMD${all.info.relaxedSimd ? ' + relaxed FMA' : ''}`;
    if (all.info.threads > 1) {
      const one = createWasmBackend({ threads: 1, name: 'wasm-1thread' });
      owned.push(one);
      registerBackend(one);
      backends.push({ label: 'wasm 1 thread', name: one.name, family: 'wasm', backend: one, threads: 1, detail: () => `wasm (${simd}, 1 thread)` });
    }
    const t = all.info.threads;
    backends.push({
      label: `wasm ${t} thread${t === 1 ? '' : 's'}`,
      name: all.name,
      family: 'wasm',
      backend: all,
      threads: t,
      detail: () => `wasm (${simd}, ${t} thread${t === 1 ? '' : 's'})`,
    });
  }
  if (families.has('gpujs')) {
    const gpujs = registerGpujsBackend();
    probeGpujsMode(gpujs); // the label names the mode gpu.js really runs in (webasm in Node)
    backends.push({
      label: `gpujs ${gpujsInfo(gpujs).mode}`,
      name: gpujs.name,
      family: 'gpujs',
      backend: gpujs,
      threads: 1,
      detail: () => `gpujs (${gpujsInfo(gpujs).mode} mode)`,
    });
  }
  return { backends, dispose: async () => void (await Promise.all(owned.map((b) => b.dispose()))) };
}

/** GFLOP/s of every case on every backend (inputs copied in and the result out on every call, as an op does). */
export function benchMatmul(backends: readonly BenchBackend[], cases: readonly MatmulCase[], quick: boolean, log: (line: string) => void): MatmulResult[] {
  const results: MatmulResult[] = [];
  for (const c of cases) {
    const a = seededUniform(c.m * c.k, 1);
    const b = seededUniform(c.k * c.n, 2);
    const out = new Float32Array(c.m * c.n);
    const dims = { batch: 1, m: c.m, k: c.k, n: c.n, transA: c.transA, transB: c.transB, aBatchStride: 0, bBatchStride: 0 };
    for (const be of backends) {
      const r = timeMatmul(be.label, c, () => be.backend.matmul(a, b, out, dims), quick);
      results.push(r);
      log(`matmul ${c.name}, ${be.label}: ${r.gflops.median} GFLOP/s`);
    }
  }
  return results;
}

/** Millions of float32 elements per second of one elementwise op on one backend. */
export interface ElementwiseResult {
  impl: string;
  op: string;
  elements: number;
  melem_per_sec: Stat;
}

const UNARY: UnaryOp[] = ['exp', 'sigmoid', 'softplus', 'relu'];
const BINARY: BinaryOp[] = ['add', 'mul', 'bceWithLogits'];

/** Unary (exp, sigmoid, softplus, relu) and same-shape binary (add, mul, BCE with logits) ops on 1M float32 elements, per backend. */
export function benchElementwise(backends: readonly BenchBackend[], quick: boolean, log: (line: string) => void): ElementwiseResult[] {
  const n = 1 << 20;
  const x = seededUniform(n, 3, 4);
  const y = seededUniform(n, 4, 4).map((v) => (v > 0 ? 1 : 0)); // 0/1, so that bceWithLogits sees targets
  const out = new Float32Array(n);
  const ops: [string, (be: Backend) => void][] = [
    ...UNARY.map((op): [string, (be: Backend) => void] => [op, (be) => be.unary(op, x, out, 0, 0)]),
    ...BINARY.map((op): [string, (be: Backend) => void] => [op, (be) => be.binary(op, x, [1], y, [1], [n], out)]),
  ];
  const timer: TimerOptions = { warmupSeconds: quick ? 0.05 : 0.2, minWarmup: 2, seconds: quick ? 0.1 : 0.5, minCalls: 3, maxCalls: quick ? 10 : 50 };
  const results: ElementwiseResult[] = [];
  for (const [op, run] of ops) {
    for (const be of backends) {
      const t = timeCalls(() => run(be.backend), timer);
      const rate = (ms: number): number => round(n / (ms / 1e3) / 1e6, 1);
      results.push({ impl: be.label, op, elements: n, melem_per_sec: { median: rate(t.ms.median), min: rate(t.ms.max), max: rate(t.ms.min) } });
      log(`elementwise ${op}, ${be.label}: ${rate(t.ms.median)} M elements/s`);
    }
  }
  return results;
}

let digits: Float32Array | undefined;

/**
 * The digits every training step of the bench is timed on, [batch × 784]: every s-th of the N
 * bundled training digits (8,000), s = ⌊N / batch⌋ (digits 0, s, 2s, ...), so the batch holds
 * every class in proportion, as a shuffled training batch does (PyTorch's train_step.py takes
 * the very same).
 * The bundled set is stored class by class, and its first 128 digits (the bench batch before) are
 * all zeros, the class with the most ink: 75% zero pixels against 81% for the set, which slowed
 * the products that skip zeros below what training sees.
 */
export function benchBatch(batch = BENCH_BATCH): Float32Array {
  digits ??= loadMnist().train.images;
  const count = digits.length / 784;
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= count)) throw new RangeError(`benchBatch: batch must be an integer in [1, ${count}], got ${batch}`);
  const stride = Math.floor(count / batch);
  const out = new Float32Array(batch * 784);
  for (let j = 0; j < batch; j++) out.set(digits.subarray(j * stride * 784, (j * stride + 1) * 784), j * 784);
  return out;
}

/**
 * Warm-up and timing of a training step: seconds of each, and bounds on the steps timed. `--quick`
 * still times 30 steps of a fast backend, but a slow one (the cpu reference's 0.5 s steps) only
 * once after its warm-up, not three times.
 */
export const stepTimer = (quick: boolean): TimerOptions =>
  quick
    ? { warmupSeconds: 0.3, minWarmup: 1, seconds: 0.5, minCalls: 1, maxCalls: 30 }
    : { warmupSeconds: 2, minWarmup: 3, seconds: 8, minCalls: 5, maxCalls: 300 };

/** What every step timing starts from: `be` active, the bench batch, the model of `config` (the standard VAE by default), Adam and a generator. */
function stepSetup(be: BenchBackend, config: TrainConfig = DEFAULT_TRAIN_CONFIG): { x: Tensor; vae: VAE; optimizer: Adam; rng: Generator } {
  setBackend(be.name);
  const vae = buildModel(config, 784);
  return {
    x: tensor(benchBatch(), { shape: [BENCH_BATCH, 784] }),
    vae,
    optimizer: new Adam(vae.parameters(), { lr: config.lr }),
    rng: new Generator(2),
  };
}

/**
 * The training step of the model `config` builds, on one backend, exactly as `elbo train` runs
 * it: {@link trainStep} (forward with fresh noise, backward, the finiteness check, Adam), reading
 * the loss, timed by `time`, on the same 128 digits for every model.
 */
export function timeTrainStep(be: BenchBackend, config: TrainConfig, time: (step: () => void) => Timing, note?: string): TrainStepResult {
  const setup = stepSetup(be, config);
  let loss = NaN;
  const timing = time(() => {
    loss = cliStep(setup, `the training step (${note ?? 'standard VAE'})`);
  });
  return stepResult({ impl: 'elbo', version: '', backend: be.family, detail: be.detail(), threads: be.threads, batch: BENCH_BATCH, loss, note }, timing);
}

/** One step of `elbo train` on a {@link stepSetup}: {@link trainStep} (forward with fresh noise, backward, the finiteness check, Adam); returns the loss. */
function cliStep({ x, vae, optimizer, rng }: ReturnType<typeof stepSetup>, what: string): number {
  const step = trainStep(vae, optimizer, x, { beta: 1, rng });
  if (step.failure) throw new Error(`bench: ${what} failed: ${step.failure}`);
  return step.loss;
}

/**
 * One step of the README's loop, as written, on a {@link stepSetup}: `elbo(...)`,
 * `optimizer.zeroGrad()` (gradients zeroed in place, the default, as PyTorch 1.x),
 * `loss.backward()` (its temporaries in scratch memory), `optimizer.step()`, reading the loss; no
 * scratch scope around the forward, no finiteness check. Returns the loss.
 */
function readmeLoopStep({ x, vae, optimizer, rng }: ReturnType<typeof stepSetup>): number {
  const terms = elbo(vae, x, { rng, beta: 1 });
  optimizer.zeroGrad();
  terms.loss.backward();
  optimizer.step();
  return terms.loss.item();
}

/** Blocks of `step` on the standard VAE on one backend (model built at the first block; each block makes `be` the active backend first). */
function stepBlocks(be: BenchBackend, step: (setup: ReturnType<typeof stepSetup>) => number): PairedOurs {
  let setup: ReturnType<typeof stepSetup> | undefined;
  let loss = NaN;
  const steps = (n: number): number[] => {
    setBackend(be.name);
    setup ??= stepSetup(be);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      loss = step(setup);
      times.push(performance.now() - t0);
    }
    return times;
  };
  return { threads: be.threads, detail: be.detail(), steps, loss: () => loss };
}

/**
 * Blocks of the standard VAE's training step on one backend, for pairing: the same step as
 * {@link benchTrainStep} times ({@link trainStep}, as `elbo train` runs it, reading the loss).
 */
export function trainStepBlocks(be: BenchBackend): PairedOurs {
  return stepBlocks(be, (setup) => cliStep(setup, `the paired training step on ${be.label}`));
}

/** Blocks of the README's loop on one backend, for pairing with {@link trainStepBlocks} (see {@link benchUserLoop}). */
export function userLoopBlocks(be: BenchBackend): PairedOurs {
  return stepBlocks(be, readmeLoopStep);
}

/** The standard VAE's training step on one backend (see {@link timeTrainStep}). */
export function benchTrainStep(be: BenchBackend, quick: boolean): TrainStepResult {
  return timeTrainStep(be, DEFAULT_TRAIN_CONFIG, (step) => timeCalls(step, stepTimer(quick)));
}

/**
 * The README's loop, as written, on one backend ({@link readmeLoopStep}): its row says what a
 * user's own loop costs next to {@link benchTrainStep}'s.
 */
export function benchUserLoop(be: BenchBackend, quick: boolean): TrainStepResult {
  const setup = stepSetup(be);
  let loss = NaN;
  const timing = timeCalls(() => {
    loss = readmeLoopStep(setup);
  }, stepTimer(quick));
  return stepResult(
    { impl: 'elbo', version: '', backend: be.family, detail: be.detail(), threads: be.threads, batch: BENCH_BATCH, loss, note: "the README's loop" },
    timing,
  );
}
