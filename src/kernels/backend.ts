import type { DType, TypedArray } from '../tensor/dtype.js';

/**
 * The forward kernels every backend provides, on plain contiguous row-major typed arrays.
 * Ops and derivatives never touch numbers except through these; a backend never knows about
 * autograd. A new backend may implement only what it speeds up and take the rest from `cpu`.
 */
export interface Kernels {
  /** out[i] = f(x[i]); `p`, `q` are the op's scalar parameters (exponent, alpha, min/max). */
  unary(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void;
  /**
   * out[i] = f(a[ia], b[ib]) over `shape` (the broadcast result shape); `aStrides`/`bStrides`
   * give each input's element strides per output axis, 0 along broadcast axes.
   */
  binary(op: BinaryOp, a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], shape: readonly number[], out: TypedArray): void;
  /** Reduces `x` of `shape` over the sorted `axes` into `out` (whose size is the kept axes' product). */
  reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void;
  /**
   * out[b] = op(A[b]) @ op(B[b]) for b < batch, op(X) = Xᵀ when the flag is set. A[b] starts at
   * b·aBatchStride (0 repeats one matrix across the batch), B[b] at b·bBatchStride.
   * A is [m, k] ([k, m] when transA), B is [k, n] ([n, k] when transB), out is [batch, m, n].
   */
  matmul(a: TypedArray, b: TypedArray, out: TypedArray, dims: MatmulDims): void;
  /** Copies an n-d strided view of `src` into an n-d strided view of `dst` (permute, expand, slice, pad, concat). */
  copy(
    src: TypedArray,
    srcOffset: number,
    srcStrides: readonly number[],
    shape: readonly number[],
    dst: TypedArray,
    dstOffset: number,
    dstStrides: readonly number[],
  ): void;
  /**
   * Optional: a linear layer in one call, out[i, j] = Σₚ x[i, p]·W[j, p] + b[j] (x is [m, k], W is
   * [n, k], out is [m, n]). Without it, ops run `matmul` and then add b to each row.
   */
  linear?(x: TypedArray, weight: TypedArray, bias: TypedArray, out: TypedArray, m: number, k: number, n: number): void;
  /**
   * Optional: a 2-D convolution (cross-correlation, as PyTorch's `conv2d`), no bias. x is
   * [batch, inChannels, height, width], weight [outChannels, inChannels/groups, kernelHeight,
   * kernelWidth], out [batch, outChannels, outHeight, outWidth], all contiguous:
   * out[n, o, i, j] = Σ x[n, g·inC/groups + c, i·strideH − padH + p·dilationH, j·strideW − padW + q·dilationW]·W[o, c, p, q]
   * over c < inC/groups, p, q, with g = the group of o and x zero outside the image.
   * Without it, ops run the cpu reference's.
   */
  conv2d?(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void;
  /**
   * Optional: the transposed convolution (PyTorch's `conv_transpose2d`), no bias: the adjoint of
   * {@link Kernels.conv2d} in its input. x is [batch, inChannels, height, width], weight
   * [inChannels, outChannels/groups, kernelHeight, kernelWidth], out [batch, outChannels,
   * outHeight, outWidth]: each x[n, c, i, j]·W[c, o, p, q] lands on out[n, g·outC/groups + o,
   * i·strideH − padH + p·dilationH, j·strideW − padW + q·dilationW] (dropped outside). Without
   * it, ops run the cpu reference's.
   */
  convTranspose2d?(x: TypedArray, weight: TypedArray, out: TypedArray, dims: Conv2dDims): void;
}

/**
 * The sizes and options of one {@link Kernels.conv2d} or {@link Kernels.convTranspose2d} call,
 * each op's own input (`inChannels`, `height`, `width`) and output (`outChannels`, `outHeight`,
 * `outWidth`).
 */
export interface Conv2dDims {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  kernelHeight: number;
  kernelWidth: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/**
 * Where a backend's arrays live: it allocates every op result (`empty`), decides which arrays
 * stay where its kernels read them in place (`keep`), reuses scratch memory (`scope`) and writes a
 * result into a given target (`into`). Ops, the engine and the models never ask where memory is.
 */
export interface Memory {
  /** An array of `size` elements of `dtype` for an op's result, its contents unspecified (`torch.empty`): the op writes it in full. */
  empty(dtype: DType, size: number): TypedArray;
  /**
   * `x`, or a copy of it kept where this backend's kernels read and write it without copying
   * (wasm: inside its memory), for long-lived arrays: parameters, gradients, optimizer state.
   * The caller uses what is returned from then on.
   */
  keep(x: TypedArray): TypedArray;
  /** Whether `x` is where this backend's kernels read it in place (kept, or scratch memory). */
  isKept(x: TypedArray): boolean;
  /** `x` if it outlives the current {@link Memory.scope}, else a copy of it in ordinary memory that does (a gradient made in a scope). */
  persist(x: TypedArray): TypedArray;
  /**
   * Runs `fn` with the long float32 results of ops made inside it held in scratch memory (wasm:
   * read and written there in place, no copies), reused once `fn` returns. Nothing made inside
   * may be used after: copy out what must live on. Where there is none, just runs `fn`.
   */
  scope<T>(fn: () => T): T;
  /**
   * Runs `fn` with `target` given as the storage of the first result of its size and dtype that
   * `fn` allocates (an op's result, which the op then writes in full): how a gradient is computed
   * straight into its own memory. Whatever took `target` must not be needed once `fn` returns,
   * unless it is the result. An inner call stands in for the outer one while it runs.
   */
  into<T>(target: TypedArray, fn: () => T): T;
}

/** Optional fused capabilities: one kernel for what ops would do in several passes. */
export interface Fused {
  /**
   * One Adam step on one parameter, θ, m and v updated in place from the gradient (the formulas
   * of `nn/optim/adam.ts`), element by element:
   *   g = grad + l2·θ;  m = β₁m + (1 − β₁)g;  v = β₂v + (1 − β₂)g²;  θ = θ·decay − stepSize·m/(√v/sqrtBc2 + eps)
   */
  adam?(theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, step: AdamStep): void;
  /** Whether every element of `x` is finite (no NaN, no ±∞); fast when `x` was kept. */
  allFinite?(x: TypedArray): boolean;
}

/** A backend: its forward kernels, the memory they work in, and optional fused capabilities. */
export interface Backend extends Kernels {
  /** A short name: 'cpu', 'wasm', 'gpujs'. */
  readonly name: string;
  /** Where its arrays live (see {@link Memory}). */
  readonly memory: Memory;
  /** Fused kernels it offers; the cpu reference's are used for those it lacks. */
  readonly fused: Fused;
}

/** The scalars of one {@link Fused.adam} step (t = the step number, from 1). */
export interface AdamStep {
  beta1: number;
  beta2: number;
  /** α / (1 − β₁ᵗ) */
  stepSize: number;
  /** √(1 − β₂ᵗ) */
  sqrtBc2: number;
  eps: number;
  /** θ's factor before the update: 1 − αλ for AdamW's decoupled weight decay, else 1. */
  decay: number;
  /** Adam's L2 weight decay λ, added to the gradient as λθ (0 for AdamW). */
  l2: number;
}

/** The sizes and layout of one {@link Backend.matmul} call (see there). */
export interface MatmulDims {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  aBatchStride: number;
  bBatchStride: number;
}

/** The elementwise one-input ops a backend implements in {@link Backend.unary}. */
export const UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'abs',
  'sign',
  'step',
  'relu',
  'sigmoid',
  'tanh',
  'softplus',
  'logSigmoid',
  'pow',
  'leakyRelu',
  'elu',
  'clamp',
] as const;
/** One of {@link UNARY_OPS}. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/** The elementwise two-input ops a backend implements in {@link Backend.binary} (the last three are fused primitives of the training step). */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'eq', 'bceWithLogits', 'sigmoidSub', 'maskPositive'] as const;
/** One of {@link BINARY_OPS}. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/** The reductions a backend implements in {@link Backend.reduce}. */
export type ReduceOp = 'sum' | 'max';
