/**
 * Zero skipping in the wasm matmul: the products of one VAE training step (784-400-20, ReLU,
 * batch 128) at their sparsities, and a sweep of zero fractions, timed with each skipping mode
 * of `WasmMatmul` in the same process:
 *
 *   off     the dense kernel
 *   rows    element-level: each row of the sparse operand lists its non-zeros (see SKIP.rows)
 *   auto    what the backend picks (`skipZeros` 'auto')
 *
 *   npx tsx bench/sparse-matmul.bench.ts [--threads N] [--quick] [--step N]
 *
 * With --step N it times instead the products of one training step of
 * bench/train-step.bench.ts's setting (its first batch, model seed 1, Adam 1e-3), captured
 * after N steps on the wasm backend (1 thread), as the engine received them.
 *
 * Operands: digit batches are the first 128 training images of MNIST (bundled) and of
 * Fashion-MNIST (when installed); ReLU activations and their gradients have zeros placed at
 * random, each element with probability z. Reports ms per product, median over samples of ≥ 20 ms each (copies into and out
 * of wasm memory included), and the ratio to `off`.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { MatmulDims } from '../src/kernels/backend.js';
import { loadDataset } from '../src/data/datasets.js';
import { loadMnist } from '../src/data/mnist.js';
import { WasmMatmul, type WasmMatmulOptions } from '../src/kernels/wasm/matmul.js';
import { batches, batchTensor } from '../src/data/batches.js';
import { useBackend } from '../src/kernels/index.js';
import { initWasmBackend } from '../src/kernels/wasm/index.js';
import { Adam } from '../src/nn/optim/adam.js';
import { Generator } from '../src/tensor/random.js';
import { VAE } from '../src/vae/model.js';
import { trainStep } from '../src/vae/train.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const threads = Number(arg('threads') ?? 1);
const stepArg = arg('step');
const quick = process.argv.includes('--quick');

/** Seeded uniforms in [0, 1). */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
/** rows × cols values in [-1, 1), each 0 with probability `zeros`. */
function sparse(rows: number, cols: number, zeros: number, seed: number): Float32Array {
  const next = uniforms(seed);
  return Float32Array.from({ length: rows * cols }, () => (next() < zeros ? 0 : 2 * next() - 1));
}
/** The first 128 images of a training set, [128, 784]. */
const digitBatch = (images: Float32Array): Float32Array => images.slice(0, 128 * 784);
const mnist = digitBatch(loadMnist().train.images);
let fashion: Float32Array | undefined;
try {
  fashion = digitBatch(loadDataset('fashion-mnist').train.images);
} catch {
  process.stderr.write('Fashion-MNIST not found: its rows are left out\n');
}
const zeroFraction = (x: Float32Array): number => x.reduce((z, v) => z + (v === 0 ? 1 : 0), 0) / x.length;

interface Case {
  name: string;
  a: Float32Array;
  b: Float32Array;
  d: MatmulDims;
}
const dims = (m: number, k: number, n: number, transA: boolean, transB: boolean): MatmulDims => ({
  batch: 1,
  m,
  k,
  n,
  transA,
  transB,
  aBatchStride: 0,
  bBatchStride: 0,
});
const pct = (z: number): string => `${Math.round(z * 100)}%`;

/** x·Wᵀ (encoder layer 1 forward) with a digit batch x. */
const enc1Fwd = (label: string, x: Float32Array): Case => ({
  name: `enc1 fwd x·W1ᵀ, ${label} (${pct(zeroFraction(x))})`,
  a: x,
  b: sparse(400, 784, 0, 1),
  d: dims(128, 784, 400, false, true),
});
/** g_hᵀ·x (encoder layer 1 weight gradient): g_h zero where h is. */
const enc1dW = (label: string, x: Float32Array, z: number): Case => ({
  name: `enc1 ∂W g_hᵀ·x, g_h ${pct(z)}, ${label} (${pct(zeroFraction(x))})`,
  a: sparse(128, 400, z, 2),
  b: x,
  d: dims(400, 128, 784, true, false),
});
/** h·W4ᵀ (decoder output layer forward), h a ReLU activation. */
const dec2Fwd = (z: number): Case => ({
  name: `dec2 fwd h·W4ᵀ, h ${pct(z)}`,
  a: sparse(128, 400, z, 3),
  b: sparse(784, 400, 0, 4),
  d: dims(128, 400, 784, false, true),
});
/** gᵀ·h (decoder output layer weight gradient). */
const dec2dW = (z: number): Case => ({
  name: `dec2 ∂W gᵀ·h, h ${pct(z)}`,
  a: sparse(128, 784, 0, 5),
  b: sparse(128, 400, z, 6),
  d: dims(784, 128, 400, true, false),
});

