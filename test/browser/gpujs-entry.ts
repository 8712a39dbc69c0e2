import { BINARY_OPS, UNARY_OPS } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { createGpujsBackend, type GpujsInfo } from '../../src/kernels/gpujs.js';
import { type Check, checkBinary, checkMatmul, checkReduce, checkUnary, matmulGflops } from '../kernels/gpujs-checks.js';

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
  const info = backend.info();
  backend.destroy();
  return { info, checks };
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

Object.assign(globalThis, { elboGpujs: { runChecks, benchmark } });
