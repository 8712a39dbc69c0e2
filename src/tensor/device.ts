import { backendFor, cpuBackend } from '../kernels/index.js';
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

/**
 * Where tensors run, as the models see it: a name and a scope, nothing about the machine.
 * (The backends themselves live in `kernels/`.)
 */

/** The name of the backend tensors of `dtype` run on ('cpu', 'wasm', 'gpujs'; float64 is always 'cpu'). */
export function deviceName(dtype: DType): string {
  return backendFor(dtype).name;
}

/**
 * Runs `fn` with the long results of the ops made inside it held in the scratch memory of the
 * backend tensors of `dtype` run on (wasm: in its memory, read and written in place), reused once
 * `fn` returns; elsewhere just runs `fn`. Like tfjs's `tidy`, but nothing made inside may be used
 * after: return copies of what must live on (`Tensor.copy`). Parameters, their gradients and
 * optimizer state are not scratch: they live on.
 */
export function scratchScope<T>(dtype: DType, fn: () => T): T {
  return backendFor(dtype).memory.scope(fn);
}

/**
 * Whether every element of `t` is finite (no NaN, no ±∞), by its backend's fused check where it
 * has one (wasm: one SIMD pass, in place for arrays in its memory), else the cpu reference's.
 */
export function allFinite(t: Tensor): boolean {
  return (backendFor(t.dtype).fused.allFinite ?? cpuBackend.fused.allFinite)(t.data);
}
