import type { AdamStep, Backend, BinaryOp, Conv2dDims, Kernels, MatmulDims, ReduceOp, UnaryOp } from '../backend.js';
import { WasmConv } from './conv.js';
import { WasmVector } from './vector.js';
import { SCALAR_OPS, SIMD_OPS, type SimdOp } from './vector.wat.js';
import { cpuBackend } from '../cpu.js';
import { registerBackend } from '../index.js';
import { type DType, EMPTY_MIN, type TypedArray } from '../../tensor/dtype.js';
import { HostMemory } from '../memory.js';
import { wasmHost } from './host.js';
import { WasmMatmul, type WasmMatmulStats, canShareMemory, compileGemm } from './matmul.js';

export type { WasmMatmulStats } from './matmul.js';

/**
 * The 'wasm' backend: float32 matmul in WebAssembly SIMD (see `gemm.wat.ts` for the blocking
 * scheme), split across worker threads over a shared memory (see `pool.ts`); the bias of a
 * linear layer, Adam's update, ReLU and its gradient, and eˣ, σ, softplus, ln σ and BCE with logits
 * in SIMD too (`vector.wat.ts`), whose float32 results equal the reference's bit for bit;
 * conv2d and its transpose as products on the same threaded GEMM (`conv.ts`: im2col / col2im).
 * Other elementwise ops, reductions and the strided copy (on merged axes) are the cpu
 * reference's loops (`../loops.ts`): copying into wasm memory and back would cost as much as these memory-bound
 * loops. Every float64 call runs on the reference.
 */

/** What the wasm backend runs with. */
export interface WasmInfo {
  /** Threads a large matmul is split across, the calling thread included (1 without SharedArrayBuffer). */
  threads: number;
  /** Whether the engine supports 128-bit WebAssembly SIMD (required by this backend). */
  simd: boolean;
  /**
   * Whether the fused `f32x4.relaxed_madd` kernel is used: standard relaxed SIMD, which Node 20
   * keeps behind a V8 flag that the backend turns on before its first compile (ELBO_RELAXED_SIMD=0
   * keeps it off).
   */
  relaxedSimd: boolean;
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Total threads, the calling one included. Default: the machine's available parallelism (at most 8). */
  threads?: number;
  /** Products with fewer flops (2·batch·m·n·k) stay on the calling thread. Default 1e6 (≈ 25 µs on one thread). */
  minParallelFlops?: number;
  /** Use relaxed-SIMD fused multiply-add (f32x4.relaxed_madd) when the engine has it or can turn it on. Default true. */
  relaxedSimd?: boolean;
  /** Tasks per thread a parallel product is cut into: more balance when threads are preempted, more packing. Default 2. */
  tasksPerThread?: number;
  /** The name it registers under. Default 'wasm'. */
  name?: string;
  /**
   * Whether a large product skips the zeros of a sparse operand (an input batch of digits, ReLU
   * activations), element by element: 'auto' (default) when a sample of it is at least 30% zeros
   * (50% for a result 128-255 columns wide) and the other operand is finite, 'always' whenever the
   * other is finite (tests), 'off' never. The result is the same.
   */
  skipZeros?: 'auto' | 'always' | 'off';
}

