/**
 * `Generator.fillNormal` (what `randn` uses), in ns per standard normal draw, into a float32 and a
 * float64 array of 2,560 draws (one training step of a 128 × 20 latent batch) and of 1,000,000
 * draws (a large share of an IWAE(1000) chunk).
 *
 *   npx tsx bench/normal.bench.ts [--against DIR] [--rounds N]
 *
 * `--against DIR` times another checkout's generator (its `src/tensor/random.ts`) in the same
 * process, the two alternating round after round, so that a change is measured against its
 * baseline under the same load. Each row is the median over rounds of each round's median call
 * time (`timeCalls`: warmed up, then timed call by call), divided by the number of draws.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type TimerOptions, timeCalls } from '../src/cli/bench-timing.js';
import type { Generator } from '../src/tensor/random.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const against = arg('against');
const rounds = Number(arg('rounds') ?? 15);
const CASES = [
  ['float32', 2560],
  ['float32', 1_000_000],
  ['float64', 2560],
  ['float64', 1_000_000],
] as const;

interface Tree {
  label: string;
  rng: Generator;
}

/** A generator from the checkout at `root` (this one when undefined), seeded alike. */
async function load(root: string | undefined, label: string): Promise<Tree> {
  const at = (path: string): string => (root ? pathToFileURL(resolve(root, path)).href : new URL(`../${path}`, import.meta.url).href);
  const { Generator: Make } = (await import(at('src/tensor/random.ts'))) as typeof import('../src/tensor/random.js');
  return { label, rng: new Make(7) };
}

const timer: TimerOptions = { warmupSeconds: 0.1, minWarmup: 5, seconds: 0.2, minCalls: 10, maxCalls: 2000 };

const trees = [await load(undefined, 'this tree')];
if (against) trees.unshift(await load(against, `baseline (${against})`));
const outputs = CASES.map(([dtype, n]) => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)));
const ns: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const tree of trees) {
    CASES.forEach((c, k) => {
      const out = outputs[k]!;
      const t = timeCalls(() => tree.rng.fillNormal(out), timer);
      (ns[`${tree.label}|${c.join()}`] ??= []).push((t.ms.median * 1e6) / out.length);
    });
  }
}
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
console.log(`fillNormal, ns per draw; median of ${rounds} rounds; load average ${loadavg()[0]!.toFixed(2)}\n`);
console.log(`| output | draws | ${trees.map((t) => t.label).join(' | ')} |${trees.length > 1 ? ' time ratio |' : ''}`);
console.log(`|---|---:|${trees.map(() => '---:').join('|')}|${trees.length > 1 ? '---:|' : ''}`);
for (const c of CASES) {
  const cells = trees.map((t) => median(ns[`${t.label}|${c.join()}`]!));
  const ratio = trees.length > 1 ? ` ${(cells[1]! / cells[0]!).toFixed(3)} |` : '';
  console.log(`| ${c[0]} | ${c[1].toLocaleString('en-US')} | ${cells.map((x) => x.toFixed(2)).join(' | ')} |${ratio}`);
}
