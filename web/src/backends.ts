import { cpuBackend, getBackend, registerBackend, setBackend } from 'elbo';
import { createGpujsBackend, type GpujsBackend } from 'elbo/gpujs';
import { createWasmBackend, wasmInfo, type WasmBackend } from 'elbo';
import type { MatmulDims } from 'elbo';
import { Generator } from 'elbo';
import type { BackendCheck, LabBackend } from './protocol.js';
import { connectWebgpu, type WebgpuBackend } from './webgpu/bridge.js';

/**
 * The lab's kernel backends, created on first use inside the training worker:
 * - 'gpujs': the engine's gpu.js backend, matmuls and convolutions only (every call copies in
 *   and out, so the small elementwise ops are faster on the JS loops); WebGL2 where the browser has it;
 * - 'webgpu': matmuls on WebGPU through the GPU worker (webgpu/bridge.ts);
 * - 'wasm': the engine's WebAssembly SIMD backend, on every core (the page is cross-origin
 *   isolated, so its thread pool of Web Workers shares memory with this worker);
 * - 'cpu': the plain-JavaScript reference.
 * float64 models always run on the cpu reference, whatever is active.
 */

let gpujs: GpujsBackend | undefined;
let wasm: WasmBackend | undefined;
let webgpu: WebgpuBackend | undefined;

export const wasmAvailable = (): boolean => wasmInfo().simd;

const wasmBackend = (): WasmBackend => {
  if (!wasmAvailable()) throw new Error('wasm: this browser has no WebAssembly SIMD');
  if (!wasm) registerBackend((wasm = createWasmBackend()));
  return wasm;
};

/** Makes `name` the active backend (for webgpu, `port` reaches the GPU worker). */
export async function activate(name: LabBackend, port?: MessagePort): Promise<void> {
  if (name === 'wasm') wasmBackend();
  if (name === 'gpujs' && !gpujs) registerBackend((gpujs = createGpujsBackend({ ops: ['matmul', 'conv'] })));
  if (name === 'webgpu' && !webgpu) {
    if (!port) throw new Error('webgpu: no connection to the GPU worker');
    registerBackend((webgpu = await connectWebgpu(port, wasmAvailable() ? wasmBackend() : cpuBackend)));
  }
  setBackend(name);
}

/** The active backend as the page shows it: what it really runs on. */
export function describeBackend(): { name: LabBackend; detail: string } {
  const active = getBackend();
  if (active === gpujs) {
    const info = gpujs.info();
    return { name: 'gpujs', detail: `gpu.js ${info.mode}${info.fallbacks ? `, ${info.fallbacks} shapes on cpu` : ''} (matmul, conv)` };
  }
  if (active === webgpu) {
    const info = webgpu.info();
    return {
      name: 'webgpu',
      detail: `WebGPU on ${info.adapter} (${info.gpuMatmuls} matmuls on the GPU, ${info.baseMatmuls} small ones on ${wasm ? 'wasm' : 'cpu'})`,
    };
  }
  if (active === wasm) return { name: 'wasm', detail: `WebAssembly SIMD, ${wasm.info.threads} thread${wasm.info.threads === 1 ? '' : 's'}` };
  return { name: 'cpu', detail: 'plain JavaScript (the cpu reference)' };
}

/**
 * Checks the active backend's float32 matmul against the float64 cpu reference on the four
 * transpose combinations (with a batch sharing one A, one sharing one B), at a size the GPU
 * backends do run on the GPU: the worst |out − ref| / (2·k·u·Σₚ|A||B|), u = 2⁻²⁴, float32's
 * dot-product error bound (as test/kernels/gpujs-checks.ts); ≤ 1 passes.
 */
export function checkMatmul(): BackendCheck {
  const backend = getBackend();
  const rng = new Generator(7);
  const [m, k, n] = [48, 160, 136]; // 2·m·k·n ≈ 2.1 Mflop: above the webgpu bridge's threshold
  const layouts: Array<[boolean, boolean, number, boolean, boolean]> = [
    [false, false, 1, false, false],
    [false, true, 2, false, true],
    [true, false, 2, true, false],
    [true, true, 2, false, false],
  ];
  let worst = 0;
  for (const [transA, transB, batch, aShared, bShared] of layouts) {
    const dims: MatmulDims = { batch, m, k, n, transA, transB, aBatchStride: aShared ? 0 : m * k, bBatchStride: bShared ? 0 : k * n };
    const a = Float32Array.from({ length: (aShared ? 1 : batch) * m * k }, () => rng.normal());
    const b = Float32Array.from({ length: (bShared ? 1 : batch) * k * n }, () => rng.normal());
    const out = new Float32Array(batch * m * n);
    backend.matmul(a, b, out, dims);
    const ref = new Float64Array(out.length);
    const magnitude = new Float64Array(out.length);
    cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, dims);
    cpuBackend.matmul(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), magnitude, dims);
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!) / (2 * k * 2 ** -24 * magnitude[i]! + 2 ** -126));
  }
  return { backend: describeBackend().name, cases: layouts.length, worst };
}
