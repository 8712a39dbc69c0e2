// Run as a child process by gpujs.test.ts: it must exit by itself after using the backend.
import { createGpujsBackend } from '../../src/kernels/gpujs.js';

const backend = createGpujsBackend();
const out = new Float32Array(4);
backend.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), out, {
  batch: 1,
  m: 2,
  k: 2,
  n: 2,
  transA: false,
  transB: false,
  aBatchStride: 0,
  bBatchStride: 0,
});
backend.unary('exp', new Float32Array([0, 1]), out.subarray(0, 2), 0, 0);
console.log(JSON.stringify({ mode: backend.info().mode, out: Array.from(out) }));
