/** The `elbo bench` report: its JSON shape and its Markdown rendering. */
import { type ConvReport, convMarkdown } from './bench-conv.js';
import { convStepRatios } from './bench-conv-step.js';
import { type PairedTrainSteps, type PairedUserLoop, pairedLoopMarkdown, pairedMarkdown } from './bench-paired.js';
import type { ElementwiseResult } from './bench-measure.js';
import { flops, type MatmulCase, type MatmulResult, type PeerReport, type Stat, type TrainStepResult } from './bench-timing.js';

/** Everything one `elbo bench` run measured (the `--json` output). */
export interface BenchReport {
  command: string;
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string; load_before: number[]; load_after: number[] };
  quick: boolean;
  /** The headline: the training step on `--backend` (default: wasm on all threads, as `elbo train` uses). */
  train_step: TrainStepResult;
  /** The training step on every backend measured. */
  train_steps: TrainStepResult[];
  /** The README's loop (elbo, zeroGrad, backward, step) on every backend measured, in the same run. */
  user_loops: TrainStepResult[];
  /** The README's loop and the training step in alternating rounds on each wasm backend (src/cli/bench-paired.ts). */
  paired_user_loops?: PairedUserLoop[];
  /** The conv VAE's training step (`elbo train --arch conv`) on the backends measured (`--quick`: the headline's only). */
  conv_train_steps?: TrainStepResult[];
  /** Our matmul results, one per case and backend. */
  matmul: MatmulResult[];
  /** The cases timed, in order. */
  matmul_cases: MatmulCase[];
  elementwise: ElementwiseResult[];
  /** conv2d GFLOP/s on the conv VAE's layers, elbo's backends and the peers (absent in reports from before it existed). */
  conv?: ConvReport;
  /** The wasm backend's threads and SIMD, and the mode gpu.js really ran in (null if not measured). */
  wasm: { threads: number; simd: boolean; relaxed_simd: boolean } | null;
  gpujs_mode: string | null;
  /**
   * The training step on wasm (1 and 2 threads) and PyTorch's on as many, timed in alternating
   * rounds (src/cli/bench-paired.ts); the reason instead when PyTorch could not run; null with
   * --no-peers (absent in reports from before it existed).
   */
  paired_train_steps?: PairedTrainSteps | null;
  /** Peers measured in the same run; null with --no-peers. */
  peers: PeerReport | null;
  /** Why peers did not run at all (e.g. built CLI without the TypeScript sources), when that happened. */
  peers_unavailable?: string;
  seconds: number;
}

const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const range = (s: Stat): string => `${num(s.median)} (${num(s.min)}–${num(s.max)})`;

const IMPL_NAMES: Record<string, string> = { elbo: 'elbo', tfjs: 'TensorFlow.js', 'jax-js': 'jax-js', pytorch: 'PyTorch' };

/** How the peers' steps were run (bench/peers). */
const PEER_NOTES =
  "Peers run the same step (same model, PyTorch's default init distribution, fresh noise every step, BCE-with-logits summed over " +
  'pixels, analytic KL, batch mean, Adam 1e-3, the loss read back every step) on the same 128 digits (every 62nd training digit: every class), each in its own idiom: ' +
  'TensorFlow.js with `optimizer.minimize` (bench/peers/tfjs.ts), jax-js with the whole step under `jit(valueAndGrad)` (bench/peers/jaxjs.ts), ' +
  'both in this process. In Node both are single-threaded: tfjs-backend-wasm disables its threaded build under Node (tfjs issue 3830) ' +
  "and jax-js's wasm thread pool needs a global Web Worker, which Node 20 lacks. PyTorch runs bench/peers/train_step.py in a child " +
  "process (/usr/bin/python3, Debian's torch, `OMP_WAIT_POLICY=PASSIVE`, `LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread`; " +
  "its CPU ms/step is Python's `time.process_time`).";

/** The training-step table: ours, then the peers. */
function stepTable(steps: readonly TrainStepResult[]): string[] {
  const lines = [
    '| implementation | threads | ms/step median (min–max) | samples/s (median) | CPU ms/step | steps: warm-up + timed |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const s of steps) {
    const name = `**${IMPL_NAMES[s.impl] ?? s.impl}${s.version ? ` ${s.version}` : ''}** ${s.detail}${s.note ? ` (${s.note})` : ''}`;
    const cpu = s.cpu_ms_per_step === null ? '–' : num(s.cpu_ms_per_step);
    lines.push(
      `| ${name} | ${s.threads} | ${num(s.ms_median)} (${num(s.ms_min)}–${num(s.ms_max)}) | ${Math.round(s.samples_per_sec).toLocaleString('en-US')} | ${cpu} | ${s.warmup} + ${s.steps} |`,
    );
  }
  return lines;
}

/** The conv VAE's training-step table, elbo's backends then PyTorch's, with the time ratios; nothing when it was not measured. */
function convStepSection(r: BenchReport): string[] {
  const ours = r.conv_train_steps ?? [];
  const torch = r.peers?.conv_train_step ?? [];
  if (ours.length + torch.length === 0) return [];
  const ratios = convStepRatios(ours, torch);
  return [
    `### Training step: conv VAE (\`elbo train --arch conv\`: 1-32-64 channels, 4x4 kernels, stride 2, latent 20, Bernoulli, Adam 1e-3), batch ${ours[0]?.batch ?? torch[0]!.batch}`,
    '',
    ...stepTable([...ours, ...torch]),
    '',
    ...(ratios.length ? [...ratios, ''] : []),
    ...(torch.length
      ? ['PyTorch runs bench/peers/train_step.py --arch conv (the ConvVAE of bench/peers/vae_reference.py: the same layers and parameter count) as above.', '']
      : []),
  ];
}

