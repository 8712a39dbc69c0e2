import { adapterName, BUFFER, type GpuBuffer, type GpuDevice, MAP_READ, navigatorGpu } from './gpu-types.js';
import { MATMUL_WGSL, TILE } from './matmul-wgsl.js';
import { FLAG, type GpuHello, type GpuRequest, HEADER_BYTES } from './protocol.js';

/**
 * The GPU worker: owns the WebGPU device and runs matmuls for the training worker, which waits
 * for each result in Atomics.wait (see protocol.ts). Started by the page, connected to the
 * training worker by a MessagePort.
 */

interface Buffers {
  a: GpuBuffer;
  b: GpuBuffer;
  out: GpuBuffer;
  staging: GpuBuffer;
  group: unknown;
}

let device: GpuDevice | undefined;
let pipeline: ReturnType<GpuDevice['createComputePipeline']> | undefined;
let dimsBuffer: GpuBuffer | undefined;
let buffers: Buffers | undefined;
let capacity = { a: 0, b: 0, out: 0 };
let sab: SharedArrayBuffer | undefined;

async function init(): Promise<GpuHello> {
  const gpu = navigatorGpu();
  if (!gpu) return { ok: false, error: 'this browser has no WebGPU (navigator.gpu is missing)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, error: 'WebGPU is present but offers no adapter' };
  device = await adapter.requestDevice();
  void device.lost.then((info) => console.error(`webgpu: device lost: ${info.message}`));
  pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: MATMUL_WGSL }), entryPoint: 'main' } });
  dimsBuffer = device.createBuffer({ size: 32, usage: BUFFER.UNIFORM | BUFFER.COPY_DST });
  return { ok: true, adapter: adapterName(adapter), maxBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) };
}

/** Storage buffers at least as large as asked (grown to powers of two, so they are rarely remade). */
function ensureBuffers(aBytes: number, bBytes: number, outBytes: number): Buffers {
  const d = device!;
  const grow = (need: number, have: number): number => (need <= have ? have : 2 ** Math.ceil(Math.log2(Math.max(need, 256))));
  const next = { a: grow(aBytes, capacity.a), b: grow(bBytes, capacity.b), out: grow(outBytes, capacity.out) };
  if (buffers && next.a === capacity.a && next.b === capacity.b && next.out === capacity.out) return buffers;
  if (buffers) for (const buffer of [buffers.a, buffers.b, buffers.out, buffers.staging]) buffer.destroy();
  const storage = (size: number, extra: number): GpuBuffer => d.createBuffer({ size, usage: BUFFER.STORAGE | extra });
  const a = storage(next.a, BUFFER.COPY_DST);
  const b = storage(next.b, BUFFER.COPY_DST);
  const out = storage(next.out, BUFFER.COPY_SRC);
  const staging = d.createBuffer({ size: next.out, usage: BUFFER.MAP_READ | BUFFER.COPY_DST });
  const entries = [a, b, out, dimsBuffer!].map((buffer, binding) => ({ binding, resource: { buffer } }));
  const group = d.createBindGroup({ layout: pipeline!.getBindGroupLayout(0), entries });
  capacity = next;
  buffers = { a, b, out, staging, group };
  return buffers;
}

async function matmul(request: Extract<GpuRequest, { type: 'matmul' }>): Promise<void> {
  const d = device!;
  const { dims, aLen, bLen, outLen } = request;
  const buf = ensureBuffers(4 * aLen, 4 * bLen, 4 * outLen);
  // Copies out of the shared memory: WebGPU takes its uploads from ordinary buffers.
  d.queue.writeBuffer(buf.a, 0, new Float32Array(sab!, HEADER_BYTES, aLen).slice());
  d.queue.writeBuffer(buf.b, 0, new Float32Array(sab!, HEADER_BYTES + 4 * aLen, bLen).slice());
  d.queue.writeBuffer(dimsBuffer!, 0, new Uint32Array([dims.m, dims.n, dims.k, +dims.transA, +dims.transB, dims.aBatchStride, dims.bBatchStride, 0]));
  const encoder = d.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, buf.group);
  pass.dispatchWorkgroups(Math.ceil(dims.n / TILE), Math.ceil(dims.m / TILE), dims.batch);
  pass.end();
  encoder.copyBufferToBuffer(buf.out, 0, buf.staging, 0, 4 * outLen);
  d.queue.submit([encoder.finish()]);
  await buf.staging.mapAsync(MAP_READ);
  new Float32Array(sab!, HEADER_BYTES + 4 * (aLen + bLen), outLen).set(new Float32Array(buf.staging.getMappedRange(), 0, outLen));
  buf.staging.unmap();
}

function answer(flag: number, message = ''): void {
  const flags = new Int32Array(sab!, 0, 2);
  if (message) {
    const bytes = new TextEncoder().encode(message.slice(0, 1000));
    new Uint8Array(sab!, HEADER_BYTES, bytes.length).set(bytes);
    flags[1] = bytes.length;
  }
  Atomics.store(flags, 0, flag);
  Atomics.notify(flags, 0);
}

function connect(port: MessagePort): void {
  // Requests arrive one at a time: the training worker blocks until each is answered.
  port.onmessage = async (event: MessageEvent<GpuRequest>) => {
    const request = event.data;
    if (request.type === 'hello') {
      port.postMessage(await init().catch((error: Error): GpuHello => ({ ok: false, error: error.message })));
      return;
    }
    if (request.sab) sab = request.sab;
    try {
      await matmul(request);
      answer(FLAG.done);
    } catch (error) {
      answer(FLAG.failed, error instanceof Error ? error.message : String(error));
    }
  };
}

(self as unknown as { onmessage: (event: MessageEvent<{ port: MessagePort }>) => void }).onmessage = (event) => connect(event.data.port);
