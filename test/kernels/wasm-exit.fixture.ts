// Run as a child process by wasm.test.ts: it must exit by itself after using the threaded backend.
import { createWasmBackend } from '../../src/kernels/wasm/index.js';

const backend = createWasmBackend({ threads: 2, minParallelFlops: 0 });
await backend.ready();
const out = new Float32Array(64 * 64);
backend.matmul(new Float32Array(64 * 64).fill(1), new Float32Array(64 * 64).fill(1), out, {
  batch: 1,
  m: 64,
  k: 64,
  n: 64,
  transA: false,
  transB: false,
  aBatchStride: 0,
  bBatchStride: 0,
});
console.log(JSON.stringify({ threads: backend.info.threads, threaded: backend.stats().threaded, out: out[0] }));
