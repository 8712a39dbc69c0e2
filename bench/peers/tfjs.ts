/**
 * The standard VAE training step in TensorFlow.js (`@tensorflow/tfjs`), on its 'cpu' (plain JS)
 * and 'wasm' (`@tensorflow/tfjs-backend-wasm`: XNNPACK, SIMD) backends.
 *
 * Same model and step as elbo's and PyTorch's: 784-400-20 ReLU encoder with μ and log σ² heads,
 * 20-400-784 ReLU decoder to logits, Bernoulli BCE-with-logits summed over pixels, analytic KL,
 * mean over the batch of 128 real digits, fresh N(0, I) noise each step, Adam lr 1e-3 (β 0.9,
 * 0.999, ε 1e-8). Weights are [in, out] as in tf.layers.dense (the idiomatic layout); the init is
 * PyTorch's default, U(±1/√fan_in). The loss is read back every step (`dataSync`).
 */
import { type ConvCase, type ConvResult, convFlops, convOutSize, timeConv } from '../../src/cli/bench-conv.js';
import { seededUniform, stepResult, type TimerOptions, timeCalls, type TrainStepResult } from '../../src/cli/bench-timing.js';

type Tf = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;
type TfVariable = import('@tensorflow/tfjs').Variable;

let loaded: Promise<{ tf: Tf; threads: () => number }> | undefined;

/** Imports tfjs and its wasm backend once (they register themselves with tfjs-core). */
async function load(): Promise<{ tf: Tf; threads: () => number }> {
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return { tf, threads: () => wasm.getThreadsCount() };
  })();
  return loaded;
}

/** The tfjs version string, e.g. "4.22.0". */
export async function tfjsVersion(): Promise<string> {
  const { tf } = await load();
  return tf.version.tfjs;
}

/**
 * Times the training step on tfjs's `backend` ('cpu' or 'wasm') with `timer`.
 * `batch` holds 128 digits, row-major [128, 784].
 */
export async function tfjsTrainStep(backend: 'cpu' | 'wasm', batch: Float32Array, timer: TimerOptions): Promise<TrainStepResult> {
  const { tf, threads } = await load();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not start its '${backend}' backend`);
  await tf.ready();
  const B = batch.length / 784;
  let seed = 11;
  const linear = (i: number, o: number): [TfVariable, TfVariable] => {
    const bound = 1 / Math.sqrt(i);
    return [tf.variable(tf.tensor2d(seededUniform(i * o, seed++, bound), [i, o])), tf.variable(tf.tensor1d(seededUniform(o, seed++, bound)))];
  };
  const [w1, b1] = linear(784, 400);
  const [wMu, bMu] = linear(400, 20);
  const [wLv, bLv] = linear(400, 20);
  const [w3, b3] = linear(20, 400);
  const [w4, b4] = linear(400, 784);
  const vars = [w1, b1, wMu, bMu, wLv, bLv, w3, b3, w4, b4];
  const x = tf.tensor2d(batch, [B, 784]);
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);

  const lossFn = (): import('@tensorflow/tfjs').Scalar => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const mu = tf.add(tf.matMul(h, wMu), bMu);
    const logVar = tf.add(tf.matMul(h, wLv), bLv);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal([B, 20])));
    const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(z, w3), b3)), w4), b4);
    // BCE with logits, stable: max(l, 0) − l·x + log(1 + e^(−|l|)), summed over the pixels.
    const bce = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))), 1);
    // KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (σ² + μ² − 1 − log σ²).
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(logVar), tf.square(mu)), 1), logVar), 1), 0.5);
    return tf.mean(tf.add(bce, kl)) as import('@tensorflow/tfjs').Scalar;
  };

  let loss = NaN;
  const step = (): void => {
    const cost: TfTensor | null = optimizer.minimize(lossFn, true, vars);
    if (cost === null) throw new Error('tfjs: minimize returned no cost');
    loss = cost.dataSync()[0]!;
    cost.dispose();
  };
  step(); // creates Adam's moment estimates, so that they are not counted as leaked below
  const before = tf.memory().numTensors;
  const timing = timeCalls(step, timer);
  const leaked = tf.memory().numTensors - before;
  const usedThreads = backend === 'wasm' ? threads() : 1;
  const version = tf.version.tfjs;
  optimizer.dispose();
  tf.dispose([...vars, x]);
  return stepResult(
    {
      impl: 'tfjs',
      version,
      backend,
      threads: usedThreads,
      batch: B,
      loss,
      detail: backend === 'wasm' ? `wasm (XNNPACK, SIMD, ${usedThreads} thread${usedThreads === 1 ? '' : 's'})` : 'cpu (plain JS)',
      ...(leaked > 0 ? { note: `${leaked} tensors leaked over the run` } : {}),
    },
    timing,
  );
}

/**
 * GFLOP/s of TensorFlow.js's convolutions on its wasm backend (XNNPACK) for each conv case, in
 * tfjs's layout (NHWC, filter [k, k, in, out]; the transpose's filter [k, k, out, in]): `tf.conv2d`
 * with explicit padding, `tf.conv2dTranspose` with padding p (the forward convolution's). The
 * inputs stay in tfjs's memory; the result is read back every call (`dataSync`).
 */
export async function tfjsConv(cases: readonly ConvCase[], quick: boolean, log: (line: string) => void): Promise<ConvResult[]> {
  const { tf } = await load();
  if (!(await tf.setBackend('wasm'))) throw new Error("tfjs could not start its 'wasm' backend");
  await tf.ready();
  const label = 'tfjs wasm';
  const results: ConvResult[] = [];
  for (const c of cases) {
    const x = tf.tensor4d(seededUniform(c.batch * c.size * c.size * c.inChannels, 1), [c.batch, c.size, c.size, c.inChannels]);
    const filterShape: [number, number, number, number] =
      c.kind === 'conv2d' ? [c.kernel, c.kernel, c.inChannels, c.outChannels] : [c.kernel, c.kernel, c.outChannels, c.inChannels];
    const filter = tf.tensor4d(seededUniform(c.inChannels * c.outChannels * c.kernel * c.kernel, 2, 0.25), filterShape);
    const out = convOutSize(c);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [c.padding, c.padding],
      [c.padding, c.padding],
      [0, 0],
    ];
    const run =
      c.kind === 'conv2d'
        ? (): TfTensor => tf.conv2d(x, filter, c.stride, pad)
        : (): TfTensor => tf.conv2dTranspose(x, filter, [c.batch, out, out, c.outChannels], c.stride, c.padding);
    const r = timeConv(
      label,
      c,
      () => {
        const y = run();
        y.dataSync();
        y.dispose();
      },
      quick,
    );
    results.push(r);
    log(`conv ${c.name}, ${label}: ${r.gflops!.median} GFLOP/s (${(convFlops(c) / 1e6).toFixed(1)} MFLOP)`);
    tf.dispose([x, filter]);
  }
  return results;
}
