/**
 * The training step of this checkout against another's, in one process, in alternating blocks
 * of steps: on a machine shared with other jobs, two separate runs see different loads, while
 * blocks a few hundred milliseconds apart see the same. Each tree's modules are loaded from its
 * own `src/` (two module graphs: two wasm backends, two models, two optimizers, the same seeds
 * and batch); the step is `bench/train-step.bench.ts`'s (`trainStep` on the standard VAE, batch
 * 128, float32).
 *
 *   npx tsx bench/step-ab.bench.ts --against DIR [--threads N] [--blocks N] [--block N]
 *
 * Runs `blocks` rounds (default 30); in each, `block` steps (default 20) of one tree then the
 * other, in alternating order, the first 3 steps of every block dropped (the other tree's worker
 * may still be spinning, and caches are cold). Reports each tree's median, mean and min over
 * the kept steps, and the ratio of the medians.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const against = arg('against');
if (!against) throw new Error('step-ab: --against DIR (a checkout to compare with) is required');
const threads = Number(arg('threads') ?? 1);
const blocks = Number(arg('blocks') ?? 30);
const blockSteps = Number(arg('block') ?? 20);
const DROPPED = 3;

interface Tree {
  label: string;
  step: () => void;
  times: number[];
}

/** The step of the checkout at `root` (this one when undefined), on its own wasm backend with `threads` threads. */
async function load(root: string | undefined, label: string): Promise<Tree> {
  const at = (path: string): string => (root ? pathToFileURL(resolve(root, path)).href : new URL(`../${path}`, import.meta.url).href);
  const { loadMnist } = (await import(at('src/data/mnist.ts'))) as typeof import('../src/data/mnist.js');
  const { batches, batchTensor } = (await import(at('src/data/batches.ts'))) as typeof import('../src/data/batches.js');
  const { useBackend } = (await import(at('src/kernels/index.ts'))) as typeof import('../src/kernels/index.js');
  const { initWasmBackend } = (await import(at('src/kernels/wasm/index.ts'))) as typeof import('../src/kernels/wasm/index.js');
  const { Adam } = (await import(at('src/nn/optim/adam.ts'))) as typeof import('../src/nn/optim/adam.js');
  const { Generator } = (await import(at('src/tensor/random.ts'))) as typeof import('../src/tensor/random.js');
  const { VAE } = (await import(at('src/vae/model.ts'))) as typeof import('../src/vae/model.js');
  const { trainStep } = (await import(at('src/vae/train.ts'))) as typeof import('../src/vae/train.js');
  await initWasmBackend({ threads }).ready();
  useBackend('wasm');
  const model = new VAE({ inputDim: 784, hiddenDims: [400], latentDim: 20, likelihood: 'bernoulli', activation: 'relu', dtype: 'float32', seed: 1 });
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Generator(2);
  const first = batches(loadMnist().train, { batchSize: 128 }).next();
  if (first.done) throw new Error('step-ab: no training data');
  const x = batchTensor(first.value);
  return {
    label,
    step: () => {
      const { failure } = trainStep(model, optimizer, x, { beta: 1, rng });
      if (failure) throw new Error(`step-ab: the step of ${label} diverged: ${failure}`);
    },
    times: [],
  };
}

async function main(): Promise<void> {
  const trees = [await load(against, `baseline (${against})`), await load(undefined, 'this tree')];
  for (const tree of trees) for (let i = 0; i < 50; i++) tree.step(); // warm up: JIT, wasm tier-up, memory
  const load0 = loadavg()[0]!;
  for (let b = 0; b < blocks; b++) {
    for (const tree of b % 2 === 0 ? trees : [...trees].reverse()) {
      for (let i = 0; i < blockSteps; i++) {
        const t0 = performance.now();
        tree.step();
        if (i >= DROPPED) tree.times.push(performance.now() - t0);
      }
    }
  }
  const median = (v: number[]): number => [...v].sort((a, c) => a - c)[v.length >> 1]!;
  console.log(
    `train step, ${threads} thread${threads > 1 ? 's' : ''}: ${blocks} blocks of ${blockSteps} steps per tree, alternating (first ${DROPPED} of each dropped); load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after\n`,
  );
  console.log('| tree | median ms | mean ms | min ms | steps |');
  console.log('|---|---:|---:|---:|---:|');
  for (const t of trees) {
    const mean = t.times.reduce((s, v) => s + v, 0) / t.times.length;
    console.log(`| ${t.label} | ${median(t.times).toFixed(2)} | ${mean.toFixed(2)} | ${Math.min(...t.times).toFixed(2)} | ${t.times.length} |`);
  }
  console.log(`\nthis tree / baseline, medians: ${(median(trees[1]!.times) / median(trees[0]!.times)).toFixed(3)}`);
  process.exit(0); // two backends' worker pools: exit rather than dispose each
}

await main();
