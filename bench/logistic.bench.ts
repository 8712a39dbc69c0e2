/**
 * The logistic loops (σ, softplus, ln σ, BCE with logits, σ(x) − y) of the wasm backend's
 * `vector.wat.ts`, and the float32 JavaScript loops of the cpu reference (`loops.ts`), in ns per
 * element on one thread over 100,352 floats (a batch of 128 MNIST images, 784 logits each).
 *
 *   npx tsx bench/logistic.bench.ts [--against DIR] [--rounds N]
 *   npx tsx bench/logistic.bench.ts --accuracy STRIDE
 *
 * `--against DIR` times another checkout's loops (its `src/kernels/wasm/vector.wat.ts` and
 * `src/kernels/loops.ts`) in the same process, the two alternating round after round, so that a
 * change is measured against its baseline under the same load. Each row is the median over
 * rounds of each round's median call time (`timeCalls`: warmed up, then timed call by call),
 * divided by the element count; the memory is unshared and the loop called directly, so no
 * copy in or out of wasm memory is counted.
 *
 * `--accuracy STRIDE` instead measures the error of the float32 functions (and of eˣ, `exp32`) against exact float64
 * values over every STRIDE-th float32 of each sign and the special values
 * (`test/kernels/logistic-error.ts`; STRIDE 61 is 70 million inputs, a few minutes).
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type TimerOptions, seededUniform, timeCalls } from '../src/cli/bench-timing.js';
import { measureLogisticErrors } from '../test/kernels/logistic-error.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const against = arg('against');
const rounds = Number(arg('rounds') ?? 5);
const N = 128 * 784;
const OPS = ['sigmoid', 'softplus', 'logSigmoid', 'bceWithLogits', 'sigmoidSub'] as const;
type Op = (typeof OPS)[number];
type Loop = (x: number, y: number, out: number, n: number) => void;

interface Tree {
  label: string;
  wasm: Record<Op, Loop>;
  js: Record<Op, () => void>;
}

/** Logits as a decoder gives them (uniform in [−8, 8]) and binary targets, in wasm memory and in JS arrays. */
const x = seededUniform(N, 1, 8);
const y = seededUniform(N, 2).map((v) => (v > 0.6 ? 1 : 0));
const out = new Float32Array(N);
const BYTES = N * 4;

/** The loops of the checkout at `root` (this one when undefined): its wasm module, assembled and instantiated, and its JS loops. */
async function load(root: string | undefined, label: string): Promise<Tree> {
  const at = (path: string): string => (root ? pathToFileURL(resolve(root, path)).href : new URL(`../${path}`, import.meta.url).href);
  const { vectorWat } = (await import(at('src/kernels/wasm/vector.wat.ts'))) as typeof import('../src/kernels/wasm/vector.wat.js');
  const { assembleWat } = (await import(at('src/kernels/wasm/wat.ts'))) as typeof import('../src/kernels/wasm/wat.js');
  const { unaryLoop, binaryLoop } = (await import(at('src/kernels/loops.ts'))) as typeof import('../src/kernels/loops.js');
  const memory = new WebAssembly.Memory({ initial: Math.ceil((3 * BYTES + 65536) / 65536) + 1, maximum: 32768 });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(assembleWat(vectorWat({ shared: false }))), { env: { mem: memory } }).exports;
  const view = new Float32Array(memory.buffer);
  view.set(x, 65536 / 4);
  view.set(y, (65536 + BYTES) / 4);
  const wasm = Object.fromEntries(OPS.map((op) => [op, exports[op] as Loop])) as Record<Op, Loop>;
  const js = Object.fromEntries(
    OPS.map((op) => [op, op === 'bceWithLogits' || op === 'sigmoidSub' ? () => binaryLoop(op, x, [1], y, [1], [N], out) : () => unaryLoop(op, x, out, 0, 0)]),
  ) as Record<Op, () => void>;
  return { label, wasm, js };
}

const timer: TimerOptions = { warmupSeconds: 0.2, minWarmup: 5, seconds: 0.3, minCalls: 20, maxCalls: 400 };

async function main(): Promise<void> {
  const trees = [await load(undefined, 'this tree')];
  if (against) trees.unshift(await load(against, `baseline (${against})`));
  const ns: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const tree of trees) {
      for (const op of OPS) {
        const wasmCall = (): void => tree.wasm[op](65536, 65536 + BYTES, 65536 + 2 * BYTES, N);
        for (const [kind, call] of [
          ['wasm', wasmCall],
          ['js', tree.js[op]],
        ] as const) {
          const t = timeCalls(call, timer);
          (ns[`${tree.label}|${kind}|${op}`] ??= []).push((t.ms.median * 1e6) / N);
        }
      }
    }
  }
  const median = (v: number[]): number => {
    const s = [...v].sort((a, b) => a - b);
    return s[s.length >> 1]!;
  };
  console.log(`logistic loops, ns per element on ${N} floats, one thread; median of ${rounds} rounds; load average ${loadavg()[0]!.toFixed(2)}\n`);
  console.log(`| loop | ${trees.map((t) => `${t.label} wasm | ${t.label} js`).join(' | ')} |${trees.length > 1 ? ' wasm speed-up |' : ''}`);
  console.log(`|---|${trees.map(() => '---:|---:').join('|')}|${trees.length > 1 ? '---:|' : ''}`);
  for (const op of OPS) {
    const cells = trees.flatMap((t) => ['wasm', 'js'].map((kind) => median(ns[`${t.label}|${kind}|${op}`]!)));
    const speedUp = trees.length > 1 ? ` ${(cells[0]! / cells[2]!).toFixed(2)}× |` : '';
    console.log(`| ${op} | ${cells.map((c) => c.toFixed(2)).join(' | ')} |${speedUp}`);
  }
}

/** Prints the worst case of each function over the sweep (see `test/kernels/logistic-error.ts`). */
function accuracy(stride: number): void {
  const t0 = performance.now();
  const worst = measureLogisticErrors(stride);
  console.log(
    `float32 logistic functions against exact values, every float32 at a stride of ${stride} bit patterns, each sign (${((performance.now() - t0) / 1e3).toFixed(0)} s)\n`,
  );
  console.log('| function | worst error | correctly rounded | at x | y |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, w] of Object.entries(worst)) {
    const unit = name.endsWith('[0, 1]') ? 'u·scale' : 'ulp';
    const share = unit === 'ulp' ? `${(100 * w.correctlyRounded).toFixed(2)}%` : '';
    console.log(`| ${name} | ${w.error.toFixed(unit === 'ulp' ? 0 : 2)} ${unit} | ${share} | ${w.x} | ${w.y} |`);
  }
}

const stride = arg('accuracy');
if (stride) accuracy(Number(stride));
else await main();
