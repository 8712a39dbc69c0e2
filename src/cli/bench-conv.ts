/**
 * `elbo bench`'s conv2d table: GFLOP/s of the conv VAE's convolutions at batch 128 (the encoder's
 * two conv2d, the decoder's two convTranspose2d: 4×4 kernels, stride 2, padding 1) on elbo's
 * backends, beside jax-js (`lax.convGeneralDilated` / `lax.convTranspose`, jitted) and
 * TensorFlow.js's wasm backend (`tf.conv2d` / `tf.conv2dTranspose`, XNNPACK) in the same process.
 * The peers' functions live in bench/peers/jaxjs.ts and bench/peers/tfjs.ts, loaded by URL at run
 * time so that src/ depends on no ML library.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Conv2dDims } from '../kernels/backend.js';
import type { BenchBackend } from './bench-measure.js';
import { round, seededUniform, type Stat, stat, timeCalls } from './bench-timing.js';

/** One convolution of the conv VAE: square images and kernels, one group, PyTorch's layouts. */
export interface ConvCase {
  name: string;
  kind: 'conv2d' | 'convTranspose2d';
  batch: number;
  inChannels: number;
  outChannels: number;
  /** The input's height and width. */
  size: number;
  kernel: number;
  stride: number;
  padding: number;
}

/** A conv case's GFLOP/s on one implementation (or why it was not measured). */
export interface ConvResult {
  /** Column label: 'cpu', 'wasm 1 thread', 'wasm 2 threads', 'jax-js wasm', 'tfjs wasm'. */
  impl: string;
  case: string;
  mflop: number;
  /** Undefined when the implementation lacks the op (see `note`). */
  gflops?: Stat;
  note?: string;
}

/** What the conv2d table holds: the cases, every result, and the peers that did not run. */
export interface ConvReport {
  cases: ConvCase[];
  results: ConvResult[];
  skipped: { peer: string; reason: string }[];
}

/** The peers' entry points (bench/peers/*.ts): GFLOP/s of each case, timed with {@link timeConv}. */
export type ConvPeer = (cases: readonly ConvCase[], quick: boolean, log: (line: string) => void) => Promise<ConvResult[]>;

/** The output's height (= width) of a case. */
export const convOutSize = (c: ConvCase): number =>
  c.kind === 'conv2d' ? Math.floor((c.size + 2 * c.padding - c.kernel) / c.stride) + 1 : (c.size - 1) * c.stride - 2 * c.padding + c.kernel;

/** 2 flops per multiply-add: 2·N·out·Hₒ·Wₒ·in·k² for conv2d, 2·N·in·H·W·out·k² for its transpose (each input pixel meets every tap). */
export function convFlops(c: ConvCase): number {
  const taps = c.kernel * c.kernel * c.inChannels * c.outChannels * c.batch;
  return 2 * taps * (c.kind === 'conv2d' ? convOutSize(c) ** 2 : c.size ** 2);
}

/** The kernel call of a case (see `Kernels.conv2d`). */
export function convDims(c: ConvCase): Conv2dDims {
  const out = convOutSize(c);
  return {
    batch: c.batch,
    inChannels: c.inChannels,
    height: c.size,
    width: c.size,
    outChannels: c.outChannels,
    outHeight: out,
    outWidth: out,
    kernelHeight: c.kernel,
    kernelWidth: c.kernel,
    strideH: c.stride,
    strideW: c.stride,
    padH: c.padding,
    padW: c.padding,
    dilationH: 1,
    dilationW: 1,
    groups: 1,
  };
}

/** The conv VAE's layers at `batch`: 1→32 (28²→14²) and 32→64 (14²→7²), then the mirror, 64→32 and 32→1 transposed. */
export function convCases(batch = 128): ConvCase[] {
  const layer = (name: string, kind: ConvCase['kind'], inChannels: number, outChannels: number, size: number): ConvCase => ({
    name: `${name} ${kind} ${inChannels}→${outChannels}, ${size}²→${kind === 'conv2d' ? size / 2 : size * 2}²`,
    kind,
    batch,
    inChannels,
    outChannels,
    size,
    kernel: 4,
    stride: 2,
    padding: 1,
  });
  return [
    layer('enc 1', 'conv2d', 1, 32, 28),
    layer('enc 2', 'conv2d', 32, 64, 14),
    layer('dec 1', 'convTranspose2d', 64, 32, 7),
    layer('dec 2', 'convTranspose2d', 32, 1, 14),
  ];
}

