import { type Backend, BINARY_OPS, type Conv2dDims, UNARY_OPS } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { createGpujsBackend, type GpujsInfo, type GpujsOp, registerGpujsBackend } from '../../src/kernels/gpujs.js';
import { setBackend } from '../../src/kernels/index.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { VAE } from '../../src/vae/model.js';
import { trainStep } from '../../src/vae/train-step.js';
import {
  type Check,
  checkBinary,
  checkConv,
  checkMatmul,
  checkReduce,
  checkUnary,
  convVaeLayers,
  convDims,
  GROUPED_CONV,
  convGflops,
  matmulGflops,
} from '../kernels/gpujs-checks.js';

/**
 * The page side of the Chromium test: the same checks as test/kernels/gpujs.test.ts, on fixed
 * shapes, run on the gpu.js backend in the browser (WebGL2 where Chromium gives it).
 * Exposed as `globalThis.elboGpujs`.
 */

/** What the page reports back. */
export interface PageReport {
  info: GpujsInfo;
  checks: Check[];
}

function runChecks(): PageReport {
  const backend = createGpujsBackend();
  const checks: Check[] = [];
  const mm = (batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, aShared = false, bShared = false): void => {
    const d = { batch, m, k, n, transA, transB, aBatchStride: aShared ? 0 : m * k, bBatchStride: bShared ? 0 : k * n };
    checks.push(checkMatmul(backend, d, checks.length + 1));
  };
  mm(1, 1, 1, 1, false, false);
  mm(1, 7, 13, 5, false, false);
  mm(1, 7, 13, 5, true, false);
  mm(1, 7, 13, 5, false, true);
  mm(1, 7, 13, 5, true, true);
  mm(1, 3, 1537, 2, false, true); // k above gpu.js's default loop cap of 1000
  mm(3, 4, 9, 6, false, false, true, false); // one A for the whole batch
  mm(2, 5, 1100, 3, true, true, false, true); // one B for the whole batch, transposed, long k
  mm(1, 128, 784, 400, false, true); // the VAE encoder's first layer: x·Wᵀ
  for (const [i, op] of UNARY_OPS.entries()) checks.push(checkUnary(backend, op, 257, 100 + i, op === 'clamp' ? -1 : 0.1, 2));
  for (const p of [2, 3, -1, 0.5, 1.7, 5]) checks.push(checkUnary(backend, 'pow', 31, 200, p));
  for (const [i, op] of BINARY_OPS.entries()) {
    checks.push(
      checkBinary(backend, op, 301, false, false, 300 + i),
      checkBinary(backend, op, 17, false, true, 310 + i),
      checkBinary(backend, op, 9, true, false, 320 + i),
    );
  }
  checks.push(checkReduce(backend, 'sum', [128, 400], [0], 400), checkReduce(backend, 'sum', [3, 1200, 2], [1], 401));
  checks.push(checkReduce(backend, 'max', [6, 5, 4], [1, 2], 402), checkReduce(backend, 'sum', [33], [0], 403));
  checks.push(...convChecks(backend));
  const info = backend.info();
  backend.destroy();
  return { info, checks };
}

/**
 * conv2d and convTranspose2d on fixed configurations that cover what the Node property tests
 * draw: groups, strides, paddings, dilations, odd sizes, outputPadding, a 1×1 kernel, a kernel
 * as large as the padded input, and weight-gradient shapes (batch as channels, large kernels).
 */
