/**
 * `elbo/gpujs`: the gpu.js backend (matmul, conv2d and its transpose, elementwise ops and
 * reductions as gpu.js kernels: WebGL2 or WebGPU in a browser, its webasm/cpu modes in Node).
 * Kept out of the main entry so that importing `elbo` does not load gpu.js; register it, then
 * choose it by name.
 *
 * @example
 * import { useBackend } from 'elbo';
 * import { registerGpujsBackend } from 'elbo/gpujs';
 * registerGpujsBackend();
 * useBackend('gpujs');
 *
 * @packageDocumentation
 */
export { createGpujsBackend, registerGpujsBackend, gpujsInfo, type GpujsBackend, type GpujsInfo, type GpujsOptions, type GpujsOp } from './kernels/gpujs.js';
