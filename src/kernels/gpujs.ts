import { CPUKernel, GPU, HeadlessGLKernel, WebAssemblyKernel, WebGL2Kernel, WebGLKernel, type IKernelRunShortcut, type KernelOutput } from 'gpu.js';
import type { TypedArray } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import type { Backend, BinaryOp, Conv2dDims, MatmulDims, ReduceOp, UnaryOp } from './backend.js';
import { cpuBackend } from './cpu.js';
import { binarySource, conv2dSource, convConstants, convTranspose2dSource, matmulSource, reduceSource, unarySource, type Operand } from './gpujs-sources.js';
import { getBackend, registerBackend, setBackend } from './index.js';

/**
 * The gpu.js backend: matmul, conv2d and convTranspose2d, unary, binary (same shape or with a
 * scalar side) and reductions over one contiguous block of axes run as gpu.js kernels; everything
 * else (general broadcasting, copy) runs on the cpu reference. gpu.js picks its engine: WebGL2 (or WebGL) in
 * a browser, WebAssembly (`webasm`) in Node, plain JavaScript (`cpu`) as the last resort.
 *
 * Four gpu.js facts shape the code:
 * - a kernel's `constants` (sizes, strides) are compiled in, so kernels are cached per shape;
 * - gpu.js silently caps a loop bounded by an argument at `loopMaxIterations` (1000); every
 *   loop here is bounded by a constant, which it leaves alone (tested with k > 1000 on webasm
 *   and webgl2), and each kernel raises the cap past its longest loop all the same;
 * - results are copied into the caller's `out` at once: nothing gpu.js owns (a reused output
 *   buffer, a texture) ever backs a tensor, so no later kernel call can overwrite saved values;
 * - a kernel gpu.js cannot build for a shape (say a texture over the device limit) is counted
 *   in {@link GpujsInfo.fallbacks} and that shape runs on the cpu reference from then on.
 */

/** Options for {@link createGpujsBackend}. */
export interface GpujsOptions {
  /** The gpu.js mode: 'gpu' (default: the best gpu.js finds), 'webgl2', 'webgl', 'webasm', 'cpu'. */
  mode?: 'gpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';
  /** How many compiled kernels to keep (the least recently used are destroyed first). Default 256. */
  maxKernels?: number;
  /**
   * Which kernel families run on gpu.js (default all five); the others run on the cpu reference.
   * Every call copies its inputs in and its result out, so where the engine is the CPU anyway
   * (webasm, cpu, or a software WebGL) only `['matmul', 'conv']` gain on the reference.
   */
  ops?: readonly GpujsOp[];
}

/** The kernel families the gpu.js backend can run ('conv': conv2d and convTranspose2d). */
export type GpujsOp = 'matmul' | 'conv' | 'unary' | 'binary' | 'reduce';

/** What the backend really runs on, from the kernels gpu.js actually built. */
export interface GpujsInfo {
  /** The engine of the most recently built kernel ('webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'), or the one gpu.js chose if none is built yet. */
  mode: string;
  /** The mode asked for ('gpu' when left to gpu.js). */
  requested: string;
  /** Every engine a kernel has been built on so far (more than one means gpu.js fell back for some kernels). */
  modesSeen: string[];
  /** Compiled kernels in the cache. */
  kernels: number;
  /** Shapes that gpu.js failed to build a kernel for, now run by the cpu reference. */
  fallbacks: number;
}

/** A {@link Backend} on gpu.js, with a report of the engine it runs on and a way to free it. */
export interface GpujsBackend extends Backend {
  /** What the backend runs on; see {@link GpujsInfo}. */
  info(): GpujsInfo;
  /** Destroys every compiled kernel and the gpu.js instance (a later call makes a new one). */
  destroy(): void;
}

type Kernel = IKernelRunShortcut;
/** Calls a kernel; gpu.js's own call signature is too broad (it admits textures and images). */
const call = (k: Kernel, args: unknown[]): KernelOutput => (k as unknown as (...a: unknown[]) => KernelOutput)(...args);
type KernelClass = { new (...args: never[]): unknown };

