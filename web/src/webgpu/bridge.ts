import type { Backend, MatmulDims } from 'elbo';
import type { TypedArray } from 'elbo';
import { FLAG, type GpuHello, type GpuRequest, HEADER_BYTES } from './protocol.js';

/**
 * The 'webgpu' backend of the lab: float32 matmuls of at least `minFlops` run on WebGPU in the
 * GPU worker (gpu-worker.ts), synchronously from the engine's point of view (protocol.ts);
 * everything else, and smaller products, run on `base`. Needs a cross-origin isolated page
 * (SharedArrayBuffer) and must run in a worker (Atomics.wait is not allowed on the main thread).
 */
export interface WebgpuBackend extends Backend {
  info(): { adapter: string; gpuMatmuls: number; baseMatmuls: number };
}

/** How long a matmul may take before the backend gives up on the GPU worker. */
const TIMEOUT_MS = 30_000;

/** Says hello to the GPU worker on `port`; resolves with the backend once it has a device. */
export async function connectWebgpu(port: MessagePort, base: Backend, minFlops = 2e6): Promise<WebgpuBackend> {
  if (typeof SharedArrayBuffer !== 'function' || !crossOriginIsolated) {
    throw new Error('webgpu: this page is not cross-origin isolated, so it cannot share memory with the GPU worker (open it through `elbo serve`)');
  }
  const hello = await new Promise<GpuHello>((resolve) => {
    port.onmessage = (event: MessageEvent<GpuHello>) => resolve(event.data);
    port.postMessage({ type: 'hello' } satisfies GpuRequest);
  });
  port.onmessage = null;
  if (!hello.ok) throw new Error(`webgpu: ${hello.error}`);
  const { adapter, maxBytes } = hello;
  let sab = new SharedArrayBuffer(HEADER_BYTES + 4096);
  let sent = false;
  const counts = { gpu: 0, base: 0 };

  function matmul(a: TypedArray, b: TypedArray, out: TypedArray, dims: MatmulDims): void {
    const flops = 2 * dims.batch * dims.m * dims.n * dims.k;
    const bytes = 4 * Math.max(a.length, b.length, out.length);
    const f32 = a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array;
    if (!f32 || flops < minFlops || bytes > maxBytes || dims.batch > 65535) {
      counts.base++;
      return base.matmul(a, b, out, dims);
    }
    const need = HEADER_BYTES + 4 * (a.length + b.length + out.length);
    if (need > sab.byteLength) {
      sab = new SharedArrayBuffer(2 ** Math.ceil(Math.log2(need)));
      sent = false;
    }
    new Float32Array(sab, HEADER_BYTES, a.length).set(a);
    new Float32Array(sab, HEADER_BYTES + 4 * a.length, b.length).set(b);
    const flags = new Int32Array(sab, 0, 2);
    Atomics.store(flags, 0, FLAG.pending);
    const request: GpuRequest = { type: 'matmul', dims, aLen: a.length, bLen: b.length, outLen: out.length };
    port.postMessage(sent ? request : { ...request, sab });
    sent = true;
    if (Atomics.wait(flags, 0, FLAG.pending, TIMEOUT_MS) === 'timed-out') throw new Error(`webgpu: no answer from the GPU worker in ${TIMEOUT_MS / 1000} s`);
    if (Atomics.load(flags, 0) === FLAG.failed) {
      const message = new TextDecoder().decode(new Uint8Array(sab, HEADER_BYTES, flags[1]).slice());
      throw new Error(`webgpu: the matmul failed on the GPU: ${message}`);
    }
    out.set(new Float32Array(sab, HEADER_BYTES + 4 * (a.length + b.length), out.length));
    counts.gpu++;
  }

  return {
    name: 'webgpu',
    unary: base.unary,
    binary: base.binary,
    reduce: base.reduce,
    copy: base.copy,
    memory: base.memory,
    fused: base.fused,
    matmul,
    info: () => ({ adapter, gpuMatmuls: counts.gpu, baseMatmuls: counts.base }),
  };
}
