/**
 * Paired timing for `elbo bench`: elbo's training step and PyTorch's, timed in alternating blocks
 * within the same few seconds, so that the load of other processes on a shared machine (bursts
 * that move a whole run by 1.3-1.9x) falls on both sides alike. Round r runs a block of elbo's
 * steps and a block of the peer's, in ABBA order (elbo first in even rounds, the peer first in odd
 * ones), with a pause after every block so that neither side's idle threads (OpenBLAS's workers
 * spin for about 0.1 s after a call; elbo's wasm workers for 0.3 ms) steal the other's time.
 * Each block starts with a few untimed lead-in steps, so that the timed ones run back to back as
 * in training rather than just after the pause: elbo's pool threads sleep when idle, and after a
 * 250 ms pause its 2-thread step took about ten steps to get back to speed (11.6 ms, then 10.7,
 * 10.9, 8.4, ... 6.5; medians by position over 12 blocks, 2026-12-06).
 */
import { round, type Stat, stat } from './bench-timing.js';

/** Runs `steps` training steps and returns each one's wall time in ms. */
export type StepBlock = (steps: number) => number[] | Promise<number[]>;

/** One side of a pairing: its steps, and optionally its process's CPU time so far (ms, all threads). */
export interface PairedSide {
  steps: StepBlock;
  /** Cumulative process CPU ms: read around the other side's blocks, it shows whether this side idles there. */
  cpuMs?: () => number;
}

/** How many rounds of how many steps, the warm-up block and the pause after each block. */
export interface PairedOptions {
  rounds: number;
  /** Steps per block (each side runs one block per round). */
  steps: number;
  /** Untimed steps each side runs once before the first round. */
  warmup: number;
  /** Untimed steps at the start of every block (both sides), before its `steps` timed ones. */
  leadIn: number;
  /** Pause after every block (ms). */
  pauseMs: number;
  /** Sleeps `ms` (default: a timer); tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** What {@link pairedRounds} measured: every step time per side, and the ratio per round. */
export interface PairedTiming {
  /** elbo's step times (ms), all rounds. */
  ours_ms: Stat;
  /** The peer's step times (ms), all rounds. */
  theirs_ms: Stat;
  /** ours_ms.median / theirs_ms.median. */
  ratio: number;
  /** Per round: the median of elbo's block over the median of the peer's block. */
  round_ratios: Stat;
  rounds: number;
  steps: number;
  warmup: number;
  lead_in: number;
  pause_ms: number;
  /** Mean CPU ms elbo's process used during a block of the peer's (≈ 0 when its workers idle); null if not read. */
  ours_cpu_ms_while_theirs_ran: number | null;
  /** Mean CPU ms the peer's process used during a block of elbo's; null if not read. */
  theirs_cpu_ms_while_ours_ran: number | null;
}

const timer = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Alternates blocks of `ours` and `theirs` (ABBA: ours first in even rounds), `o.rounds` rounds
 * of `o.steps` timed steps each (after `o.leadIn` untimed ones) after one untimed warm-up block
 * per side, pausing `o.pauseMs` after every block; returns the medians, minima and maxima of all step times, the ratio of the
 * medians and the per-round ratios.
 */
export async function pairedRounds(ours: PairedSide, theirs: PairedSide, o: PairedOptions): Promise<PairedTiming> {
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1 && Number.isInteger(o.steps) && o.steps >= 1))
    throw new Error(`pairedRounds: rounds and steps must be integers >= 1, got rounds ${o.rounds}, steps ${o.steps}`);
  const sleep = o.sleep ?? timer;
  const all = { ours: [] as number[], theirs: [] as number[] };
  const idle = { ours: [] as number[], theirs: [] as number[] };
  const ratios: number[] = [];
  const block = async (side: 'ours' | 'theirs', steps: number): Promise<number[]> => {
    const other = side === 'ours' ? theirs : ours;
    const cpu0 = other.cpuMs?.();
    const all = await (side === 'ours' ? ours : theirs).steps(o.leadIn + steps);
    if (cpu0 !== undefined) idle[side === 'ours' ? 'theirs' : 'ours'].push(other.cpuMs!() - cpu0);
    const times = all.slice(o.leadIn);
    if (all.length !== o.leadIn + steps || !times.every((t) => Number.isFinite(t) && t >= 0))
      throw new Error(
        `pairedRounds: the ${side === 'ours' ? 'elbo' : "peer's"} block of ${o.leadIn + steps} steps returned ${all.length} times: ${all.slice(0, 5).join(', ')}`,
      );
    await sleep(o.pauseMs);
    return times;
  };
  if (o.warmup > 0) {
    await ours.steps(o.warmup);
    await sleep(o.pauseMs);
    await theirs.steps(o.warmup);
    await sleep(o.pauseMs);
  }
  for (let r = 0; r < o.rounds; r++) {
    const order: ('ours' | 'theirs')[] = r % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    const block0 = await block(order[0]!, o.steps);
    const block1 = await block(order[1]!, o.steps);
    const mine = order[0] === 'ours' ? block0 : block1;
    const peer = order[0] === 'ours' ? block1 : block0;
    all.ours.push(...mine);
    all.theirs.push(...peer);
    ratios.push(stat(mine).median / stat(peer).median);
  }
  const mean = (xs: number[]): number | null => (xs.length ? round(xs.reduce((s, x) => s + x, 0) / xs.length, 2) : null);
  const ms = (s: Stat): Stat => ({ median: round(s.median), min: round(s.min), max: round(s.max) });
  const oursMs = stat(all.ours);
  const theirsMs = stat(all.theirs);
  const r = stat(ratios);
  return {
    ours_ms: ms(oursMs),
    theirs_ms: ms(theirsMs),
    ratio: round(oursMs.median / theirsMs.median),
    round_ratios: { median: round(r.median), min: round(r.min), max: round(r.max) },
    rounds: o.rounds,
    steps: o.steps,
    warmup: o.warmup,
    lead_in: o.leadIn,
    pause_ms: o.pauseMs,
    ours_cpu_ms_while_theirs_ran: mean(idle.ours),
    theirs_cpu_ms_while_ours_ran: mean(idle.theirs),
  };
}