/** The engine name of a gpu.js kernel class; subclasses are tested first (WebGL2Kernel extends WebGLKernel). */
const ENGINES: [KernelClass, string][] = [
  [HeadlessGLKernel as KernelClass, 'headlessgl'],
  [WebGL2Kernel as KernelClass, 'webgl2'],
  [WebGLKernel as KernelClass, 'webgl'],
  [WebAssemblyKernel as KernelClass, 'webasm'],
  [CPUKernel as KernelClass, 'cpu'],
];
const engineOfInstance = (k: unknown): string => ENGINES.find(([cls]) => k instanceof cls)?.[1] ?? 'unknown';
const engineOfClass = (cls: unknown): string => ENGINES.find(([c]) => cls === c || (typeof cls === 'function' && cls.prototype instanceof c))?.[1] ?? 'unknown';

/** Copies a gpu.js result (a Float32Array, or rows of them, or planes of rows) into `out` from `at`; returns the next index. */
function copyOut(result: KernelOutput | Float32Array | readonly unknown[], out: TypedArray, at = 0): number {
  if (result instanceof Float32Array) {
    out.set(result.length > out.length - at ? result.subarray(0, out.length - at) : result, at);
    return at + result.length;
  }
  if (Array.isArray(result)) {
    for (const part of result as unknown[]) at = copyOut(part as Float32Array, out, at);
    return at;
  }
  throw new Error(`gpujs: unexpected kernel result ${Object.prototype.toString.call(result)}`);
}

/** GLSL kernels keep running indices in float32, exact only up to 2²⁴: larger inputs stay on the cpu. */
const MAX_INDEX = 2 ** 24;

/** What a kernel is built from: its source, output size ([columns, rows, planes]), constants and longest loop. */
interface KernelSpec {
  source: string;
  output: number[];
  constants?: Record<string, number>;
  loop?: number;
}

/**
 * Creates a gpu.js backend named 'gpujs'. The gpu.js instance is made on the first kernel call,
 * so creating (and registering) the backend costs nothing until it is used.
 */
