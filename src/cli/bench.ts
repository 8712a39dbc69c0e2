/**
 * `elbo bench`: matmul GFLOP/s, elementwise throughput and the full training step of the
 * standard VAE on each of elbo's backends, with the peers (TensorFlow.js, jax-js, PyTorch) timed
 * side by side in the same run when they are installed. `npm run bench` (bench/run.ts) runs the
 * same code.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, type BackendName } from '../kernels/index.js';
import { wasmInfo } from '../kernels/wasm/index.js';
import { choice, parse } from './args.js';
import { benchConv } from './bench-conv.js';
import { benchConvTrainSteps } from './bench-conv-step.js';
import {
  benchBatch,
  benchElementwise,
  benchMatmul,
  benchTrainStep,
  benchUserLoop,
  createBenchBackends,
  stepTimer,
  trainStepBlocks,
  userLoopBlocks,
} from './bench-measure.js';
import { benchMarkdown, type BenchReport } from './bench-report.js';
import { loopPairOptions, type PairedUserLoop, pairedRounds } from './bench-paired.js';
import { matmulCases, type PeerRunner } from './bench-timing.js';
import { formatDuration } from './progress.js';

export { benchMarkdown, type BenchReport } from './bench-report.js';

export const BENCH_HELP = `elbo bench: kernel and training-step throughput, with peers side by side

Usage: elbo bench [options]        (npm run bench runs it too)

Measures matmul GFLOP/s (squares 64-1024 and the VAE's forward and backward products) on the
cpu reference, wasm on 1 thread and on all threads, and gpujs (in the mode gpu.js really runs);
elementwise throughput on 1M elements; and the full training step (batch 128, Adam) per
backend: median and min-max ms after warm-up, samples/s, process CPU ms per step; the same for
the conv VAE of elbo train --arch conv (--quick: on the headline backend only, one step when
slow). Peers, when installed: TensorFlow.js (cpu, wasm), jax-js (wasm, jit), PyTorch
(/usr/bin/python3 with torch; the conv VAE too), and our step paired with PyTorch's
on 1 and 2 threads in alternating rounds (ABBA blocks in the same seconds, robust to load).

Options
  --quick               fewer sizes and repetitions (a smoke run, well under a minute)
  --json                print one JSON object instead of Markdown tables
  --no-peers            elbo's backends only
  --backend NAME        only this backend: ${BACKEND_NAMES.join(', ')} (default: all of them)
  -h, --help            this help
`;

/** What `elbo bench` was asked to do. */
export interface BenchOptions {
  quick: boolean;
  json: boolean;
  peers: boolean;
  /** Backend families to measure. */
  backends: BackendName[];
}

/** Parses `elbo bench`'s flags (see {@link BENCH_HELP}). */
export function parseBenchArgs(argv: string[]): BenchOptions & { help: boolean } {
  const { values } = parse('bench', argv, {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    'no-peers': { type: 'boolean' },
    backend: { type: 'string' },
  });
  const one = values.backend === undefined ? undefined : choice<BackendName>('backend', values.backend, 'wasm', BACKEND_NAMES);
  return {
    help: Boolean(values.help),
    quick: Boolean(values.quick),
    json: Boolean(values.json),
    peers: !values['no-peers'],
    backends: one ? [one] : [...BACKEND_NAMES],
  };
}

