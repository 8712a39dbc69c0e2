/**
 * Timing and result types shared by `elbo bench` and its peers (bench/peers/*.ts): a timer that
 * warms up, then times calls one by one and reports the median, min and max and the process CPU
 * time; the matmul cases; and the shape of a training-step result.
 */
import type { PairedOurs, PairedTrainSteps } from './bench-paired.js';

/** Median, minimum and maximum of a set of samples. */
export interface Stat {
  median: number;
  min: number;
  max: number;
}

/** The median, min and max of `values` (not modified). */
export function stat(values: readonly number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

/** How long {@link timeCalls} warms up and measures. */
export interface TimerOptions {
  /** Warm up for at least this many seconds (and at least `minWarmup` calls). */
  warmupSeconds: number;
  /** At least this many warm-up calls. */
  minWarmup: number;
  /** Measure for about this many seconds... */
  seconds: number;
  /** ...but at least this many calls... */
  minCalls: number;
  /** ...and at most this many. */
  maxCalls: number;
}

/** What {@link timeCalls} measured: wall ms per call, and process CPU ms per call (all threads). */
export interface Timing {
  ms: Stat;
  /** Process CPU time (user + system, every thread of the process) per timed call, in ms. */
  cpuMs: number;
  warmup: number;
  calls: number;
}

/**
 * Calls `fn` until warm (tiering up the JIT, compiling kernels), then times each call on its own.
 * The number of timed calls follows from the warm call time and `seconds`. Wall time suffers
 * when other processes share the cores; the CPU time per call much less.
 */
export function timeCalls(fn: () => void, o: TimerOptions): Timing {
  const once = (): number => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  once(); // the first call may compile (kernels, jit): it neither counts as warm nor sets the pace
  let best = Infinity;
  let warmup = 1;
  for (let spent = 0; spent < o.warmupSeconds * 1e3 || warmup < o.minWarmup; ) {
    const ms = once();
    warmup++;
    spent += ms;
    best = Math.min(best, ms);
    if (ms > 2e3 && warmup >= o.minWarmup) break;
  }
  const calls = Math.max(o.minCalls, Math.min(o.maxCalls, Math.ceil((o.seconds * 1e3) / Math.max(best, 1e-3))));
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) times.push(once());
  const cpu = process.cpuUsage(cpu0);
  return { ms: stat(times), cpuMs: (cpu.user + cpu.system) / 1e3 / calls, warmup, calls };
}

/** One training step's timing, ours or a peer's (field names are the JSON output's). */
export interface TrainStepResult {
  /** 'elbo', 'tfjs', 'jax-js', 'pytorch'. */
  impl: string;
  /** The library's version ('' for elbo itself). */
  version: string;
  /** The library's backend: 'wasm', 'cpu', 'gpujs', 'openblas', ... */
  backend: string;
  /** A longer description of the backend: "wasm (SIMD, 2 threads)", "gpujs (webasm mode)", "OpenBLAS 0.3.21 SkylakeX". */
  detail: string;
  /** Threads the implementation computes with. */
  threads: number;
  batch: number;
  ms_median: number;
  ms_min: number;
  ms_max: number;
  /** batch / median step time. */
  samples_per_sec: number;
  /** Process CPU ms per step (all threads); null when the peer cannot report it. */
  cpu_ms_per_step: number | null;
  warmup: number;
  steps: number;
  /** The loss after the last step (a sanity check: finite; about 540 nats at the start, falling as it trains). */
  loss: number;
  note?: string;
}

/** Builds a {@link TrainStepResult} from a {@link Timing}. */
export function stepResult(
  base: Pick<TrainStepResult, 'impl' | 'version' | 'backend' | 'detail' | 'threads' | 'batch' | 'loss'> & { note?: string },
  t: Timing,
): TrainStepResult {
  return {
    ...base,
    ms_median: round(t.ms.median),
    ms_min: round(t.ms.min),
    ms_max: round(t.ms.max),
    samples_per_sec: round((base.batch / t.ms.median) * 1e3, 1),
    cpu_ms_per_step: round(t.cpuMs),
    warmup: t.warmup,
    steps: t.calls,
  };
}

/** Rounds to `digits` decimals (default 3). */
export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** One matrix product: C[m,n] = op(A)·op(B), A [m,k] ([k,m] if transA), B [k,n] ([n,k] if transB). */
export interface MatmulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  /** How many times one training step runs this product (the μ and log σ² heads: 2). */
  perStep: number;
}