export function createGpujsBackend(options: GpujsOptions = {}): GpujsBackend {
  const requested = options.mode ?? 'gpu';
  const maxKernels = options.maxKernels ?? 256;
  const on = new Set<GpujsOp>(options.ops ?? ['matmul', 'conv', 'unary', 'binary', 'reduce']);
  let gpu: GPU | undefined;
  const cache = new Map<string, Kernel | 'cpu'>();
  const modesSeen = new Set<string>();
  let lastMode: string | undefined;
  let fallbacks = 0;

  const instance = (): GPU => (gpu ??= new GPU(requested === 'gpu' ? {} : { mode: requested }));

  /** Builds the kernel `spec` describes and runs it once on `args`; 'cpu' (with a warning) if gpu.js cannot. */
  function build(key: string, s: KernelSpec, args: unknown[]): { kernel: Kernel | 'cpu'; result?: KernelOutput } {
    const gpuInstance = instance(); // an unsupported `mode` throws here, for every call
    let k: Kernel | undefined;
    try {
      k = gpuInstance.createKernel(s.source).setOutput(s.output).setPrecision('single').setTactic('precision');
      k.setLoopMaxIterations(Math.max(1000, (s.loop ?? 0) + 1));
      if (s.constants) k.setConstants(s.constants);
      const result = call(k, args);
      lastMode = engineOfInstance(k.kernel);
      modesSeen.add(lastMode);
      return { kernel: k, result };
    } catch (error) {
      k?.destroy();
      fallbacks++;
      console.warn(`gpujs: cannot build ${key} (${String((error as Error).message ?? error).split('\n')[0]}); it runs on cpu`);
      return { kernel: 'cpu' };
    }
  }

  /** Runs the cached kernel for `key` (built from `spec()` on a miss) into `out`; false when that shape runs on the cpu. */
  function run(key: string, spec: () => KernelSpec, args: unknown[], out: TypedArray): boolean {
    let k = cache.get(key);
    let result: KernelOutput | undefined;
    if (k === undefined) {
      ({ kernel: k, result } = build(key, spec(), args));
      if (cache.size >= maxKernels) {
        const [oldKey, old] = cache.entries().next().value as [string, Kernel | 'cpu'];
        cache.delete(oldKey);
        if (old !== 'cpu') old.destroy();
      }
      cache.set(key, k);
    } else {
      cache.delete(key); // re-insert: the Map's order is least recently used first
      cache.set(key, k);
      if (k !== 'cpu') result = call(k, args);
    }
    if (k === 'cpu') return false;
    copyOut(result, out);
    return true;
  }

  const isF32 = (...xs: TypedArray[]): boolean => xs.every((x) => x instanceof Float32Array);

  function unary(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void {
    if (!on.has('unary') || !isF32(x, out) || x.length === 0) return cpuBackend.unary(op, x, out, p, q);
    const n = x.length;
    const key = op === 'pow' ? `unary:pow^${p}:${n}` : `unary:${op}:${n}`;
    if (!run(key, () => ({ source: unarySource(op, p), output: [n] }), [x, p, q], out)) cpuBackend.unary(op, x, out, p, q);
  }

  function binary(
    op: BinaryOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    shape: readonly number[],
    out: TypedArray,
  ): void {
    const n = out.length;
    const kind = (x: TypedArray): Operand | undefined => (x.length === n ? 'array' : x.length === 1 ? 'scalar' : undefined);
    const ka = kind(a);
    const kb = kind(b);
    if (!on.has('binary') || !isF32(a, b, out) || n === 0 || !ka || !kb || (ka === 'scalar' && kb === 'scalar' && n !== 1)) {
      return cpuBackend.binary(op, a, aStrides, b, bStrides, shape, out);
    }
    const arg = (x: TypedArray, k: Operand): number | TypedArray => (k === 'scalar' ? x[0]! : x);
    const key = `binary:${op}:${ka}:${kb}:${n}`;
    if (!run(key, () => ({ source: binarySource(op, ka, kb), output: [n] }), [arg(a, ka), arg(b, kb)], out)) {
      cpuBackend.binary(op, a, aStrides, b, bStrides, shape, out);
    }
  }

  function reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
    const contiguous = axes.every((axis, i) => i === 0 || axis === axes[i - 1]! + 1);
    if (
      !on.has('reduce') ||
      !isF32(x, out) ||
      x.length === 0 ||
      x.length > MAX_INDEX ||
      axes.length === 0 ||
      !contiguous ||
      (op === 'max' && (x as Float32Array).some(Number.isNaN))
    ) {
      return cpuBackend.reduce(op, x, shape, axes, out);
    }
    const prod = (from: number, to: number): number => sizeOf(shape.slice(from, to));
    const outer = prod(0, axes[0]!);
    const r = prod(axes[0]!, axes[axes.length - 1]! + 1);
    const inner = prod(axes[axes.length - 1]! + 1, shape.length);
    const key = `reduce:${op}:${outer}x${r}x${inner}`;
    const spec = (): KernelSpec => ({ source: reduceSource(op), output: [inner, outer], constants: { r, inner, block: r * inner }, loop: r });
    if (!run(key, spec, [x], out)) cpuBackend.reduce(op, x, shape, axes, out);
  }

  function matmul(a: TypedArray, b: TypedArray, out: TypedArray, d: MatmulDims): void {
    const { batch, m, k, n, transA, transB } = d;
    if (!on.has('matmul') || !isF32(a, b, out) || batch * m * n === 0 || k === 0 || Math.max(a.length, b.length) > MAX_INDEX)
      return cpuBackend.matmul(a, b, out, d);
    const key = `matmul:${batch}:${m}x${k}x${n}:${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}:${d.aBatchStride},${d.bBatchStride}:${a.length},${b.length}`;
    const spec = (): KernelSpec => ({
      source: matmulSource(batch > 1),
      output: batch > 1 ? [n, m, batch] : [n, m],
      // A is [m, k] (row i at i·k) or, transposed, [k, m] (row i is column i: step m); likewise B.
      constants: {
        k,
        aRow: transA ? 1 : k,
        aStep: transA ? m : 1,
        bCol: transB ? k : 1,
        bStep: transB ? 1 : n,
        aBatch: d.aBatchStride,
        bBatch: d.bBatchStride,
      },
      loop: k,
    });
    if (!run(key, spec, [a, b], out)) cpuBackend.matmul(a, b, out, d);
  }

  /**
   * conv2d or convTranspose2d (`kind`) as one gather kernel, output [width, height, batch·outC]
   * in gpu.js's (x, y, z) order, its sizes compiled in (convConstants).
   */
  function conv(kind: 'conv2d' | 'convTranspose2d', x: TypedArray, weight: TypedArray, out: TypedArray, d: Conv2dDims): void {
    const reference = cpuBackend[kind];
    const sizes = [x.length, weight.length, out.length];
    // floorDiv in the sources splits thread.z = n·outC + o exactly while it stays below 2²¹
    if (!on.has('conv') || !isF32(x, weight, out) || sizes.includes(0) || Math.max(...sizes) > MAX_INDEX || d.batch * d.outChannels > 2 ** 21)
      return reference(x, weight, out, d);
    const inPerGroup = d.inChannels / d.groups; // the longest loop runs over one group's channels or a kernel's taps
    const key = `${kind}:${d.batch}:${d.inChannels}x${d.height}x${d.width}>${d.outChannels}x${d.outHeight}x${d.outWidth}:k${d.kernelHeight}x${d.kernelWidth}:s${d.strideH},${d.strideW}:p${d.padH},${d.padW}:d${d.dilationH},${d.dilationW}:g${d.groups}`;
    const spec = (): KernelSpec => ({
      source: kind === 'conv2d' ? conv2dSource() : convTranspose2dSource(),
      output: [d.outWidth, d.outHeight, d.batch * d.outChannels],
      constants: convConstants(kind, d),
      loop: Math.max(inPerGroup, d.kernelHeight, d.kernelWidth),
    });
    if (!run(key, spec, [x, weight], out)) reference(x, weight, out, d);
  }

  return {
    name: 'gpujs',
    unary,
    binary,
    reduce,
    matmul,
    conv2d: (x, weight, out, d) => conv('conv2d', x, weight, out, d),
    convTranspose2d: (x, weight, out, d) => conv('convTranspose2d', x, weight, out, d),
    copy: cpuBackend.copy,
    memory: cpuBackend.memory,
    fused: {},
    info: () => ({
      mode: lastMode ?? engineOfClass(instance().Kernel),
      requested,
      modesSeen: [...modesSeen],
      kernels: [...cache.values()].filter((k) => k !== 'cpu').length,
      fallbacks,
    }),
    destroy(): void {
      for (const k of cache.values()) if (k !== 'cpu') k.destroy();
      cache.clear();
      void gpu?.destroy();
      gpu = undefined;
    },
  };
}