/** Rounds, timed steps and lead-in per block, warm-up and pause of `elbo bench`'s pairing (`quick`: 4 rounds of 5). */
export const pairedOptions = (quick: boolean): PairedOptions =>
  quick ? { rounds: 4, steps: 5, warmup: 10, leadIn: 5, pauseMs: 250 } : { rounds: 20, steps: 15, warmup: 30, leadIn: 10, pauseMs: 250 };

/** One paired row: elbo's step and PyTorch's at the same thread count. */
export interface PairedTrainStep extends PairedTiming {
  threads: number;
  /** elbo's backend, e.g. "wasm (SIMD, 2 threads)". */
  ours: string;
  /** The peer, e.g. "PyTorch 1.13.0a0, OpenBLAS 0.3.21 (2 threads)". */
  theirs: string;
  /** Each side's loss after its last step (a sanity check: finite, falling). */
  ours_loss: number;
  theirs_loss: number;
}

/** The paired section of the report: the rows, or why there are none. */
export interface PairedTrainSteps {
  rows: PairedTrainStep[];
  /** Why PyTorch was not paired (not installed, peers not loadable, an error). */
  unavailable?: string;
}

/** An elbo backend's step blocks, as `elbo bench` hands them to the peers for pairing. */
export interface PairedOurs {
  threads: number;
  /** e.g. "wasm (SIMD, 2 threads)". */
  detail: string;
  /** Runs `n` of the very steps the `train_step` rows time (`trainStep`, as `elbo train` runs it). */
  steps: StepBlock;
  /** The loss after the last step run. */
  loss(): number;
}

/** Rounds of the in-process pairing of the README's loop with the training step (no idle threads of another process to wait out). */
export const loopPairOptions = (quick: boolean): PairedOptions =>
  quick ? { rounds: 3, steps: 5, warmup: 5, leadIn: 2, pauseMs: 10 } : { rounds: 12, steps: 15, warmup: 20, leadIn: 5, pauseMs: 10 };