/** The matmul table: one row per case, one column per implementation, and a training-step total. */
function matmulTable(cases: readonly MatmulCase[], results: readonly MatmulResult[]): string[] {
  const impls = [...new Set(results.map((r) => r.impl))];
  const lines = [`| product | MFLOP | ${impls.map((i) => `${i} GFLOP/s`).join(' | ')} |`, `|---|---:|${impls.map(() => '---:').join('|')}|`];
  const find = (c: MatmulCase, impl: string): MatmulResult | undefined => results.find((r) => r.case === c.name && r.impl === impl);
  for (const c of cases) {
    const mflop = flops(c) / 1e6;
    lines.push(
      `| ${c.name} | ${mflop.toFixed(1)} | ${impls
        .map((i) => {
          const r = find(c, i);
          return r ? range(r.gflops) : '–';
        })
        .join(' | ')} |`,
    );
  }
  const step = cases.filter((c) => c.perStep > 0);
  if (step.length === 12) {
    // Every product of one training step, weighted by how often a step runs it: the total time at the medians.
    const mflop = step.reduce((s, c) => s + (c.perStep * flops(c)) / 1e6, 0);
    const cells = impls.map((i) => {
      const ms = step.reduce((s, c) => {
        const r = find(c, i);
        return s + (r ? (c.perStep * flops(c)) / (r.gflops.median * 1e6) : NaN);
      }, 0);
      return Number.isFinite(ms) ? `**${num(mflop / ms)}** (${ms.toFixed(2)} ms)` : '–';
    });
    lines.push(`| **all matmuls of one training step** (at the medians) | ${mflop.toFixed(0)} | ${cells.join(' | ')} |`);
    // The same total per second of process CPU time: other processes' load barely moves it (for threaded columns it is per core).
    const perCpu = impls.map((i) => {
      const cpuMs = step.reduce((s, c) => {
        const r = find(c, i);
        return s + (r ? (c.perStep * flops(c)) / (r.gflops_per_cpu_second * 1e6) : NaN);
      }, 0);
      return Number.isFinite(cpuMs) ? `${num(mflop / cpuMs)} (${cpuMs.toFixed(2)} CPU ms)` : '–';
    });
    lines.push(`| the same, GFLOP per CPU-second (all threads' time) | ${mflop.toFixed(0)} | ${perCpu.join(' | ')} |`);
  }
  return lines;
}

/** The elementwise table: one row per op, one column per backend. */
function elementwiseTable(results: readonly ElementwiseResult[]): string[] {
  const impls = [...new Set(results.map((r) => r.impl))];
  const ops = [...new Set(results.map((r) => r.op))];
  const lines = [`| op (1M float32) | ${impls.map((i) => `${i} M elem/s`).join(' | ')} |`, `|---|${impls.map(() => '---:').join('|')}|`];
  for (const op of ops) {
    lines.push(
      `| ${op} | ${impls
        .map((i) => {
          const r = results.find((x) => x.op === op && x.impl === i);
          return r ? range(r.melem_per_sec) : '–';
        })
        .join(' | ')} |`,
    );
  }
  return lines;
}

/** The report as Markdown: a header naming the command and the machine, then the three tables. */
export function benchMarkdown(r: BenchReport, title = 'elbo bench'): string {
  const m = r.machine;
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ');
  const peers = r.peers ? [...r.peers.train_step] : [];
  const lines = [
    `## ${title}`,
    '',
    `Command: \`${r.command}\`. Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node} (${m.platform}), ${r.date}. ` +
      `Load average (1, 5, 15 min): ${load(m.load_before)} before, ${load(m.load_after)} after; the run took ${r.seconds.toFixed(0)} s.`,
    '',
    "The machine is shared: wall times (median, min–max over the timed calls) are distorted by other processes' load. " +
      'The CPU ms/step column is the process CPU time (user + system, all of its threads) per timed step, which other load barely ' +
      "changes; for a threaded run it adds up every thread's time (spin-waiting included), so it exceeds the wall time when the threads help.",
    '',
    `### Training step: standard VAE (784-400-20, Bernoulli, analytic KL, Adam 1e-3), batch ${r.train_step.batch}`,
    '',
    ...stepTable([...r.train_steps, ...(r.user_loops ?? []), ...peers]),
    '',
    ...(peers.length ? [PEER_NOTES, ''] : []),
    ...pairedLoopMarkdown(r.paired_user_loops),
    ...pairedMarkdown(r.paired_train_steps),
    ...convStepSection(r),
    '### matmul (float32; elbo: inputs copied into and the result out of wasm memory on every call; jax-js: inputs resident, result read back)',
    '',
    ...matmulTable(r.matmul_cases, [...r.matmul, ...(r.peers?.matmul ?? [])]),
    '',
    "### Elementwise (float32, 1M elements, as each backend runs them: wasm has SIMD kernels for some ops, the reference's JS loops for the rest)",
    '',
    ...elementwiseTable(r.elementwise),
    '',
    ...convMarkdown(r.conv),
  ];
  const skipped = [...(r.peers?.skipped ?? []).map((s) => `${s.peer}: ${s.reason}`), ...(r.peers_unavailable ? [r.peers_unavailable] : [])];
  if (skipped.length) lines.push(`Peers not measured: ${skipped.join('; ')}.`, '');
  if (r.peers === null && !r.peers_unavailable) lines.push('Peers not measured (--no-peers).', '');
  return lines.join('\n');
}
