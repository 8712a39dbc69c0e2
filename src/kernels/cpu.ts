import { allocate, dtypeOf, type TypedArray } from '../tensor/dtype.js';
import { sizeOf, stridesOf } from '../tensor/shape.js';
import type { AdamStep, Backend, Conv2dDims, Fused, Kernels, MatmulDims, ReduceOp } from './backend.js';
import { HostMemory } from './memory.js';
import { binaryLoop, reduceRun, unaryLoop } from './loops.js';

/**
 * The reference backend: plain loops over typed arrays, float32 and float64 alike. It is the
 * oracle the other backends are tested against (run in float64), so it favours clarity and
 * accuracy (float64 accumulators) over speed. Its elementwise and reduce loops (`loops.ts`) are
 * shared with the wasm backend, so each op's formula is written once.
 */

function reduce(op: ReduceOp, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void {
  if (axes.length === 0) {
    out.set(x);
    return;
  }
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  if (last - first === axes.length - 1) {
    // One contiguous run of axes: [outer, reduced, inner].
    reduceRun(op, x, sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1)), out);
    return;
  }
  // Otherwise move the reduced axes last (kept axes first, each group in its order) and reduce
  // the run: the same summands in the same order as a row-major walk of x.
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const strides = stridesOf(shape);
  const moved = allocate(dtypeOf(x), x.length);
  const movedShape = perm.map((i) => shape[i]!);
  copy(
    x,
    0,
    perm.map((i) => strides[i]!),
    movedShape,
    moved,
    0,
    stridesOf(movedShape),
  );
  reduceRun(op, moved, sizeOf(kept.map((i) => shape[i]!)), sizeOf(axes.map((i) => shape[i]!)), 1, out);
}

function matmul(a: TypedArray, b: TypedArray, out: TypedArray, d: MatmulDims, bias?: TypedArray): void {
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
      if (bias) for (let j = 0; j < n; j++) row[j]! += bias[j]!; // x·Wᵀ + b, b added in float64
      out.set(row, oo + i * n);
    }
  }
}

/**
 * The strided copy, on the fewest axes: size-1 axes are dropped, and each axis is merged into the
 * one before it where src and dst both step over the pair as one run (outer stride = inner stride
 * × inner size, in both). A permute that keeps the last axes in place (a convolution's
 * weight-gradient layout, [n, c, h, w] → [c, n, h, w]) then copies whole h·w planes, not w-long rows.
 */
const copy: Backend['copy'] = (src, srcOffset, srcStrides, shape, dst, dstOffset, dstStrides) => {
  const sizes: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (let axis = 0; axis < shape.length; axis++) {
    const size = shape[axis]!;
    if (size === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && from[last] === srcStrides[axis]! * size && to[last] === dstStrides[axis]! * size) {
      sizes[last]! *= size;
      from[last] = srcStrides[axis]!;
      to[last] = dstStrides[axis]!;
    } else {
      sizes.push(size);
      from.push(srcStrides[axis]!);
      to.push(dstStrides[axis]!);
    }
  }
  copyRows(src, srcOffset, from, sizes, dst, dstOffset, to);
};

/** The copy's loop: one innermost row at a time, the index advanced like an odometer. */
const copyRows: Backend['copy'] = (src, srcOffset, srcStrides, shape, dst, dstOffset, dstStrides) => {
  const rank = shape.length;
  const total = sizeOf(shape);
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
    else if (ss === 0 && ds === 1)
      dst.fill(src[si]!, di, di + inner); // a broadcast row
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
};

function adam(theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, h: AdamStep): void {
  if (theta instanceof Float32Array) adamF32(theta, grad as Float32Array, m as Float32Array, v as Float32Array, h);
  else adamF64(theta, grad as Float64Array, m as Float64Array, v as Float64Array, h);
}

/*
 * Adam's update, in float64 arithmetic, one pass over θ, g, m and v. The float32 and float64
 * loops are the same text twice so that each stays monomorphic (one typed-array kind per loop;
 * fed both kinds, one loop runs several times slower). The float32 loop computes on m and v as
 * stored (rounded to float32, Math.fround).
 */

function adamF32(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  { beta1, beta2, stepSize, sqrtBc2, eps, decay, l2 }: AdamStep,
): void {
  for (let i = 0; i < theta.length; i++) {
    const th = theta[i]!;
    const g = grad[i]! + l2 * th; // g = ∇f(θ) (+ λθ for Adam)
    const mi = (m[i] = Math.fround(beta1 * m[i]! + (1 - beta1) * g)); // m = β₁m + (1 − β₁)g
    const vi = (v[i] = Math.fround(beta2 * v[i]! + (1 - beta2) * g * g)); // v = β₂v + (1 − β₂)g²
    theta[i] = th * decay - stepSize * (mi / (Math.sqrt(vi) / sqrtBc2 + eps)); // θ = θ − α·m̂/(√v̂ + ε)
  }
}

function adamF64(
  theta: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  { beta1, beta2, stepSize, sqrtBc2, eps, decay, l2 }: AdamStep,
): void {
  for (let i = 0; i < theta.length; i++) {
    const th = theta[i]!;
    const g = grad[i]! + l2 * th; // g = ∇f(θ) (+ λθ for Adam)
    const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g); // m = β₁m + (1 − β₁)g
    const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g); // v = β₂v + (1 − β₂)g²
    theta[i] = th * decay - stepSize * (mi / (Math.sqrt(vi) / sqrtBc2 + eps)); // θ = θ − α·m̂/(√v̂ + ε)
  }
}