/** The README's loop (`ours`) paired with the training step (`theirs`) on one backend, in one process. */
export interface PairedUserLoop extends PairedTiming {
  threads: number;
  /** The backend, e.g. "wasm (SIMD, 2 threads)". */
  backend: string;
}

/** The Markdown table of the README's loop paired with the training step; nothing when not run. */
export function pairedLoopMarkdown(rows: readonly PairedUserLoop[] | undefined): string[] {
  if (!rows?.length) return [];
  const first = rows[0]!;
  return [
    "### The README's loop paired with the training step, alternating rounds",
    '',
    `One process, one backend: round r runs a block of the README's loop (\`elbo(...)\`, \`zeroGrad()\`, \`backward()\`, \`step()\`) and one of ` +
      `\`trainStep\` (ABBA order), each ${first.lead_in} untimed steps then ${first.steps} timed ones, each on its own model. ` +
      "Ratio: median of the loop's step times over median of `trainStep`'s.",
    '',
    '| backend | loop ms median (min) | trainStep ms median (min) | ratio | per-round ratio | rounds × (untimed + timed steps) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${r.ours_ms.median.toFixed(2)} (${r.ours_ms.min.toFixed(2)}) | ${r.theirs_ms.median.toFixed(2)} (${r.theirs_ms.min.toFixed(2)}) | ` +
        `**${r.ratio.toFixed(2)}** | ${r.round_ratios.median.toFixed(2)} (${r.round_ratios.min.toFixed(2)}–${r.round_ratios.max.toFixed(2)}) | ${r.rounds} × (${r.lead_in} + ${r.steps}) |`,
    ),
    '',
  ];
}

/** The Markdown table of the paired rows, or the reason there are none; nothing when not run. */
export function pairedMarkdown(p: PairedTrainSteps | null | undefined): string[] {
  if (!p) return [];
  const title = '### Training step paired with PyTorch, alternating rounds';
  if (p.rows.length === 0) return [title, '', `Not measured: ${p.unavailable ?? 'no wasm backend with 1 or 2 threads'}.`, ''];
  const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const first = p.rows[0]!;
  const lines = [
    title,
    '',
    `Both sides in the same seconds: round r runs a block of elbo's steps and one of PyTorch's (ABBA order), each ${first.lead_in} untimed ` +
      `steps then ${first.steps} timed ones, with a ${first.pause_ms} ms pause after each block, after one ${first.warmup}-step warm-up block per side. ` +
      "Ratio: median of all our step times over median of all of PyTorch's; per-round ratio: median (min–max) over rounds of the two blocks' medians.",
    '',
    '| threads | elbo ms median (min) | PyTorch ms median (min) | ratio | per-round ratio | rounds × (untimed + timed steps) | CPU of the idle side, ms per block: elbo / PyTorch |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const idle = (x: number | null): string => (x === null ? '–' : num(x));
  for (const r of p.rows) {
    lines.push(
      `| ${r.threads} | ${num(r.ours_ms.median)} (${num(r.ours_ms.min)}) | ${num(r.theirs_ms.median)} (${num(r.theirs_ms.min)}) | **${r.ratio.toFixed(2)}** | ` +
        `${r.round_ratios.median.toFixed(2)} (${r.round_ratios.min.toFixed(2)}–${r.round_ratios.max.toFixed(2)}) | ${r.rounds} × (${r.lead_in} + ${r.steps}) | ` +
        `${idle(r.ours_cpu_ms_while_theirs_ran)} / ${idle(r.theirs_cpu_ms_while_ours_ran)} |`,
    );
  }
  lines.push('', `elbo: ${[...new Set(p.rows.map((r) => r.ours))].join(', ')}; PyTorch: ${[...new Set(p.rows.map((r) => r.theirs))].join(', ')}.`, '');
  if (p.unavailable) lines.push(`Not measured: ${p.unavailable}.`, '');
  return lines;
}
