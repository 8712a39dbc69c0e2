/**
 * The small part of the WebGPU API the lab uses, typed here (TypeScript's DOM library has no
 * WebGPU types yet). Usage flags are the spec's numbers.
 */
export const BUFFER = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
interface GpuPass {
  setPipeline(pipeline: unknown): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
interface GpuEncoder {
  beginComputePass(): GpuPass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  finish(): unknown;
}
export interface GpuDevice {
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number };
  readonly queue: { writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void; submit(buffers: unknown[]): void };
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): { getBindGroupLayout(index: number): unknown };
  createBindGroup(descriptor: { layout: unknown; entries: Array<{ binding: number; resource: { buffer: GpuBuffer } }> }): unknown;
  createCommandEncoder(): GpuEncoder;
  readonly lost: Promise<{ message: string }>;
}
export interface GpuAdapter {
  readonly info?: { vendor?: string; architecture?: string; description?: string };
  requestDevice(): Promise<GpuDevice>;
}
export interface Gpu {
  requestAdapter(): Promise<GpuAdapter | null>;
}

/** navigator.gpu, when the browser has WebGPU. */
export const navigatorGpu = (): Gpu | undefined => (navigator as unknown as { gpu?: Gpu }).gpu;

/** A short name of an adapter, e.g. "google swiftshader". */
export const adapterName = (adapter: GpuAdapter): string =>
  [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter((s) => s).join(' ') || 'unknown adapter';