/** The products of step `steps` + 1 of bench/train-step.bench.ts's training, copied as the wasm engine received them. */
async function stepProducts(steps: number): Promise<Case[]> {
  const wasm = initWasmBackend({ threads: 1 });
  await wasm.ready();
  useBackend('wasm');
  const model = new VAE({ inputDim: 784, hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Generator(2);
  const first = batches(loadMnist().train, { batchSize: 128 }).next();
  if (first.done) throw new Error('no training data');
  const x = batchTensor(first.value);
  for (let i = 0; i < steps; i++) trainStep(model, optimizer, x, { beta: 1, rng });
  const captured: Case[] = [];
  const matmul = WasmMatmul.prototype.matmul;
  WasmMatmul.prototype.matmul = function (this: WasmMatmul, a, b, out, d, bias) {
    const [aLen, bLen] = [(d.batch - 1) * d.aBatchStride + d.m * d.k, (d.batch - 1) * d.bBatchStride + d.k * d.n];
    const name = `${d.batch},${d.m},${d.k},${d.n} ${d.transA ? 'T' : 'F'}${d.transB ? 'T' : 'F'}, zeros ${pct(zeroFraction(a.subarray(0, aLen)))} · ${pct(zeroFraction(b.subarray(0, bLen)))}`;
    captured.push({ name, a: a.slice(0, aLen), b: b.slice(0, bLen), d: { ...d } });
    return matmul.call(this, a, b, out, d, bias);
  };
  try {
    trainStep(model, optimizer, x, { beta: 1, rng });
  } finally {
    WasmMatmul.prototype.matmul = matmul;
  }
  await wasm.dispose();
  return captured;
}

const sweep = [0, 0.25, 0.42, 0.52, 0.72, 0.8];
const cases: Case[] =
  stepArg !== undefined
    ? await stepProducts(Number(stepArg))
    : [
        enc1Fwd('MNIST', mnist),
        ...(fashion ? [enc1Fwd('Fashion-MNIST', fashion)] : []),
        ...sweep.map((z) => enc1Fwd(`random`, sparse(128, 784, z, 7 + z * 100))),
        ...sweep.map(dec2Fwd),
        ...sweep.map(dec2dW),
        enc1dW('MNIST', mnist, 0.72),
        ...(fashion ? [enc1dW('Fashion-MNIST', fashion, 0.72)] : []),
        ...sweep.map((z) => enc1dW('x dense', sparse(128, 784, 0, 8), z)),
      ];

const modes: [string, WasmMatmulOptions['skipZeros']][] = [
  ['off', 'off'],
  ['rows', 'always'],
  ['auto', 'auto'],
];
const engines = modes.map(([, skipZeros]) => new WasmMatmul({ threads, minParallelFlops: 0, relaxedSimd: true, tasksPerThread: 2, skipZeros }));

/** Median ms per call of `engine` on `c`, over samples of ≥ 20 ms. */
function time(engine: WasmMatmul, c: Case): number {
  const out = new Float32Array(c.d.batch * c.d.m * c.d.n);
  const run = (reps: number): number => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) engine.matmul(c.a, c.b, out, c.d);
    return performance.now() - t0;
  };
  let once = run(1);
  for (let warm = 0; warm < (quick ? 50 : 200); warm += once) once = Math.min(once, run(1));
  const reps = Math.max(1, Math.ceil(20 / once));
  const samples = Array.from({ length: quick ? 5 : 11 }, () => run(reps) / reps).sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}

async function main(): Promise<void> {
  await Promise.all(engines.map((e) => e.ready()));
  const load0 = loadavg()[0]!;
  const lines = [
    `| product | ${modes.map(([name]) => `${name} ms`).join(' | ')} | ${modes
      .slice(1)
      .map(([name]) => `${name}/off`)
      .join(' | ')} |`,
    `|---|${modes.map(() => '---:').join('|')}|${modes
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  ];
  const totals = engines.map(() => 0);
  for (const c of cases) {
    // Interleaved rounds, so that a burst of load on the shared machine hits every mode alike.
    const ms = engines.map(() => Infinity);
    for (let round = 0; round < 2; round++) engines.forEach((e, i) => (ms[i] = Math.min(ms[i]!, time(e, c))));
    ms.forEach((t, i) => (totals[i]! += t));
    const line = `| ${c.name} | ${ms.map((t) => t.toFixed(3)).join(' | ')} | ${ms
      .slice(1)
      .map((t) => (t / ms[0]!).toFixed(2))
      .join(' | ')} |`;
    lines.push(line);
    process.stderr.write(`${line}\n`);
  }
  if (stepArg !== undefined)
    lines.push(
      `| **all ${cases.length} products of the step** | ${totals.map((t) => t.toFixed(2)).join(' | ')} | ${totals
        .slice(1)
        .map((t) => (t / totals[0]!).toFixed(2))
        .join(' | ')} |`,
    );
  console.log(
    [
      `Command: \`npx tsx bench/sparse-matmul.bench.ts --threads ${threads}${stepArg !== undefined ? ` --step ${stepArg}` : ''}\`. Machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, Node ${process.version}, ` +
        `${new Date().toISOString().slice(0, 10)}. Load average (1 min) ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after. ms per product: the lower of two medians.`,
      '',
      ...lines,
    ].join('\n'),
  );
  await Promise.all(engines.map((e) => e.dispose()));
}

await main();