/** Loads bench/peers/index.ts by URL (from the source tree, through tsx); a string says why it could not. */
async function loadPeers(): Promise<PeerRunner | string> {
  const url = new URL('../../bench/peers/index.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return 'bench/peers/index.ts is not here (peers run from the source tree)';
  try {
    const mod = (await import(url.href)) as { runPeers?: unknown };
    return typeof mod.runPeers === 'function' ? (mod.runPeers as PeerRunner) : 'bench/peers/index.ts exports no runPeers';
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return `cannot load bench/peers/index.ts (${why}); run the TypeScript sources: npm run bench`;
  }
}

/** Runs the benchmark; progress lines go to `log`. */
export async function runBench(o: BenchOptions, command: string, log: (line: string) => void): Promise<BenchReport> {
  const t0 = performance.now();
  const loadBefore = loadavg();
  const families = new Set<string>(o.backends);
  const { backends, dispose } = await createBenchBackends(families);
  if (backends.length === 0)
    throw new Error(`no backend to measure: ${o.backends.join(', ')} ${o.backends.includes('wasm') ? '(this engine has no WebAssembly SIMD)' : ''}`);
  try {
    const cases = matmulCases(o.quick);
    log(`elbo bench${o.quick ? ' --quick' : ''}: ${backends.map((b) => b.label).join(', ')}; load average ${loadBefore[0]!.toFixed(2)}`);
    const matmul = benchMatmul(backends, cases, o.quick, log);
    const elementwise = benchElementwise(backends, o.quick, log);
    const trainSteps = backends.map((be) => {
      log(`training step on ${be.label}...`);
      const r = benchTrainStep(be, o.quick);
      log(`  ${r.ms_median} ms/step, ${r.samples_per_sec} samples/s, ${r.cpu_ms_per_step} CPU ms/step`);
      return r;
    });
    const userLoops = backends.map((be) => {
      log(`the README's training loop on ${be.label}...`);
      const r = benchUserLoop(be, o.quick);
      log(`  ${r.ms_median} ms/step (${(r.ms_median / trainSteps[backends.indexOf(be)]!.ms_median).toFixed(2)}x the training step)`);
      return r;
    });
    // The same comparison in alternating rounds, so that a burst of outside load falls on both (wasm backends).
    const pairedUserLoops: PairedUserLoop[] = [];
    for (const be of backends.filter((b) => b.family === 'wasm')) {
      log(`the README's loop paired with the training step on ${be.label}...`);
      const timing = await pairedRounds(userLoopBlocks(be), trainStepBlocks(be), loopPairOptions(o.quick));
      log(`  loop ${timing.ours_ms.median} ms, trainStep ${timing.theirs_ms.median} ms: ratio ${timing.ratio}`);
      pairedUserLoops.push({ threads: be.threads, backend: be.detail(), ...timing });
    }
    const conv = await benchConv(backends, o, log);
    // The headline: what `elbo train` would use (wasm on all threads), else the first backend measured.
    const headline = trainSteps.find((_s, i) => backends[i]!.name === 'wasm') ?? trainSteps[0]!;
    const convTrainSteps = benchConvTrainSteps(backends, backends[trainSteps.indexOf(headline)]!, o.quick, log);
    let peers: BenchReport['peers'] = null;
    let peersUnavailable: string | undefined;
    let paired: BenchReport['paired_train_steps'] = null;
    if (o.peers) {
      const runner = await loadPeers();
      // The wasm backends on 1 and 2 threads, paired with PyTorch on as many (bench-paired.ts).
      const pairable = backends.filter((be) => be.family === 'wasm' && be.threads <= 2).map(trainStepBlocks);
      if (typeof runner === 'string') peersUnavailable = runner;
      else peers = await runner({ quick: o.quick, cases, batch: benchBatch(), timer: stepTimer(o.quick), paired: pairable, log });
      paired =
        typeof runner === 'string'
          ? { rows: [], unavailable: runner }
          : (peers?.paired_train_step ?? { rows: [], unavailable: 'no elbo wasm backend with 1 or 2 threads to pair' });
    }
    const wasm = families.has('wasm') && wasmInfo().simd ? wasmInfo() : null;
    const gpujs = backends.find((b) => b.family === 'gpujs');
    return {
      command,
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown cpu',
        cores: availableParallelism(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        load_before: loadBefore,
        load_after: loadavg(),
      },
      quick: o.quick,
      train_step: headline,
      train_steps: trainSteps,
      user_loops: userLoops,
      paired_user_loops: pairedUserLoops,
      conv_train_steps: convTrainSteps,
      matmul,
      matmul_cases: cases,
      elementwise,
      conv,
      wasm: wasm && { threads: wasm.threads, simd: wasm.simd, relaxed_simd: wasm.relaxedSimd },
      gpujs_mode: gpujs ? gpujs.detail().replace(/^gpujs \((.*) mode\)$/, '$1') : null,
      paired_train_steps: paired,
      peers,
      ...(peersUnavailable ? { peers_unavailable: peersUnavailable } : {}),
      seconds: (performance.now() - t0) / 1e3,
    };
  } finally {
    await dispose();
  }
}

/**
 * Runs `fn` with console.log sent to stderr, so that a library printing to stdout cannot break
 * the single JSON object `--json` promises.
 */
export async function withStdoutReserved<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]): void => console.error(...args);
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** `elbo bench [--quick] [--json] [--no-peers] [--backend NAME]`. */
export async function benchCommand(argv: string[]): Promise<void> {
  const o = parseBenchArgs(argv);
  if (o.help) return void process.stdout.write(BENCH_HELP);
  const started = performance.now();
  // Each stage's line carries the time since the start (bench's stages differ too much in length for an ETA).
  const log = (line: string): void => void process.stderr.write(`[${formatDuration((performance.now() - started) / 1000)}] ${line}\n`);
  const report = await withStdoutReserved(() => runBench(o, ['elbo bench', ...argv].join(' '), log));
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${benchMarkdown(report)}\n`);
}
