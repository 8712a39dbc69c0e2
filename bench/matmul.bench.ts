/**
 * float32 matmul throughput: the cpu reference, the wasm backend on one thread, and on all.
 *
 *   npx tsx bench/matmul.bench.ts            prints a markdown report
 *   npx tsx bench/matmul.bench.ts --write    also replaces the matmul section of bench/RESULTS.md
 *   npx tsx bench/matmul.bench.ts --quick    fewer samples (a smoke run)
 *   npx tsx bench/matmul.bench.ts --tiles    compares register tiles and k-unrolls (one thread, GFLOP per CPU-second)
 *
 * Each case is warmed up (wasm tiers up from Liftoff to TurboFan, V8 optimises the cpu loops),
 * then timed in samples of enough calls to last ≥ 20 ms; GFLOP/s = 2·batch·m·n·k / time, reported
 * as the median and the min–max over samples. Copies into and out of wasm memory are included:
 * this is what an op pays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { Backend, MatmulDims } from '../src/kernels/backend.js';
import { cpuBackend } from '../src/kernels/cpu.js';
import { TILE } from '../src/kernels/wasm/gemm.wat.js';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { WasmMatmul } from '../src/kernels/wasm/matmul.js';

const quick = process.argv.includes('--quick');
const tiles = process.argv.includes('--tiles');
const write = process.argv.includes('--write');

interface Case {
  name: string;
  d: MatmulDims;
}
const mm = (name: string, m: number, k: number, n: number, transA = false, transB = false): Case => ({
  name,
  d: { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 },
});

/** One linear layer y = x·Wᵀ (W is [out, in]) at batch B: its forward and both backward products. */
const layer = (label: string, B: number, inp: number, out: number): Case[] => [
  mm(`${label} fwd  x·Wᵀ  [${B},${inp}]·[${out},${inp}]ᵀ`, B, inp, out, false, true),
  mm(`${label} ∂x   g·W   [${B},${out}]·[${out},${inp}]`, B, out, inp),
  mm(`${label} ∂W   gᵀ·x  [${B},${out}]ᵀ·[${B},${inp}]`, out, B, inp, true, false),
];

const squares = [64, 128, 256, 512, 1024].map((s) => mm(`square ${s}`, s, s, s));
const vae = [
  ...layer('enc 784→400', 128, 784, 400),
  ...layer('μ,logσ² 400→20 (×2)', 128, 400, 20),
  ...layer('dec 20→400', 128, 20, 400),
  ...layer('dec 400→784', 128, 400, 784),
];

/** Seeded uniforms in [-1, 1): no Math.random, so runs are comparable. */
function fill(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
}

/** GFLOP/s over samples; `perCpuSecond` = flops per second of CPU time the process got (robust to other load for one thread). */
interface Stat {
  median: number;
  min: number;
  max: number;
  seconds: number;
  perCpuSecond: number;
}

/** Times `backend` on `c`: warm-up, then samples of ≥ 20 ms each; GFLOP/s statistics. */
function time(backend: Backend, c: Case): Stat {
  const { batch, m, k, n } = c.d;
  const a = fill(m * k, 1);
  const b = fill(k * n, 2);
  const out = new Float32Array(batch * m * n);
  const flops = 2 * batch * m * n * k;
  const run = (reps: number): number => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) backend.matmul(a, b, out, c.d);
    return (performance.now() - t0) / 1000;
  };
  let once = run(1);
  for (let warm = once; warm < (quick ? 0.05 : 0.3) && once < 1; warm += once) once = Math.min(once, run(1));
  const reps = Math.max(1, Math.ceil(0.02 / once));
  const samples = Math.max(3, Math.min(quick ? 5 : 15, Math.floor((quick ? 0.5 : 3) / (once * reps))));
  const cpu0 = process.cpuUsage();
  const rates = Array.from({ length: samples }, () => (flops * reps) / run(reps) / 1e9).sort((x, y) => x - y);
  const cpu = process.cpuUsage(cpu0);
  const median = rates[Math.floor(samples / 2)]!;
  return {
    median,
    min: rates[0]!,
    max: rates[samples - 1]!,
    seconds: flops / 1e9 / median,
    perCpuSecond: (flops * reps * samples) / ((cpu.user + cpu.system) * 1e3),
  };
}