/**
 * Times `run` (one convolution, inputs in and result out) in samples of ≥ ~20 ms; its GFLOP/s
 * median, min and max. A slow implementation (`slow`, or a first call over a second: the cpu
 * reference, jax-js's transposed convolution at ~20 s a call) gets that first call as its only
 * warm-up and 3 timed calls (1 with `quick`), so that it does not hold the benchmark up for minutes.
 */
export function timeConv(impl: string, c: ConvCase, run: () => void, quick: boolean, slow = false): ConvResult {
  const f = convFlops(c);
  const probe = performance.now();
  run();
  const first = performance.now() - probe;
  const reps = Math.max(1, Math.min(200, Math.ceil(20 / Math.max(first, 1e-3))));
  const once = slow || first > 1000;
  let ms: Stat;
  if (once) {
    const times = Array.from({ length: quick ? 1 : 3 }, () => {
      const t0 = performance.now();
      run();
      return performance.now() - t0;
    });
    ms = stat(times);
  } else {
    const timer = { warmupSeconds: quick ? 0.05 : 0.3, minWarmup: 1, seconds: quick ? 0.3 : 1.5, minCalls: 3, maxCalls: quick ? 5 : 15 };
    ms = timeCalls(() => {
      for (let r = 0; r < reps; r++) run();
    }, timer).ms;
  }
  const perCall = once ? 1 : reps;
  const rate = (t: number): number => {
    const gflops = (f * perCall) / (t / 1e3) / 1e9;
    return round(gflops, gflops < 1 ? 4 : 2); // a slow peer's 0.0132 stays distinguishable from 0.0149
  };
  return { impl, case: c.name, mflop: round(f / 1e6, 1), gflops: { median: rate(ms.median), min: rate(ms.max), max: rate(ms.min) } };
}

/**
 * GFLOP/s of every case on elbo's backends (the arrays in ordinary memory: copied into wasm
 * memory and the result out on every call, as for an op on fresh tensors). The cpu reference
 * (float64 gathers) is timed on 3 calls only; with `quick` only the wasm backends are timed; a
 * backend without conv kernels (it would run the reference) is listed as such.
 */
export function benchConvKernels(backends: readonly BenchBackend[], cases: readonly ConvCase[], quick: boolean, log: (line: string) => void): ConvResult[] {
  const results: ConvResult[] = [];
  for (const c of cases) {
    const d = convDims(c);
    const x = seededUniform(c.batch * c.inChannels * c.size * c.size, 1);
    const weight = seededUniform(c.inChannels * c.outChannels * c.kernel * c.kernel, 2, 0.25);
    const out = new Float32Array(c.batch * c.outChannels * d.outHeight * d.outWidth);
    for (const be of backends) {
      const kernel = be.backend[c.kind];
      const reference = be.family === 'cpu';
      if (!kernel || (quick && be.family !== 'wasm')) {
        const note = kernel ? 'not timed with --quick' : 'no conv kernel (runs the cpu reference)';
        results.push({ impl: be.label, case: c.name, mflop: round(convFlops(c) / 1e6, 1), note });
        continue;
      }
      const r = timeConv(be.label, c, () => kernel.call(be.backend, x, weight, out, d), quick, reference);
      results.push(r);
      log(`conv ${c.name}, ${be.label}: ${r.gflops!.median} GFLOP/s`);
    }
  }
  return results;
}

