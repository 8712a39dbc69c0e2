/**
 * `elbo bench`'s conv VAE training step (issue 15): the convolutional VAE of `elbo train --arch
 * conv` (1-32-64 channels, 4x4 kernels, stride 2, latent 20, Bernoulli, Adam 1e-3), batch 128,
 * on each of elbo's backends, timed as the standard VAE's step is; PyTorch's step of the same
 * model comes from bench/peers (train_step.py --arch conv) in the same run.
 */
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../vae/train.js';
import { type BenchBackend, timeTrainStep } from './bench-measure.js';
import { round, stat, type Timing, timeCalls, type TimerOptions, type TrainStepResult } from './bench-timing.js';

/** The conv VAE's training configuration: the standard one with `arch: 'conv'`. */
export const CONV_BENCH_CONFIG: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, arch: 'conv' };

/** Full runs: the standard step's warm-up, fewer timed steps (a conv step costs far more than the MLP's). */
const CONV_FULL_TIMER: TimerOptions = { warmupSeconds: 2, minWarmup: 2, seconds: 8, minCalls: 3, maxCalls: 100 };

/** A step slower than this (the float32 cpu reference's convolutions) is timed once in `--quick`, without a warm-up. */
const QUICK_SLOW_STEP_MS = 2000;

/**
 * `--quick`'s timer: the first call is timed; if it is slower than {@link QUICK_SLOW_STEP_MS}
 * it is the one sample (warm-up 0), otherwise it counts as the warm-up and calls are timed one by
 * one for about a second (at most 10). A bench on the cpu fallback thus costs one step, not five.
 */
export function timeQuickSteps(fn: () => void): Timing {
  const once = (): number => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  const cpu0 = process.cpuUsage();
  const first = once();
  if (first > QUICK_SLOW_STEP_MS) {
    const cpu = process.cpuUsage(cpu0);
    return { ms: stat([first]), cpuMs: (cpu.user + cpu.system) / 1e3, warmup: 0, calls: 1 };
  }
  const calls = Math.max(1, Math.min(10, Math.ceil(1000 / Math.max(first, 1e-3))));
  const times: number[] = [];
  const cpu1 = process.cpuUsage();
  for (let i = 0; i < calls; i++) times.push(once());
  const cpu = process.cpuUsage(cpu1);
  return { ms: stat(times), cpuMs: (cpu.user + cpu.system) / 1e3 / calls, warmup: 1, calls };
}

/** The row's note: 'conv VAE', and where the convolutions ran when the backend has no conv kernels of its own. */
export function convNote(be: Pick<BenchBackend, 'family' | 'backend'>): string {
  const own = be.backend.conv2d !== undefined && be.backend.convTranspose2d !== undefined;
  return own || be.family === 'cpu' ? 'conv VAE' : 'conv VAE; its convolutions on the cpu reference: no conv kernels on this backend';
}

/**
 * The conv VAE's training step on one backend, exactly as `elbo train --arch conv` runs it (see
 * `timeTrainStep`), on the same 128 digits as the standard step. Backends without conv kernels
 * run the cpu reference's.
 */
export function benchConvTrainStep(be: BenchBackend, quick: boolean): TrainStepResult {
  return timeTrainStep(be, CONV_BENCH_CONFIG, quick ? timeQuickSteps : (step) => timeCalls(step, CONV_FULL_TIMER), convNote(be));
}

/**
 * The conv VAE's step on `backends` (with `quick`, only on `headline`, the backend `elbo train`
 * uses), logging each as it goes.
 */
export function benchConvTrainSteps(backends: readonly BenchBackend[], headline: BenchBackend, quick: boolean, log: (line: string) => void): TrainStepResult[] {
  return (quick ? [headline] : backends).map((be) => {
    log(`conv VAE training step on ${be.label}${quick ? ' (--quick: this backend only)' : ''}...`);
    const r = benchConvTrainStep(be, quick);
    log(`  ${r.ms_median} ms/step, ${r.samples_per_sec} samples/s`);
    return r;
  });
}

/**
 * Lines of Markdown: how many times PyTorch's conv step time each of elbo's conv steps takes
 * (median over median), one line per elbo backend, the PyTorch rows in the order given.
 */
export function convStepRatios(ours: readonly TrainStepResult[], torch: readonly TrainStepResult[]): string[] {
  if (ours.length === 0 || torch.length === 0) return [];
  const name = (s: TrainStepResult): string => `PyTorch ${s.threads} thread${s.threads === 1 ? '' : 's'}`;
  return ours.map(
    (s) =>
      `- elbo ${s.detail}: ${torch.map((t) => `${round(s.ms_median / t.ms_median, 2)}× the time of ${name(t)}`).join(', ')} (median step over median step).`,
  );
}
