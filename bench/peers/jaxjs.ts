/**
 * The standard VAE training step, and matmul throughput, in jax-js (`@jax-js/jax`) on its 'wasm'
 * device: the loss is written once as a function of a parameter tree, differentiated with
 * `valueAndGrad`, and the whole step (noise, forward, backward, Adam) compiled with `jit`.
 *
 * Model and step as elbo's (see tfjs.ts): weights [in, out], PyTorch's default init, fresh noise
 * from a split PRNG key each step, Adam lr 1e-3 with PyTorch's update
 * θ ← θ − (α / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε), the bias corrections passed in as scalars so
 * one compiled program serves every step. jax-js counts references: every array passed to a
 * function is consumed, so arrays used again are passed as `.ref` (or `tree.ref`).
 *
 * Threads: jax-js's wasm thread pool needs the Web Worker API (a global `Worker`); Node 20 has none,
 * so in Node jax-js computes on one thread.
 */
import { readFileSync } from 'node:fs';
import { defaultDevice, init, jit, lax, numpy as np, nn, random, tree, valueAndGrad } from '@jax-js/jax';
import { type ConvCase, type ConvResult, convFlops, timeConv } from '../../src/cli/bench-conv.js';
import {
  flops,
  type MatmulCase,
  type MatmulResult,
  seededUniform,
  stepResult,
  type TimerOptions,
  timeCalls,
  timeMatmul,
  type TrainStepResult,
} from '../../src/cli/bench-timing.js';

type JArray = np.Array;
/** The VAE's parameters as a jax-js tree (a `type`, not an `interface`, as jax-js's JsTree needs). */
type Params = { w1: JArray; b1: JArray; wMu: JArray; bMu: JArray; wLv: JArray; bLv: JArray; w3: JArray; b3: JArray; w4: JArray; b4: JArray };

let started: Promise<void> | undefined;