/** A matmul case's GFLOP/s on one implementation. */
export interface MatmulResult {
  /** Column label: 'cpu', 'wasm 1 thread', 'wasm 2 threads', 'gpujs (webasm)', 'jax-js wasm'. */
  impl: string;
  case: string;
  mflop: number;
  gflops: Stat;
  /** GFLOP per second of process CPU time (meaningful for one thread: robust to other load). */
  gflops_per_cpu_second: number;
}

/** 2·m·n·k floating point operations of a case. */
export const flops = (c: MatmulCase): number => 2 * c.m * c.n * c.k;

const mm = (name: string, m: number, k: number, n: number, transA = false, transB = false, perStep = 0): MatmulCase => ({
  name,
  m,
  k,
  n,
  transA,
  transB,
  perStep,
});

/** The forward and both backward products of a linear layer y = x·Wᵀ (W [out, in]) at batch `b`. */
function layer(label: string, b: number, inp: number, out: number, perStep: number): MatmulCase[] {
  return [
    mm(`${label} fwd x·Wᵀ [${b},${inp}]·[${out},${inp}]ᵀ`, b, inp, out, false, true, perStep),
    mm(`${label} ∂x g·W [${b},${out}]·[${out},${inp}]`, b, out, inp, false, false, perStep),
    mm(`${label} ∂W gᵀ·x [${b},${out}]ᵀ·[${b},${inp}]`, out, b, inp, true, false, perStep),
  ];
}

/** Square products (64-1024; quick: 64 and 256) and the VAE's products at batch 128 (quick: the first layer's). */
export function matmulCases(quick: boolean): MatmulCase[] {
  const squares = (quick ? [64, 256] : [64, 128, 256, 512, 1024]).map((s) => mm(`square ${s}`, s, s, s));
  const vae = quick
    ? layer('enc 784→400', 128, 784, 400, 1)
    : [
        ...layer('enc 784→400', 128, 784, 400, 1),
        ...layer('μ,logσ² 400→20 (×2)', 128, 400, 20, 2),
        ...layer('dec 20→400', 128, 20, 400, 1),
        ...layer('dec 400→784', 128, 400, 784, 1),
      ];
  return [...squares, ...vae];
}

/** Seeded uniforms in [-bound, bound) (an LCG: no Math.random, so runs are comparable). */
export function seededUniform(n: number, seed: number, bound = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * bound;
  }
  return out;
}

/** Times one product with `run` (one call computes it once, copies included) and returns its GFLOP/s. */
export function timeMatmul(impl: string, c: MatmulCase, run: () => void, quick: boolean): MatmulResult {
  const f = flops(c);
  // Calls are batched into samples of >= ~20 ms so that small products are timed above the timer's noise.
  const probe = performance.now();
  run();
  const reps = Math.max(1, Math.min(1000, Math.ceil(20 / Math.max(performance.now() - probe, 1e-3))));
  const t = timeCalls(
    () => {
      for (let r = 0; r < reps; r++) run();
    },
    {
      warmupSeconds: quick ? 0.05 : 0.3,
      minWarmup: 1,
      seconds: quick ? 0.3 : 1.5,
      minCalls: 3,
      maxCalls: quick ? 5 : 15,
    },
  );
  const rate = (ms: number): number => round((f * reps) / (ms / 1e3) / 1e9, 2);
  return {
    impl,
    case: c.name,
    mflop: round(f / 1e6, 1),
    gflops: { median: rate(t.ms.median), min: rate(t.ms.max), max: rate(t.ms.min) },
    gflops_per_cpu_second: rate(t.cpuMs),
  };
}

/** What the peers (bench/peers: tfjs, jax-js, PyTorch) measured in the same run. */
export interface PeerReport {
  train_step: TrainStepResult[];
  /** The conv VAE's training step (PyTorch only: bench/peers/train_step.py --arch conv); absent when not run. */
  conv_train_step?: TrainStepResult[];
  matmul: MatmulResult[];
  /** elbo's step and PyTorch's timed in alternating rounds (absent when no elbo side was given to pair). */
  paired_train_step?: PairedTrainSteps;
  /** Peers that did not run, and why (not installed, no torch, an error). */
  skipped: { peer: string; reason: string }[];
}

/** What the peers are given: quick mode, the matmul cases to time, the bench batch (`benchBatch`: 128 training digits of every class), a progress log. */
export interface PeerOptions {
  quick: boolean;
  cases: readonly MatmulCase[];
  batch: Float32Array;
  timer: TimerOptions;
  /** elbo's training steps to pair with PyTorch's, one per wasm backend with 1 or 2 threads (none: no pairing). */
  paired?: PairedOurs[];
  log(line: string): void;
}

/** bench/peers/index.ts's entry point, loaded at run time so that src/ never imports an ML library. */
export type PeerRunner = (options: PeerOptions) => Promise<PeerReport>;