/** Loads a peer's conv function from bench/peers/`file` by URL; a string says why it could not. */
async function loadPeer(file: string, name: string): Promise<ConvPeer | string> {
  const url = new URL(`../../bench/peers/${file}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return `bench/peers/${file} is not here (peers run from the source tree)`;
  try {
    const mod = (await import(url.href)) as Record<string, unknown>;
    return typeof mod[name] === 'function' ? (mod[name] as ConvPeer) : `bench/peers/${file} exports no ${name}`;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  }
}

/** The conv2d table's measurements: elbo's backends, then (with `peers`) jax-js and tfjs-wasm, in this process. */
export async function benchConv(backends: readonly BenchBackend[], o: { quick: boolean; peers: boolean }, log: (line: string) => void): Promise<ConvReport> {
  const cases = convCases();
  const results = benchConvKernels(backends, cases, o.quick, log);
  const skipped: ConvReport['skipped'] = [];
  if (o.peers) {
    for (const [peer, file, name] of [
      ['jax-js', 'jaxjs.ts', 'jaxConv'],
      ['tfjs-wasm', 'tfjs.ts', 'tfjsConv'],
    ] as const) {
      const run = await loadPeer(file, name);
      try {
        if (typeof run === 'string') throw new Error(run);
        log(`${peer}: conv2d cases...`);
        results.push(...(await run(cases, o.quick, log)));
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
        skipped.push({ peer, reason });
        log(`${peer}: conv skipped, ${reason}`);
      }
    }
  }
  return { cases, results, skipped };
}

/** The conv2d table as Markdown lines: GFLOP/s median (min–max) per case and implementation, and each wasm column's ratio to each peer. */
export function convMarkdown(r: ConvReport | undefined): string[] {
  if (!r || r.results.length === 0) return [];
  const impls = [...new Set(r.results.map((x) => x.impl))];
  const gf = (v: number): string => (v >= 1 ? v.toFixed(2) : v.toPrecision(2)); // two digits of a slow peer's 0.013
  const cell = (x: ConvResult | undefined): string =>
    !x ? '–' : x.gflops ? `${gf(x.gflops.median)} (${gf(x.gflops.min)}–${gf(x.gflops.max)})` : `– (${x.note ?? 'not measured'})`;
  const find = (impl: string, c: ConvCase): ConvResult | undefined => r.results.find((x) => x.impl === impl && x.case === c.name);
  // Each of elbo's wasm columns against each peer's (the peers run one thread in Node: compare the 1-thread column).
  const ours = impls.filter((i) => i.startsWith('wasm'));
  const peers = impls.filter((i) => !i.startsWith('wasm') && i !== 'cpu' && !i.startsWith('gpujs'));
  const pairs = ours.flatMap((o) => peers.map((p) => [o, p] as const));
  const lines = [
    `### conv2d (float32, batch ${r.cases[0]?.batch ?? '?'}, 4×4 kernels, stride 2, padding 1: the conv VAE's layers), GFLOP/s median (min–max)`,
    '',
    `| case | MFLOP | ${impls.join(' | ')} |${pairs.map(([o, p]) => ` ${o} ÷ ${p} |`).join('')}`,
    `|---|---:|${impls.map(() => '---:|').join('')}${pairs.map(() => '---:|').join('')}`,
  ];
  for (const c of r.cases) {
    const ratios = pairs.map(([o, p]) => {
      const [a, b] = [find(o, c)?.gflops?.median, find(p, c)?.gflops?.median];
      return a && b ? ` ${(a / b).toFixed(2)}× |` : ' – |';
    });
    lines.push(`| ${c.name} | ${(convFlops(c) / 1e6).toFixed(0)} | ${impls.map((i) => cell(find(i, c))).join(' | ')} |${ratios.join('')}`);
  }
  lines.push(
    '',
    'FLOPs count 2 per multiply-add of the direct definition. elbo: arrays in ordinary memory, copied into the wasm memory and the result out ' +
      'on every call (im2col / col2im and a GEMM on the thread pool, `src/kernels/wasm/conv.ts`); the cpu reference is float64 gathers. ' +
      'jax-js: `lax.convGeneralDilated` / `lax.convTranspose` under `jit`, NCHW, inputs resident, result read back (bench/peers/jaxjs.ts). ' +
      'TensorFlow.js wasm: `tf.conv2d` / `tf.conv2dTranspose` (XNNPACK), NHWC (its layout), inputs resident, result read back (bench/peers/tfjs.ts). ' +
      "Both peers run one thread in Node (tfjs-backend-wasm disables its threads there, jax-js's pool needs Web Workers): compare them with elbo's 1-thread column.",
  );
  if (r.skipped.length) lines.push('', `Not measured: ${r.skipped.map((s) => `${s.peer}: ${s.reason}`).join('; ')}.`);
  lines.push('');
  return lines;
}