/** Starts jax-js's wasm device and makes it the default (Node 20 has no `navigator`: name the device). */
async function start(): Promise<void> {
  started ??= (async () => {
    const devices = await init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (found ${devices.join(', ')})`);
    defaultDevice('wasm');
  })();
  return started;
}

/** The installed jax-js version (its package.json is not in its `exports`, so read it by path). */
export function jaxVersion(): string {
  const url = new URL('../../node_modules/@jax-js/jax/package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** Threads jax-js's wasm device uses here: its pool needs a global Web Worker and SharedArrayBuffer. */
export function jaxThreads(): number {
  const g = globalThis as { Worker?: unknown; navigator?: { hardwareConcurrency?: number } };
  return typeof SharedArrayBuffer !== 'undefined' && g.Worker !== undefined ? Math.max(1, g.navigator?.hardwareConcurrency ?? 4) : 1;
}

const array = (data: Float32Array, shape: number[]): JArray => np.array(data).reshape(shape);

/** −ELBO averaged over the batch (consumes `p`, `x`, `eps`). */
function loss(p: Params, x: JArray, eps: JArray): JArray {
  const h = nn.relu(np.matmul(x.ref, p.w1).add(p.b1));
  const mu = np.matmul(h.ref, p.wMu).add(p.bMu);
  const logVar = np.matmul(h, p.wLv).add(p.bLv);
  const z = mu.ref.add(np.exp(logVar.ref.mul(0.5)).mul(eps));
  const logits = np.matmul(nn.relu(np.matmul(z, p.w3).add(p.b3)), p.w4).add(p.b4);
  // BCE with logits, stable: max(l, 0) − l·x + log(1 + e^(−|l|)), summed over the pixels.
  const bce = nn
    .relu(logits.ref)
    .sub(logits.ref.mul(x))
    .add(np.log1p(np.exp(np.abs(logits).neg())))
    .sum(1);
  // KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (σ² + μ² − 1 − log σ²).
  const kl = np.exp(logVar.ref).add(mu.ref.mul(mu)).sub(1).sub(logVar).sum(1).mul(0.5);
  return bce.add(kl).mean();
}

/** Times the jitted training step (wasm device, one thread in Node). `batch` is [B, 784] row-major. */
export async function jaxTrainStep(batch: Float32Array, timer: TimerOptions): Promise<TrainStepResult> {
  await start();
  const B = batch.length / 784;
  let seed = 11;
  const linear = (i: number, o: number): [JArray, JArray] => {
    const bound = 1 / Math.sqrt(i);
    return [array(seededUniform(i * o, seed++, bound), [i, o]), array(seededUniform(o, seed++, bound), [o])];
  };
  const [w1, b1] = linear(784, 400);
  const [wMu, bMu] = linear(400, 20);
  const [wLv, bLv] = linear(400, 20);
  const [w3, b3] = linear(20, 400);
  const [w4, b4] = linear(400, 784);
  let params: Params = { w1, b1, wMu, bMu, wLv, bLv, w3, b3, w4, b4 };
  const zeros = (t: Params): Params => tree.map((a: JArray) => np.zerosLike(a), tree.ref(t)) as Params;
  let m = zeros(params);
  let v = zeros(params);
  const x = array(batch, [B, 784]);

  const step = jit((p: Params, m0: Params, v0: Params, xs: JArray, key: JArray, stepSize: JArray, sqrtBc2: JArray): [Params, Params, Params, JArray] => {
    const eps = random.normal(key, [B, 20]);
    const [value, g] = valueAndGrad(loss)(tree.ref(p), xs, eps);
    const m1 = tree.map((mi: JArray, gi: JArray) => mi.mul(0.9).add(gi.mul(0.1)), m0, tree.ref(g)) as Params;
    const v1 = tree.map((vi: JArray, gi: JArray) => vi.mul(0.999).add(gi.ref.mul(gi).mul(0.001)), v0, g) as Params;
    const p1 = tree.map(
      (pi: JArray, mi: JArray, vi: JArray) => pi.sub(mi.mul(stepSize.ref).div(np.sqrt(vi).div(sqrtBc2.ref).add(1e-8))),
      p,
      tree.ref(m1),
      tree.ref(v1),
    ) as Params;
    stepSize.dispose();
    sqrtBc2.dispose();
    return [p1, m1, v1, value];
  });

  let key = random.key(2);
  let t = 0;
  let lossValue = NaN;
  const timing = timeCalls(() => {
    t++;
    const [next, sub] = random.split(key, 2);
    key = next!;
    const [p1, m1, v1, value] = step(params, m, v, x.ref, sub!, np.array(1e-3 / (1 - 0.9 ** t)), np.array(Math.sqrt(1 - 0.999 ** t)));
    params = p1;
    m = m1;
    v = v1;
    lossValue = value.dataSync()[0]!; // jax-js is lazy: reading the loss waits for the step
  }, timer);
  step.dispose();
  tree.dispose([params, m, v, x, key]);
  const threads = jaxThreads();
  return stepResult(
    {
      impl: 'jax-js',
      version: jaxVersion(),
      backend: 'wasm',
      detail: `wasm (jit + valueAndGrad, ${threads} thread${threads === 1 ? '' : 's'})`,
      threads,
      batch: B,
      loss: lossValue,
    },
    timing,
  );
}

/**
 * GFLOP/s of jax-js's matmul on each case (a jitted `np.matmul`, transposes inside the jit),
 * reading the result back every call (`dataSync`). The inputs stay in jax-js's wasm memory, while
 * elbo's numbers include copying them in.
 */
export async function jaxMatmul(cases: readonly MatmulCase[], quick: boolean, log: (line: string) => void): Promise<MatmulResult[]> {
  await start();
  const label = 'jax-js wasm';
  const programs = new Map<string, (a: JArray, b: JArray) => JArray>();
  const program = (transA: boolean, transB: boolean): ((a: JArray, b: JArray) => JArray) => {
    const id = `${transA}${transB}`;
    let f = programs.get(id);
    if (!f) {
      f = jit((a: JArray, b: JArray) => np.matmul(transA ? a.transpose() : a, transB ? b.transpose() : b));
      programs.set(id, f);
    }
    return f;
  };
  const results: MatmulResult[] = [];
  for (const c of cases) {
    const a = array(seededUniform(c.m * c.k, 1), c.transA ? [c.k, c.m] : [c.m, c.k]);
    const b = array(seededUniform(c.k * c.n, 2), c.transB ? [c.n, c.k] : [c.k, c.n]);
    const f = program(c.transA, c.transB);
    const r = timeMatmul(label, c, () => void f(a.ref, b.ref).dataSync(), quick);
    results.push(r);
    log(`matmul ${c.name}, ${label}: ${r.gflops.median} GFLOP/s (${(flops(c) / 1e6).toFixed(1)} MFLOP)`);
    a.dispose();
    b.dispose();
  }
  for (const f of programs.values()) (f as { dispose?: () => void }).dispose?.();
  return results;
}

/**
 * GFLOP/s of jax-js's convolutions on each conv case (NCHW, as elbo's): conv2d as a jitted
 * `lax.convGeneralDilated` (weight [out, in, k, k], padding pairs), the transpose as a jitted
 * `lax.convTranspose` with `transposeKernel` (weight [in, out, k, k], PyTorch's layout; its
 * padding k − 1 − p per side makes PyTorch's padding p). The inputs stay in jax-js's memory; the
 * result is read back every call (`dataSync`).
 */
export async function jaxConv(cases: readonly ConvCase[], quick: boolean, log: (line: string) => void): Promise<ConvResult[]> {
  await start();
  const label = 'jax-js wasm';
  const results: ConvResult[] = [];
  for (const c of cases) {
    const pad: [number, number][] = [
      [c.padding, c.padding],
      [c.padding, c.padding],
    ];
    const x = array(seededUniform(c.batch * c.inChannels * c.size * c.size, 1), [c.batch, c.inChannels, c.size, c.size]);
    const weightShape = c.kind === 'conv2d' ? [c.outChannels, c.inChannels, c.kernel, c.kernel] : [c.inChannels, c.outChannels, c.kernel, c.kernel];
    const weight = array(seededUniform(c.inChannels * c.outChannels * c.kernel * c.kernel, 2, 0.25), weightShape);
    const f =
      c.kind === 'conv2d'
        ? jit((a: JArray, w: JArray) => lax.convGeneralDilated(a, w, [c.stride, c.stride], pad))
        : jit((a: JArray, w: JArray) => lax.convTranspose(a, w, [c.stride, c.stride], pad, { transposeKernel: true }));
    const r = timeConv(label, c, () => void f(x.ref, weight.ref).dataSync(), quick);
    results.push(r);
    log(`conv ${c.name}, ${label}: ${r.gflops!.median} GFLOP/s (${(convFlops(c) / 1e6).toFixed(1)} MFLOP)`);
    (f as { dispose?: () => void }).dispose?.();
    x.dispose();
    weight.dispose();
  }
  return results;
}
