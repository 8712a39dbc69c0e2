import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/cli/bench-report.js';
import { convNote, convStepRatios, timeQuickSteps } from '../../src/cli/bench-conv-step.js';
import type { Backend } from '../../src/kernels/backend.js';
import { stat, type TrainStepResult } from '../../src/cli/bench-timing.js';

/** Runs the CLI as a user would (through tsx). */
function elbo(...args: string[]): { status: number; stdout: string; stderr: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ELBO_DEBUG: '' },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1e3 };
}

const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('elbo bench', () => {
  it('--quick --json --no-peers prints one JSON object with the training step, matmul and elementwise sections', () => {
    const r = elbo('bench', '--quick', '--json', '--no-peers');
    expect(r.status, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(60);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as BenchReport;

    const step = report.train_step;
    expect(step.impl).toBe('elbo');
    expect(['wasm', 'cpu', 'gpujs']).toContain(step.backend);
    expect(positive(step.ms_median) && positive(step.samples_per_sec) && positive(step.threads)).toBe(true);
    // samples/s comes from the unrounded median; ms_median is rounded to 1 µs (relative error ≤ 0.0005/ms).
    expect(Math.abs(step.samples_per_sec - (128 / step.ms_median) * 1e3)).toBeLessThanOrEqual(step.samples_per_sec * (0.0005 / step.ms_median) * 1.01 + 0.05);
    expect(step.ms_min).toBeLessThanOrEqual(step.ms_median);
    expect(step.ms_max).toBeGreaterThanOrEqual(step.ms_median);
    expect(positive(step.cpu_ms_per_step)).toBe(true);
    expect(Number.isFinite(step.loss)).toBe(true);

    // Every backend's step, with its thread count; the wasm one on all threads is the headline.
    const backends = new Set(report.train_steps.map((s) => s.backend));
    expect([...backends].every((b) => ['cpu', 'wasm', 'gpujs'].includes(b)) && backends.has('cpu') && backends.has('gpujs')).toBe(true);
    for (const s of report.train_steps) expect(positive(s.ms_median) && positive(s.samples_per_sec)).toBe(true);
    if (report.wasm) expect(step.threads).toBe(report.wasm.threads);
    expect(report.gpujs_mode).toMatch(/^(webasm|cpu|webgl2?|headlessgl)$/);

    expect(report.matmul.length).toBe(report.matmul_cases.length * report.train_steps.length);
    for (const m of report.matmul) expect(positive(m.gflops.median) && m.gflops.min <= m.gflops.median && m.gflops.median <= m.gflops.max).toBe(true);
    expect(report.elementwise.length).toBeGreaterThan(0);
    for (const e of report.elementwise) expect(positive(e.melem_per_sec.median)).toBe(true);
    // conv2d GFLOP/s on the conv VAE's four layers: each wasm backend timed on each.
    expect(report.conv?.cases).toHaveLength(4);
    const convWasm = report.conv!.results.filter((c) => c.impl.startsWith('wasm'));
    expect(convWasm.length).toBe(4 * report.train_steps.filter((s) => s.backend === 'wasm').length);
    for (const c of convWasm) expect(positive(c.gflops?.median)).toBe(true);

    // The conv VAE's step: --quick times it on the headline backend only, with a finite loss near the start's.
    expect(report.conv_train_steps).toHaveLength(1);
    const conv = report.conv_train_steps![0]!;
    expect([conv.backend, conv.threads]).toEqual([step.backend, step.threads]);
    expect(conv.note).toMatch(/^conv VAE/);
    expect(positive(conv.ms_median) && positive(conv.samples_per_sec) && conv.steps >= 1).toBe(true);
    expect(conv.loss).toBeGreaterThan(100);
    expect(conv.loss).toBeLessThan(1000);

    // The README's loop against the training step in alternating rounds, on every wasm backend.
    const wasmSteps = report.train_steps.filter((s) => s.backend === 'wasm');
    expect(report.paired_user_loops).toHaveLength(wasmSteps.length);
    for (const p of report.paired_user_loops ?? []) {
      expect(wasmSteps.map((s) => s.threads)).toContain(p.threads);
      expect(positive(p.ours_ms.median) && positive(p.theirs_ms.median) && p.rounds === 3 && p.steps === 5).toBe(true);
      expect(p.ratio).toBeCloseTo(p.ours_ms.median / p.theirs_ms.median, 2);
    }

    expect(report.peers).toBeNull();
    expect(report.paired_train_steps).toBeNull(); // pairing needs PyTorch, a peer
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.load_before).toHaveLength(3);
  });

  it('rejects an unknown backend in one line', () => {
    const r = elbo('bench', '--backend', 'tpu');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("elbo bench: --backend must be one of wasm, gpujs, cpu, got 'tpu'");
  });

  it('convStepRatios: one line per elbo backend, its median over each PyTorch median', () => {
    const row = (impl: string, detail: string, threads: number, ms: number): TrainStepResult => ({
      impl,
      version: '',
      backend: impl === 'elbo' ? 'wasm' : 'openblas',
      detail,
      threads,
      batch: 128,
      ms_median: ms,
      ms_min: ms,
      ms_max: ms,
      samples_per_sec: (128 / ms) * 1e3,
      cpu_ms_per_step: ms,
      warmup: 1,
      steps: 3,
      loss: 300,
    });
    const torch = [row('pytorch', 'OpenBLAS', 1, 80), row('pytorch', 'OpenBLAS', 2, 50)];
    expect(convStepRatios([row('elbo', 'wasm (SIMD, 2 threads)', 2, 200)], torch)).toEqual([
      '- elbo wasm (SIMD, 2 threads): 2.5× the time of PyTorch 1 thread, 4× the time of PyTorch 2 threads (median step over median step).',
    ]);
    expect(convStepRatios([], torch)).toEqual([]);
  });

  it("convNote: says when a backend's convolutions fall back to the cpu reference", () => {
    const kernel = (): void => undefined;
    expect(convNote({ family: 'wasm', backend: { conv2d: kernel, convTranspose2d: kernel } as unknown as Backend })).toBe('conv VAE');
    expect(convNote({ family: 'cpu', backend: {} as Backend })).toBe('conv VAE');
    expect(convNote({ family: 'gpujs', backend: {} as Backend })).toMatch(/cpu reference/);
  });

  it('timeQuickSteps: a fast step is warmed up once, then timed for about a second (at most 10 calls)', () => {
    let calls = 0;
    const t = timeQuickSteps(() => void calls++);
    expect([t.warmup, t.calls, calls]).toEqual([1, 10, 11]);
    expect(t.ms.min).toBeLessThanOrEqual(t.ms.median);
  });

  it('stat: median, min and max', () => {
    expect(stat([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(stat([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });
});
