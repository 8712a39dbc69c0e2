import { availableParallelism } from 'node:os';
import type { Backend, BinaryOp, MatmulDims, ReduceOp, UnaryOp } from '../backend.js';
import { cpuBackend } from '../cpu.js';
import { registerBackend } from '../index.js';
import type { TypedArray } from '../../tensor/dtype.js';
import { binaryF32, reduceF32, unaryF32 } from './elementwise.js';
import { WasmMatmul, type WasmMatmulStats, canShareMemory, compileGemm } from './matmul.js';

export type { WasmMatmulStats } from './matmul.js';

/**
 * The 'wasm' backend: float32 matmul in WebAssembly SIMD (see `gemm.wat.ts` for the blocking
 * scheme), split across worker threads over a shared memory (see `pool.ts`); float32 unary,
 * binary and reduce as one monomorphic JS loop per op (`elementwise.ts`, bit-identical to the
 * reference). Every float64 call, the strided copy, and broadcasts or reductions that do not
 * collapse to two axes are the cpu reference's.
 */

/** What the wasm backend runs with. */
export interface WasmInfo {
  /** Threads a large matmul is split across, the calling thread included (1 without SharedArrayBuffer). */
  threads: number;
  /** Whether the engine supports 128-bit WebAssembly SIMD (required by this backend). */
  simd: boolean;
  /** Whether the fused `f32x4.relaxed_madd` kernel is used (Node 20: only with --experimental-wasm-relaxed-simd). */
  relaxedSimd: boolean;
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Total threads, the calling one included. Default: the machine's available parallelism (at most 8). */
  threads?: number;
  /** Products with fewer flops (2·batch·m·n·k) stay on the calling thread. Default 4e6 (≈ 0.1 ms). */
  minParallelFlops?: number;
  /** Use relaxed-SIMD fused multiply-add when the engine has it. Default true. */
  relaxedSimd?: boolean;
  /** Tasks per thread a parallel product is cut into: more balance when threads are preempted, more packing. Default 2. */
  tasksPerThread?: number;
  /** The name it registers under. Default 'wasm'. */
  name?: string;
}

/** A {@link Backend} with a wasm matmul, plus what it runs with and a way to stop its threads. */
export interface WasmBackend extends Backend {
  /** Threads, SIMD and relaxed SIMD in use. */
  readonly info: WasmInfo;
  /** Counters: products computed, how many were threaded, tasks run by workers. */
  stats(): WasmMatmulStats;
  /** Resolves when every worker thread has started (before that, matmuls use fewer threads). */
  ready(): Promise<void>;
  /** Stops the worker threads; the backend must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Default products below this many flops run on one thread: waking a worker costs ~20-60 µs. */
export const DEFAULT_MIN_PARALLEL_FLOPS = 4e6;

/**
 * Creates a wasm backend, synchronously (the module is small; workers boot in the background).
 * Throws if the engine lacks WebAssembly SIMD.
 *
 * @example
 * const wasm = createWasmBackend({ threads: 2 });
 * await wasm.ready();
 * registerBackend(wasm); setBackend('wasm');
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  const engine = new WasmMatmul({
    threads: Math.max(1, Math.floor(options.threads ?? Math.min(8, availableParallelism()))),
    minParallelFlops: options.minParallelFlops ?? DEFAULT_MIN_PARALLEL_FLOPS,
    relaxedSimd: options.relaxedSimd ?? true,
    tasksPerThread: options.tasksPerThread ?? 2,
  });
  const info: WasmInfo = { threads: engine.threads, simd: true, relaxedSimd: engine.relaxedSimd };
  return {
    name: options.name ?? 'wasm',
    info,
    unary(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void {
      if (x instanceof Float32Array && out instanceof Float32Array) unaryF32(op, x, out, p, q);
      else cpuBackend.unary(op, x, out, p, q);
    },
    binary(op: BinaryOp, a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], shape: readonly number[], out: TypedArray): void {
      const f32 = a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array;
      if (!f32 || !binaryF32(op, a, aStrides, b, bStrides, shape, out)) cpuBackend.binary(op, a, aStrides, b, bStrides, shape, out);
    },
    reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
      if (!(x instanceof Float32Array && out instanceof Float32Array && reduceF32(op, x, shape, axes, out))) cpuBackend.reduce(op, x, shape, axes, out);
    },
    copy: cpuBackend.copy,
    matmul(a: TypedArray, b: TypedArray, out: TypedArray, dims: MatmulDims): void {
      if (a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array && engine.matmul(a, b, out, dims)) return;
      cpuBackend.matmul(a, b, out, dims);
    },
    stats: () => engine.stats(),
    ready: () => engine.ready(),
    dispose: () => engine.dispose(),
  };
}

let shared: WasmBackend | undefined;

/**
 * Creates (once) the default wasm backend and registers it as 'wasm', so `setBackend('wasm')`
 * selects it. Later calls return the same backend and ignore `options`.
 */
export function initWasmBackend(options: Omit<WasmBackendOptions, 'name'> = {}): WasmBackend {
  if (!shared) {
    shared = createWasmBackend(options);
    registerBackend(shared);
  }
  return shared;
}

let detected: WasmInfo | undefined;

/**
 * Threads, SIMD and relaxed SIMD of the default wasm backend if it was initialised, else what
 * this engine supports (threads: what {@link initWasmBackend} would use). Cheap after the first call.
 */
export function wasmInfo(): WasmInfo {
  if (shared) return { ...shared.info };
  if (!detected) {
    const simd = compileGemm(false, false) !== undefined;
    detected = {
      threads: canShareMemory() ? Math.min(8, availableParallelism()) : 1,
      simd,
      relaxedSimd: simd && compileGemm(false, true) !== undefined,
    };
  }
  return { ...detected };
}