function linear(x: TypedArray, weight: TypedArray, bias: TypedArray, out: TypedArray, m: number, k: number, n: number): void {
  matmul(x, weight, out, { batch: 1, m, k, n, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 }, bias);
}

/**
 * conv2d as a direct gather: each output element sums its window (x zero outside the image),
 * in float64, over the input channels of its group, then the kernel rows and columns.
 */
function conv2d(x: TypedArray, weight: TypedArray, out: TypedArray, d: Conv2dDims): void {
  const { batch, inChannels, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth, groups } = d;
  const { strideH, strideW, padH, padW, dilationH, dilationW } = d;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  // The loops read and write plain Float64Arrays only: one element kind, so V8 keeps them fast
  // whatever backs the arguments (an array in wasm memory is another kind, and mixing them made
  // every call after the first ~4x slower). The copies are O(size), the loops O(size·taps).
  const [xs, ws, res] = [new Float64Array(x), new Float64Array(weight), new Float64Array(out.length)];
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const firstIn = Math.floor(oc / outPerGroup) * inPerGroup;
      for (let i = 0; i < outHeight; i++) {
        for (let j = 0; j < outWidth; j++) {
          let s = 0;
          for (let c = 0; c < inPerGroup; c++) {
            const xPlane = (n * inChannels + firstIn + c) * height;
            const wPlane = (oc * inPerGroup + c) * kernelHeight;
            for (let p = 0; p < kernelHeight; p++) {
              const y = i * strideH - padH + p * dilationH;
              if (y < 0 || y >= height) continue;
              for (let q = 0; q < kernelWidth; q++) {
                const xx = j * strideW - padW + q * dilationW;
                if (xx < 0 || xx >= width) continue;
                s += xs[(xPlane + y) * width + xx]! * ws[(wPlane + p) * kernelWidth + q]!;
              }
            }
          }
          res[o++] = s;
        }
      }
    }
  }
  out.set(res);
}

/**
 * The transposed convolution as a gather too (each output element written once): out[n, oc, y, xx]
 * sums x[n, c, i, j]·W[c, o, p, q] over the input channels c of oc's group and the kernel taps
 * (p, q) for which y = i·strideH − padH + p·dilationH and xx likewise hit a whole (i, j) in the input.
 */
function convTranspose2d(x: TypedArray, weight: TypedArray, out: TypedArray, d: Conv2dDims): void {
  const { batch, inChannels, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth, groups } = d;
  const { strideH, strideW, padH, padW, dilationH, dilationW } = d;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const [xs, ws, res] = [new Float64Array(x), new Float64Array(weight), new Float64Array(out.length)]; // one element kind (see conv2d)
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const group = Math.floor(oc / outPerGroup);
      const ocInGroup = oc - group * outPerGroup;
      for (let y = 0; y < outHeight; y++) {
        for (let xx = 0; xx < outWidth; xx++) {
          let s = 0;
          for (let c = group * inPerGroup; c < (group + 1) * inPerGroup; c++) {
            const xPlane = (n * inChannels + c) * height;
            const wPlane = (c * outPerGroup + ocInGroup) * kernelHeight;
            for (let p = 0; p < kernelHeight; p++) {
              const rowOffset = y + padH - p * dilationH; // = i·strideH
              if (rowOffset < 0 || rowOffset % strideH !== 0) continue;
              const i = rowOffset / strideH;
              if (i >= height) continue;
              for (let q = 0; q < kernelWidth; q++) {
                const colOffset = xx + padW - q * dilationW; // = j·strideW
                if (colOffset < 0 || colOffset % strideW !== 0) continue;
                const j = colOffset / strideW;
                if (j >= width) continue;
                s += xs[(xPlane + i) * width + j]! * ws[(wPlane + p) * kernelWidth + q]!;
              }
            }
          }
          res[o++] = s;
        }
      }
    }
  }
  out.set(res);
}

/** Whether every value is finite: x − x is 0 for finite x, NaN for ±∞ and NaN (four per branch). */
function allFinite(values: TypedArray): boolean {
  const n = values.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    if (values[i]! - values[i]! + (values[i + 1]! - values[i + 1]!) + (values[i + 2]! - values[i + 2]!) + (values[i + 3]! - values[i + 3]!) !== 0) return false;
  }
  for (; i < n; i++) if (values[i]! - values[i]! !== 0) return false;
  return true;
}

/** The reference backend's type: every kernel and every fused capability present. */
export type CpuBackend = Required<Kernels> & Backend & { readonly fused: Required<Fused> };

/** The reference CPU backend (every optional kernel and fused capability included), on host memory. */
export const cpuBackend: CpuBackend = {
  name: 'cpu',
  unary: unaryLoop,
  binary: binaryLoop,
  reduce,
  matmul: (a, b, out, d) => matmul(a, b, out, d),
  copy,
  linear,
  conv2d,
  convTranspose2d,
  memory: new HostMemory(),
  fused: { adam, allFinite },
};
