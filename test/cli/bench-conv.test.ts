import { afterAll, describe, expect, it } from 'vitest';
import { benchConvKernels, type ConvReport, convCases, convDims, convFlops, convMarkdown, convOutSize, timeConv } from '../../src/cli/bench-conv.js';
import type { BenchBackend } from '../../src/cli/bench-measure.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { createWasmBackend } from '../../src/kernels/wasm/index.js';

describe("elbo bench's conv2d table", () => {
  const wasm = createWasmBackend({ threads: 2 });
  afterAll(() => wasm.dispose());

  it("has the conv VAE's layers at batch 128, with their output sizes and flop counts", () => {
    const cases = convCases();
    expect(cases.map((c) => [c.kind, c.inChannels, c.outChannels, c.size, convOutSize(c)])).toEqual([
      ['conv2d', 1, 32, 28, 14],
      ['conv2d', 32, 64, 14, 7],
      ['convTranspose2d', 64, 32, 7, 14],
      ['convTranspose2d', 32, 1, 14, 28],
    ]);
    // 2·N·out·Hₒ·Wₒ·in·k²; the transpose: 2·N·in·H·W·out·k² (the same products as its adjoint conv2d).
    expect(convFlops(cases[1]!)).toBe(2 * 128 * 64 * 49 * 32 * 16);
    expect(convFlops(cases[2]!)).toBe(convFlops(cases[1]!));
    const d = convDims(cases[2]!);
    expect([d.outHeight, d.outWidth, d.strideH, d.padW, d.groups]).toEqual([14, 14, 2, 1, 1]);
  });

  it('times the wasm kernels and lists a backend without conv kernels (and the cpu reference with --quick) as not measured', () => {
    const noConv = { ...cpuBackend, conv2d: undefined, convTranspose2d: undefined };
    const backends: BenchBackend[] = [
      { label: 'cpu', name: 'cpu', family: 'cpu', backend: cpuBackend, threads: 1, detail: () => 'cpu' },
      { label: 'wasm 2 threads', name: wasm.name, family: 'wasm', backend: wasm, threads: 2, detail: () => 'wasm' },
      { label: 'gpujs webasm', name: 'gpujs', family: 'gpujs', backend: noConv, threads: 1, detail: () => 'gpujs' },
    ];
    const cases = convCases(2).slice(1, 3);
    const results = benchConvKernels(backends, cases, true, () => undefined);
    expect(results.map((r) => [r.impl, r.note])).toEqual([
      ['cpu', 'not timed with --quick'],
      ['wasm 2 threads', undefined],
      ['gpujs webasm', 'no conv kernel (runs the cpu reference)'],
      ['cpu', 'not timed with --quick'],
      ['wasm 2 threads', undefined],
      ['gpujs webasm', 'no conv kernel (runs the cpu reference)'],
    ]);
    for (const r of results.filter((x) => x.impl.startsWith('wasm'))) {
      expect(r.gflops!.median).toBeGreaterThan(0);
      expect(r.gflops!.min).toBeLessThanOrEqual(r.gflops!.median);
    }
  });

  it('times a slow implementation on its first call and 3 more (1 with --quick), one call a sample', () => {
    for (const [quick, calls] of [
      [false, 4],
      [true, 2],
    ] as const) {
      let n = 0;
      const r = timeConv('slow', convCases()[0]!, () => void n++, quick, true);
      expect(n).toBe(calls);
      expect(r.gflops!.median).toBeGreaterThan(0);
    }
  });

  it("renders GFLOP/s per case and implementation, and each wasm column's ratio to each peer", () => {
    const cases = convCases().slice(0, 1);
    const gflops = (median: number) => ({ median, min: median / 2, max: median * 2 });
    const report: ConvReport = {
      cases,
      results: [
        { impl: 'cpu', case: cases[0]!.name, mflop: 25.7, note: 'not timed with --quick' },
        { impl: 'wasm 1 thread', case: cases[0]!.name, mflop: 25.7, gflops: gflops(4) },
        { impl: 'wasm 2 threads', case: cases[0]!.name, mflop: 25.7, gflops: gflops(6) },
        { impl: 'jax-js wasm', case: cases[0]!.name, mflop: 25.7, gflops: gflops(0.5) },
        { impl: 'tfjs wasm', case: cases[0]!.name, mflop: 25.7, gflops: gflops(3) },
      ],
      skipped: [{ peer: 'x', reason: 'not installed' }],
    };
    const text = convMarkdown(report).join('\n');
    expect(text).toContain(
      '| case | MFLOP | cpu | wasm 1 thread | wasm 2 threads | jax-js wasm | tfjs wasm | wasm 1 thread ÷ jax-js wasm | wasm 1 thread ÷ tfjs wasm | wasm 2 threads ÷ jax-js wasm | wasm 2 threads ÷ tfjs wasm |',
    );
    expect(text).toContain(
      `| ${cases[0]!.name} | 26 | – (not timed with --quick) | 4.00 (2.00–8.00) | 6.00 (3.00–12.00) | 0.50 (0.25–1.00) | 3.00 (1.50–6.00) | 8.00× | 1.33× | 12.00× | 2.00× |`,
    );
    expect(text).toContain('Not measured: x: not installed.');
    expect(convMarkdown(undefined)).toEqual([]);
  });
});