/** A {@link Backend} with a wasm matmul and conv kernels, plus what it runs with and a way to stop its threads. */
export interface WasmBackend extends Backend {
  /** conv2d in float32 on the threaded GEMM (see {@link Kernels.conv2d}). */
  conv2d(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void;
  /** convTranspose2d in float32 on the threaded GEMM (see {@link Kernels.convTranspose2d}). */
  convTranspose2d(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void;
  /** Threads, SIMD and relaxed SIMD in use. */
  readonly info: WasmInfo;
  /** Counters: products computed, how many were threaded, tasks run by workers. */
  stats(): WasmMatmulStats;
  /** Resolves when every worker thread has started (before that, matmuls use fewer threads). */
  ready(): Promise<void>;
  /** Stops the worker threads; the backend must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Arrays at least this long take the SIMD loops of `vector.wat.ts`; shorter ones the same formulas in JS. */
const SIMD_MIN = 64;
const SIMD_SET = new Set<string>(SIMD_OPS);
const hasSimd = (op: string): op is SimdOp => SIMD_SET.has(op);

/**
 * Whether an operand of `length` elements with these broadcast strides over `shape` is one
 * contiguous block repeated along the leading axes: strides 0 on a leading run of axes, the
 * block's own row-major strides on the rest (size-1 axes may have any stride).
 */
function repeatsAlongLeadingAxes(strides: readonly number[], shape: readonly number[], length: number): boolean {
  let expected = 1;
  let axis = shape.length - 1;
  for (; axis >= 0 && expected < length; axis--) {
    if (shape[axis] !== 1 && strides[axis] !== expected) return false;
    expected *= shape[axis]!;
  }
  if (expected !== length) return false;
  for (; axis >= 0; axis--) if (shape[axis] !== 1 && strides[axis] !== 0) return false;
  return true;
}

/**
 * A sum over the axes before and after a run of kept ones, x seen as [before, kept, after]
 * (size-1 axes aside): a convolution's bias gradient, [batch, channels, h, w] summed over all but
 * the channels. Each out[k] sums x[b, k, a] over b, then a, in float64: the reference's summands
 * in the reference's order (it moves the kept axes first and walks the rest row-major), so the
 * result is the same bit for bit, without the reference's copy of x. False for any other layout.
 */
function sumAroundKept(x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): boolean {
  // The runs of reduced (true) and kept (false) axes, size-1 axes dropped, with their sizes.
  const runs: Array<{ reduced: boolean; size: number }> = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const reduced = axes.includes(axis);
    const last = runs.at(-1);
    if (last?.reduced === reduced) last.size *= size;
    else runs.push({ reduced, size });
  });
  if (runs.length !== 3 || !runs[0]!.reduced) return false;
  const [before, kept, after] = [runs[0]!.size, runs[1]!.size, runs[2]!.size];
  for (let k = 0; k < kept; k++) {
    let s = 0;
    for (let b = 0; b < before; b++) {
      const base = (b * kept + k) * after;
      for (let a = 0; a < after; a++) s += x[base + a]!;
    }
    out[k] = s;
  }
  return true;
}

/**
 * Default products below this many flops run on one thread. Waking a sleeping worker costs
 * 20-700 µs, but in a training step the products come back to back and the worker is still
 * spinning (pool.ts), so the VAE's 2 MFLOP latent-layer products (128·400·20, nine a step) gain
 * from two threads too: the step on 2 threads ran 3.5% and 5.4% faster at 1e6 than at 4e6 (two
 * runs of 1,500 steps alternating with the old threshold in one process, 2026-12-06). A wake-up
 * a worker has not taken is taken back, so a sleeping worker costs a notify, not the wait.
 */
export const DEFAULT_MIN_PARALLEL_FLOPS = 1e6;

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
    threads: Math.max(1, Math.floor(options.threads ?? Math.min(8, wasmHost().cores()))),
    minParallelFlops: options.minParallelFlops ?? DEFAULT_MIN_PARALLEL_FLOPS,
    relaxedSimd: options.relaxedSimd ?? true,
    tasksPerThread: options.tasksPerThread ?? 2,
    skipZeros: options.skipZeros ?? 'auto',
  });
  const vector = new WasmVector(engine);
  /**
   * out = op(a, b) by a SIMD loop when a is whole (n floats) and b is whole too, one float (the
   * op's scalar loop), or one block repeated along the leading axes (a per-image term against k
   * samples of each image, IWAE's [k, batch, 784] against [batch, 784]: one loop per repeat, b
   * copied in once). False, having done nothing, otherwise.
   */
  const simdBinary = (op: SimdOp, a: Float32Array, b: Float32Array, bStrides: readonly number[], shape: readonly number[], out: Float32Array): boolean => {
    const n = out.length;
    if (a.length !== n) return false;
    if (b.length === n) return vector.elementwise(op, a, b, out);
    const scalarOp = SCALAR_OPS[op];
    if (b.length === 1) return scalarOp !== undefined && vector.elementwise(scalarOp, a, b, out);
    return b.length % 8 === 0 && repeatsAlongLeadingAxes(bStrides, shape, b.length) && vector.elementwise(op, a, b, out, n / b.length);
  };
  const conv = new WasmConv(engine);
  const info: WasmInfo = { threads: engine.threads, simd: true, relaxedSimd: engine.relaxedSimd };
  return {
    name: options.name ?? 'wasm',
    info,
    unary(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void {
      const simd = x.length >= SIMD_MIN && x instanceof Float32Array && out instanceof Float32Array && hasSimd(op);
      if (!simd || !vector.elementwise(op, x, undefined, out)) cpuBackend.unary(op, x, out, p, q);
    },
    binary(
      op: BinaryOp,
      a: TypedArray,
      aStrides: readonly number[],
      b: TypedArray,
      bStrides: readonly number[],
      shape: readonly number[],
      out: TypedArray,
    ): void {
      const n = out.length;
      const f32 = hasSimd(op) && n >= SIMD_MIN && a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array;
      if (f32 && simdBinary(op, a, b, bStrides, shape, out)) return;
      // a + b = b + a and a·b = b·a exactly in IEEE arithmetic: a broadcast or scalar a goes second.
      if (f32 && (op === 'add' || op === 'mul') && b.length === n && a.length < n && simdBinary(op, b, a, aStrides, shape, out)) return;
      cpuBackend.binary(op, a, aStrides, b, bStrides, shape, out);
    },
    reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
      // A sum over the leading axes (a bias gradient): SIMD, float64 sums in the reference's order.
      const rows = axes.reduce((r, a) => r * shape[a]!, 1);
      const leading = axes.every((a, i) => a === i) && rows > 1 && out.length >= 4 && x.length >= SIMD_MIN;
      if (op === 'sum' && leading && x instanceof Float32Array && out instanceof Float32Array && vector.colSum(x, rows, out.length, out)) return;
      if (op === 'sum' && sumAroundKept(x, shape, axes, out)) return;
      // A sum over the trailing axes (a per-example log-likelihood over pixels): SIMD, float64 sums
      // in the reference's order, 8 rows at a time; the last rows mod 8 by the reference.
      const trailing = axes.length > 0 && axes.every((a, i) => a === shape.length - axes.length + i);
      const rowLength = rows; // the product of the reduced axes, here the last ones
      const outer = out.length - (out.length % 8);
      const f32 = x instanceof Float32Array && out instanceof Float32Array && x.length === out.length * rowLength;
      if (op === 'sum' && trailing && f32 && outer > 0 && rowLength >= 4 && x.length >= SIMD_MIN) {
        // out itself when whole: a resident out is then written in place, not copied back.
        if (vector.rowSum(x, outer, rowLength, outer === out.length ? out : out.subarray(0, outer))) {
          const rest = out.length - outer;
          if (rest > 0) cpuBackend.reduce(op, x.subarray(outer * rowLength), [rest, rowLength], [1], out.subarray(outer));
          return;
        }
      }
      cpuBackend.reduce(op, x, shape, axes, out);
    },
    copy: cpuBackend.copy,
    linear(x: TypedArray, weight: TypedArray, bias: TypedArray, out: TypedArray, m: number, k: number, n: number): void {
      const dims = { batch: 1, m, k, n, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
      const f32 = x instanceof Float32Array && weight instanceof Float32Array && bias instanceof Float32Array && out instanceof Float32Array;
      if (!f32 || !engine.matmul(x, weight, out, dims, bias)) cpuBackend.linear(x, weight, bias, out, m, k, n);
    },
    memory: new WasmMemory(engine),
    fused: {
      adam(theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, step: AdamStep): void {
        const f32 = theta instanceof Float32Array && grad instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array;
        if (!f32 || !vector.adam(theta, grad, m, v, step)) cpuBackend.fused.adam(theta, grad, m, v, step);
      },
      allFinite: (x: TypedArray): boolean => (x instanceof Float32Array ? vector.allFinite(x) : undefined) ?? cpuBackend.fused.allFinite(x),
    },
    matmul(a: TypedArray, b: TypedArray, out: TypedArray, dims: MatmulDims): void {
      if (a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array && engine.matmul(a, b, out, dims)) return;
      cpuBackend.matmul(a, b, out, dims);
    },
    conv2d(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void {
      if (x instanceof Float32Array && weight instanceof Float32Array && out instanceof Float32Array && conv.conv2d(x, weight, out, dims)) return;
      cpuBackend.conv2d(x, weight, out, dims);
    },
    convTranspose2d(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void {
      if (x instanceof Float32Array && weight instanceof Float32Array && out instanceof Float32Array && conv.convTranspose2d(x, weight, out, dims)) return;
      cpuBackend.convTranspose2d(x, weight, out, dims);
    },
    stats: () => engine.stats(),
    ready: () => engine.ready(),
    dispose: () => engine.dispose(),
  };
}

/**
 * The wasm backend's memory: long-lived arrays kept inside the WebAssembly memory (read and
 * updated there in place), long float32 results of a scope taken from its scratch arena, the
 * rest host memory.
 */
class WasmMemory extends HostMemory {
  constructor(private readonly engine: WasmMatmul) {
    super();
  }

  override empty(dtype: DType, size: number): TypedArray {
    const target = this.takeTarget(dtype, size);
    if (target !== undefined) return target;
    if (dtype === 'float32' && size >= EMPTY_MIN) return this.engine.scratchArray(size) ?? super.empty(dtype, size);
    return super.empty(dtype, size);
  }

  override keep(x: TypedArray): TypedArray {
    return x instanceof Float32Array ? (this.engine.keep(x) ?? x) : x;
  }

  override isKept(x: TypedArray): boolean {
    return x instanceof Float32Array && this.engine.addressOf(x) !== undefined;
  }

  override persist(x: TypedArray): TypedArray {
    return x instanceof Float32Array && this.engine.isScratch(x) ? x.slice() : x;
  }

  override scope<T>(fn: () => T): T {
    return this.engine.scope(fn);
  }
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
 * this engine supports (threads: what the default backend would use). Cheap after the first call.
 */
export function wasmInfo(): WasmInfo {
  if (shared) return { ...shared.info };
  if (!detected) {
    const simd = compileGemm(false, false) !== undefined;
    detected = {
      threads: canShareMemory() && wasmHost().startWorker ? Math.min(8, wasmHost().cores()) : 1,
      simd,
      relaxedSimd: simd && compileGemm(false, true) !== undefined,
    };
  }
  return { ...detected };
}
