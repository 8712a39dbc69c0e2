import type { TypedArray } from '../tensor/dtype.js';
import type { Backend, BinaryOp, MatmulDims, ReduceOp, UnaryOp } from './backend.js';

/**
 * The reference backend: plain loops over typed arrays, float32 and float64 alike. It is the
 * oracle the other backends are tested against (run in float64), so it favours clarity and
 * accuracy (float64 accumulators) over speed.
 */

/** softplus(x) = ln(1 + eˣ), written so that neither branch overflows. */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** σ(x) = 1 / (1 + e⁻ˣ), evaluated on the side where the exponential cannot overflow. */
export const sigmoid = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};

const unaryFns: Record<UnaryOp, (x: number, p: number, q: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  sqrt: (x) => Math.sqrt(x),
  abs: (x) => Math.abs(x),
  sign: (x) => Math.sign(x),
  step: (x) => (x > 0 ? 1 : 0),
  relu: (x) => (x <= 0 ? 0 : x), // NaN passes through, as in PyTorch
  sigmoid,
  tanh: (x) => Math.tanh(x),
  softplus,
  logSigmoid: (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
  pow: (x, p) => Math.pow(x, p),
  leakyRelu: (x, alpha) => (x > 0 ? x : alpha * x),
  elu: (x, alpha) => (x > 0 ? x : alpha * Math.expm1(x)),
  clamp: (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x),
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  eq: (a, b) => (a === b ? 1 : 0),
  bceWithLogits: (x, y) => softplus(x) - x * y,
};

function unary(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void {
  const f = unaryFns[op];
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, p, q);
}

function binary(op: BinaryOp, a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], shape: readonly number[], out: TypedArray): void {
  const f = binaryFns[op];
  const n = out.length;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
    return;
  }
  if (b.length === 1) {
    const bv = b[0]!;
    if (a.length === n) for (let i = 0; i < n; i++) out[i] = f(a[i]!, bv);
    else for (let i = 0; i < n; i++) out[i] = f(a[0]!, bv);
    return;
  }
  if (a.length === 1) {
    const av = a[0]!;
    for (let i = 0; i < n; i++) out[i] = f(av, b[i]!);
    return;
  }
  // General broadcast: walk the output in row-major order, the innermost axis in a tight loop.
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const sa = aStrides[rank - 1]!;
  const sb = bStrides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = f(a[ia + j * sa]!, b[ib + j * sb]!);
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      ia += aStrides[axis]!;
      ib += bStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      ia -= aStrides[axis]! * shape[axis]!;
      ib -= bStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}

function reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
  const rank = shape.length;
  // Output strides per input axis: 0 along reduced axes.
  const outStrides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!axes.includes(i)) {
      outStrides[i] = s;
      s *= shape[i]!;
    }
  }
  const acc = new Float64Array(out.length).fill(op === 'sum' ? 0 : -Infinity);
  if (x.length > 0) {
    const index = new Array<number>(rank).fill(0);
    let o = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (op === 'sum') acc[o]! += v;
      else if (v > acc[o]! || Number.isNaN(v)) acc[o] = v;
      for (let axis = rank - 1; axis >= 0; axis--) {
        index[axis]!++;
        o += outStrides[axis]!;
        if (index[axis]! < shape[axis]!) break;
        o -= outStrides[axis]! * shape[axis]!;
        index[axis] = 0;
      }
    }
  }
  out.set(acc);
}

function matmul(a: TypedArray, b: TypedArray, out: TypedArray, d: MatmulDims): void {
  const { batch, m, k, n, transA, transB } = d;
  const row = new Float64Array(n);
  for (let t = 0; t < batch; t++) {
    const ao = t * d.aBatchStride;
    const bo = t * d.bBatchStride;
    const oo = t * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      if (!transB) {
        // row_i = Σ_p A[i,p] · B[p,:]  (B's rows are contiguous)
        for (let p = 0; p < k; p++) {
          const av = transA ? a[ao + p * m + i]! : a[ao + i * k + p]!;
          const bRow = bo + p * n;
          for (let j = 0; j < n; j++) row[j]! += av * b[bRow + j]!;
        }
      } else {
        // out[i,j] = A[i,:] · B[j,:]  (both contiguous when A is not transposed)
        for (let j = 0; j < n; j++) {
          let s = 0;
          const bRow = bo + j * k;
          if (transA) for (let p = 0; p < k; p++) s += a[ao + p * m + i]! * b[bRow + p]!;
          else for (let p = 0, ai = ao + i * k; p < k; p++) s += a[ai + p]! * b[bRow + p]!;
          row[j] = s;
        }
      }
      out.set(row, oo + i * n);
    }
  }
}

function copy(src: TypedArray, srcOffset: number, srcStrides: readonly number[], shape: readonly number[], dst: TypedArray, dstOffset: number, dstStrides: readonly number[]): void {
  const rank = shape.length;
  let total = 1;
  for (const s of shape) total *= s;
  if (total === 0) return;
  if (rank === 0) {
    dst[dstOffset] = src[srcOffset]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const ss = srcStrides[rank - 1]!;
  const ds = dstStrides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let si = srcOffset;
  let di = dstOffset;
  for (let done = 0; done < total; done += inner) {
    if (ss === 1 && ds === 1) dst.set(src.subarray(si, si + inner), di);
    else for (let j = 0; j < inner; j++) dst[di + j * ds] = src[si + j * ss]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      si += srcStrides[axis]!;
      di += dstStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      si -= srcStrides[axis]! * shape[axis]!;
      di -= dstStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}

/** The reference CPU backend. */
export const cpuBackend: Backend = { name: 'cpu', unary, binary, reduce, matmul, copy };