let registered: GpujsBackend | undefined;

/**
 * Registers a gpu.js backend as 'gpujs' (then `setBackend('gpujs')` selects it) and returns it.
 * The gpu.js instance is created lazily, on the first kernel that runs. Without options a
 * backend already registered is kept; with options a new one replaces it (and, if the old one
 * was active, becomes active) and the old one is destroyed.
 * @example registerGpujsBackend(); setBackend('gpujs'); gpujsInfo().mode // 'webasm' in Node
 */
export function registerGpujsBackend(options?: GpujsOptions): GpujsBackend {
  if (registered && options === undefined) return registered;
  const previous = registered;
  registered = createGpujsBackend(options);
  registerBackend(registered);
  if (previous) {
    if (getBackend() === previous) setBackend(registered.name);
    previous.destroy();
  }
  return registered;
}

/**
 * What a gpu.js backend really runs on: `backend` if given, else the one
 * {@link registerGpujsBackend} made (registering a default one if there is none yet).
 */
export function gpujsInfo(backend?: GpujsBackend): GpujsInfo {
  return (backend ?? registered ?? registerGpujsBackend()).info();
}

/**
 * The mode gpu.js really runs `backend` in ('webgl2', 'webasm', …), learnt by building and running
 * one tiny kernel (a 2×2 product): gpu.js picks its mode when it first compiles, not before.
 */
export function probeGpujsMode(backend: GpujsBackend): string {
  const dims = { batch: 1, m: 2, k: 2, n: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
  backend.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), new Float32Array(4), dims);
  return backend.info().mode;
}