const fmt = (s: Stat): string => `${s.median.toFixed(s.median < 10 ? 2 : 1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

/** One-thread wasm throughput per CPU-second for several MR×NR register tiles and k-unrolls U. */
function compareTiles(): void {
  const cases = [vae[0]!, vae[1]!, vae[2]!, squares[3]!];
  console.log(`| MR×NR, U | ${cases.map((c) => c.name.replace(/ {2,}/g, ' ')).join(' | ')} |\n|---|${cases.map(() => '---:').join('|')}|`);
  for (const [MR, NR, U] of [
    [4, 8, 1],
    [4, 8, 2],
    [4, 8, 4],
    [2, 16, 1],
    [3, 16, 1],
    [4, 12, 1],
    [6, 8, 1],
    [8, 8, 1],
  ] as const) {
    const engine = new WasmMatmul({ threads: 1, minParallelFlops: Infinity, relaxedSimd: false, tasksPerThread: 1, tile: { ...TILE, MR, NR, U } });
    const be: Backend = {
      ...cpuBackend,
      name: 'tile',
      matmul: (a, b, out, d) => void engine.matmul(a as Float32Array, b as Float32Array, out as Float32Array, d),
    };
    console.log(`| ${MR}×${NR}, ${U} | ${cases.map((c) => time(be, c).perCpuSecond.toFixed(1)).join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  if (tiles) return compareTiles();
  const threads = Math.min(8, availableParallelism());
  const one = createWasmBackend({ threads: 1 });
  const all: WasmBackend = createWasmBackend({ threads });
  await all.ready();
  const backends: [string, Backend][] = [
    ['cpu', cpuBackend],
    ['wasm 1 thread', one],
    [`wasm ${all.info.threads} threads`, all],
  ];
  const load0 = loadavg()[0]!;
  const lines: string[] = [];
  const table = (title: string, cases: Case[], weights?: number[]): void => {
    lines.push(
      `### ${title}`,
      '',
      `| product | MFLOP | ${backends.map(([n]) => `${n} GFLOP/s`).join(' | ')} | wasm 1 thread per CPU-second |`,
      `|---|---:|${backends.map(() => '---:').join('|')}|---:|`,
    );
    const totals = backends.map(() => 0);
    let totalFlops = 0;
    cases.forEach((c, i) => {
      const w = weights?.[i] ?? 1;
      const stats = backends.map(([, be]) => time(be, c));
      stats.forEach((s, j) => (totals[j]! += s.seconds * w));
      const mflop = (2 * c.d.batch * c.d.m * c.d.n * c.d.k) / 1e6;
      totalFlops += mflop * w;
      lines.push(`| ${c.name} | ${mflop.toFixed(1)} | ${stats.map(fmt).join(' | ')} | ${stats[1]!.perCpuSecond.toFixed(1)} |`);
      process.stderr.write(`${c.name}: ${stats.map(fmt).join('  ')}\n`);
    });
    if (weights)
      lines.push(
        `| **all matmuls of one training step** (median times summed) | ${totalFlops.toFixed(0)} | ${totals.map((t) => `**${(totalFlops / 1e3 / t).toFixed(1)}** (${(t * 1e3).toFixed(2)} ms)`).join(' | ')} | |`,
      );
    lines.push('');
  };
  table('Square C[s,s] = A[s,s]·B[s,s]', squares);
  table(
    'VAE 784-400-20 at batch 128 (forward and both gradients of each layer)',
    vae,
    vae.map((c) => (c.name.includes('(×2)') ? 2 : 1)),
  );
  const info = all.info;
  const header = [
    '## matmul (float32)',
    '',
    `Command: \`npx tsx bench/matmul.bench.ts${quick ? ' --quick' : ''}\`. Machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, ` +
      `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. wasm: ${info.threads} threads, SIMD ${info.simd}, relaxed SIMD ${info.relaxedSimd}. ` +
      `Load average (1 min) ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after (this run's own threads count ~1-2; more means other processes shared the cores, and the 2-thread column then measures contention).`,
    '',
    'GFLOP/s median (min–max over samples), copies into and out of wasm memory included. The last column divides the',
    "1-thread run's flops by the CPU time the process was given, which other processes' load does not lower.",
    '',
  ];
  const section = [...header, ...lines].join('\n');
  console.log(section);
  if (write) {
    const path = new URL('./RESULTS.md', import.meta.url);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = '# Benchmark results\n';
    }
    const begin = '<!-- matmul.bench:begin -->';
    const end = '<!-- matmul.bench:end -->';
    const block = `${begin}\n${section}\n${end}`;
    const at = text.indexOf(begin);
    text = at >= 0 ? text.slice(0, at) + block + text.slice(text.indexOf(end) + end.length) : `${text.trimEnd()}\n\n${block}\n`;
    writeFileSync(path, text);
  }
  await Promise.all([one.dispose(), all.dispose()]);
}

await main();