function convChecks(backend: Backend): Check[] {
  const d = (kind: 'conv2d' | 'convTranspose2d', c: Omit<Conv2dDims, 'outHeight' | 'outWidth'>, outputPadding?: [number, number]): Conv2dDims =>
    convDims(kind, c, outputPadding);
  const base = GROUPED_CONV;
  const odd = {
    batch: 3,
    inChannels: 3,
    height: 5,
    width: 11,
    outChannels: 9,
    kernelHeight: 2,
    kernelWidth: 3,
    strideH: 3,
    strideW: 2,
    padH: 2,
    padW: 1,
    dilationH: 3,
    dilationW: 1,
    groups: 3,
  };
  const one = { ...base, kernelHeight: 1, kernelWidth: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1 };
  return [
    checkConv(backend, 'conv2d', d('conv2d', base), 500),
    checkConv(backend, 'conv2d', d('conv2d', odd), 501),
    checkConv(backend, 'conv2d', d('conv2d', one), 502),
    checkConv(backend, 'conv2d', d('conv2d', { ...base, kernelHeight: 9, kernelWidth: 9, padH: 1, padW: 0, strideH: 1, dilationW: 1 }), 503), // kernel = padded input
    checkConv(backend, 'convTranspose2d', d('convTranspose2d', base, [1, 0]), 504),
    checkConv(backend, 'convTranspose2d', d('convTranspose2d', odd, [2, 0]), 505),
    // taps every 3 rows (stride 3, dilation 2) and every 2 columns (stride 2, dilation 3)
    checkConv(backend, 'convTranspose2d', d('convTranspose2d', { ...odd, strideH: 3, dilationH: 2, strideW: 2, dilationW: 3 }, [1, 2]), 508),
    checkConv(backend, 'convTranspose2d', d('convTranspose2d', one), 506),
    // the ∂W correlation of a grouped conv: batch 5 as channels, a 4×5 kernel of dilation (2, 1)
    checkConv(
      backend,
      'conv2d',
      d('conv2d', {
        batch: 2,
        inChannels: 10,
        height: 9,
        width: 9,
        outChannels: 6,
        kernelHeight: 4,
        kernelWidth: 5,
        strideH: 1,
        strideW: 1,
        padH: 1,
        padW: 1,
        dilationH: 2,
        dilationW: 1,
        groups: 2,
      }),
      507,
    ),
    ...Object.values(convVaeLayers(24)).map(([kind, layer], i) => checkConv(backend, kind, layer, 510 + i)),
  ];
}

/** GFLOP/s of the gpu.js backend and of the cpu reference on the benchmark shapes, in this page. */
function benchmark(): Record<string, { gpujs: number; cpu: number; mode: string }> {
  const backend = createGpujsBackend();
  const shapes: [string, number, number, number, boolean][] = [
    ['256x256x256', 256, 256, 256, false],
    ['512x512x512', 512, 512, 512, false],
    ['[128,784]x[400,784]T', 128, 784, 400, true],
  ];
  const report: Record<string, { gpujs: number; cpu: number; mode: string }> = {};
  for (const [name, m, k, n, transB] of shapes) {
    report[name] = { gpujs: matmulGflops(backend, m, k, n, transB, 1000), cpu: matmulGflops(cpuBackend, m, k, n, transB, 1000), mode: backend.info().mode };
  }
  backend.destroy();
  return report;
}

/** GFLOP/s of the gpu.js conv kernels and of the cpu reference on the conv VAE's layers, in this page. */
function convBenchmark(ms = 1000): Record<string, { gpujs: number; cpu: number; mode: string }> {
  const backend = createGpujsBackend();
  const report: Record<string, { gpujs: number; cpu: number; mode: string }> = {};
  for (const [name, [kind, layer]] of Object.entries(convVaeLayers(128))) {
    report[name] = { gpujs: convGflops(backend, kind, layer, ms), cpu: convGflops(cpuBackend, kind, layer, ms), mode: backend.info().mode };
  }
  backend.destroy();
  return report;
}

/**
 * Milliseconds per conv VAE training step (batch `batchSize` of random binary pixels, Adam) with
 * gpu.js running the `ops` families and everything else on the cpu reference: the median of
 * `steps` steps after one warm-up step (which compiles the kernels), and each step's loss.
 */
function convVaeStep(
  steps: number,
  batchSize = 128,
  ops: GpujsOp[] = ['matmul', 'conv'],
): { msPerStep: number; warmupMs: number; losses: number[]; mode: string } {
  const backend = registerGpujsBackend({ ops });
  setBackend('gpujs');
  try {
    const model = new VAE({ inputDim: 784, arch: 'conv', seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const rng = new Generator(2);
    const x = new Tensor(
      Float32Array.from({ length: batchSize * 784 }, () => (rng.uniform() < 0.2 ? 1 : 0)),
      [batchSize, 784],
    );
    const times: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i <= steps; i++) {
      const start = performance.now();
      losses.push(trainStep(model, optimizer, x, { beta: 1, rng }).loss);
      times.push(performance.now() - start);
    }
    const sorted = times.slice(1).sort((a, b) => a - b);
    return { msPerStep: sorted[Math.floor(sorted.length / 2)]!, warmupMs: times[0]!, losses, mode: backend.info().mode };
  } finally {
    setBackend('cpu');
  }
}

Object.assign(globalThis, { elboGpujs: { runChecks, benchmark, convBenchmark, convVaeStep } });
