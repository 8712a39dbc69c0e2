import type { TypedArray } from '../tensor/dtype.js';

/**
 * The forward kernels every backend provides, on plain contiguous row-major typed arrays.
 * Ops and derivatives never touch numbers except through these; a backend never knows about
 * autograd. A new backend may implement only what it speeds up and take the rest from `cpu`.
 */
export interface Backend {
  /** A short name: 'cpu', 'wasm', 'gpujs'. */
  readonly name: string;
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
  copy(src: TypedArray, srcOffset: number, srcStrides: readonly number[], shape: readonly number[], dst: TypedArray, dstOffset: number, dstStrides: readonly number[]): void;
}

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

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'abs', 'sign', 'step', 'relu', 'sigmoid', 'tanh',
  'softplus', 'logSigmoid', 'pow', 'leakyRelu', 'elu', 'clamp',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'eq', 'bceWithLogits'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type ReduceOp = 'sum' | 'max';
