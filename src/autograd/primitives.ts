import { allocate, type DType, type TypedArray } from '../tensor/dtype.js';
import { broadcastShapes, fmt, type Shape, ShapeError, sizeOf, stridesOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { backendFor, cpuBackend } from '../kernels/index.js';
import type { BinaryOp, Conv2dDims, UnaryOp } from '../kernels/backend.js';

/**
 * The closed set of primitives: each has a shape rule and a forward kernel call here, and one
 * derivative rule in `derivatives.ts`. Everything else is composed of these in `ops.ts`.
 * Binary primitives broadcast (NumPy rules); the engine sums their gradients back to shape.
 * Reductions keep the reduced axes (size 1); `ops.sum` drops them with a reshape.
 */
export interface PrimAttrs {
  neg: object; exp: object; log: object; log1p: object; sqrt: object; abs: object;
  relu: object; sigmoid: object; tanh: object; softplus: object; logSigmoid: object;
  sign: object; step: object;
  pow: { exponent: number };
  leakyRelu: { alpha: number };
  elu: { alpha: number };
  clamp: { min: number; max: number };
  add: object; sub: object; mul: object; div: object; eq: object; bceWithLogits: object; sigmoidSub: object; maskPositive: object;
  sum: { axes: number[] };
  max: { axes: number[] };
  reshape: { shape: number[] };
  expand: { shape: number[] };
  permute: { perm: number[] };
  slice: { axis: number; start: number; end: number };
  pad: { axis: number; before: number; after: number };
  concat: { axis: number };
  matmul: { transA: boolean; transB: boolean };
  linear: object;
  conv2d: Conv2dAttrs;
  convTranspose2d: Conv2dAttrs & { outputPadding: readonly [number, number] };
}

/** A 2-D convolution's options, each a [height, width] pair (checked by the public ops in `conv.ts`). */
export interface Conv2dAttrs {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}
/** A primitive's name: one entry in the derivative table and one kernel call. */
export type Prim = keyof PrimAttrs;

/** Primitives whose output is piecewise constant: they carry no gradient (masks, signs). */
export const NON_DIFFERENTIABLE_PRIMS = ['sign', 'step', 'eq'] as const;
export type DifferentiablePrim = Exclude<Prim, (typeof NON_DIFFERENTIABLE_PRIMS)[number]>;
export const NON_DIFFERENTIABLE: ReadonlySet<Prim> = new Set<Prim>(NON_DIFFERENTIABLE_PRIMS);

type Forward<P extends Prim> = (inputs: readonly Tensor[], attrs: PrimAttrs[P]) => Tensor;

/** Memory for an op's result from the backend `dtype` runs on, its contents unspecified: the kernel writes all of it. */
const empty = (dtype: DType, size: number): TypedArray => backendFor(dtype).memory.empty(dtype, size);

const unary = (op: UnaryOp, p = (_: PrimAttrs[Prim]): [number, number] => [0, 0]) =>
  ([x]: readonly Tensor[], attrs: PrimAttrs[Prim]): Tensor => {
    const out = empty(x!.dtype, x!.numel());
    backendFor(x!.dtype).unary(op, x!.data, out, ...p(attrs));
    return new Tensor(out, x!.shape);
  };

/** Strides of `shape` viewed as broadcast to `outShape`: 0 along new or size-1 axes. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((d, i) => (i < lead || shape[i - lead] !== d ? 0 : strides[i - lead]!));
}

const binary = (op: BinaryOp) =>
  ([a, b]: readonly Tensor[]): Tensor => {
    const shape = broadcastShapes(op, a!.shape, b!.shape);
    const out = empty(a!.dtype, sizeOf(shape));
    backendFor(a!.dtype).binary(op, a!.data, broadcastStrides(a!.shape, shape), b!.data, broadcastStrides(b!.shape, shape), shape, out);
    return new Tensor(out, shape);
  };

const reduce = (op: 'sum' | 'max') =>
  ([x]: readonly Tensor[], { axes }: { axes: number[] }): Tensor => {
    const shape = x!.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    if (op === 'max' && axes.some((a) => x!.shape[a] === 0)) throw new ShapeError(`max: cannot reduce an empty axis of ${fmt(x!.shape)}`);
    const out = empty(x!.dtype, sizeOf(shape));
    backendFor(x!.dtype).reduce(op, x!.data, x!.shape, axes, out);
    return new Tensor(out, shape);
  };

/** Copies `x` (as a strided view) into a fresh tensor of `shape`, at `dstOffset` with `dstStrides`. */
function stridedCopy(x: Tensor, srcOffset: number, srcStrides: number[], viewShape: Shape, outShape: Shape, dstOffset = 0, dstStrides = stridesOf(outShape)): Tensor {
  // Only pad leaves elements unwritten (its zeros); every other copy writes all of them.
  const whole = sizeOf(viewShape) === sizeOf(outShape);
  const out = whole ? empty(x.dtype, sizeOf(outShape)) : allocate(x.dtype, sizeOf(outShape));
  backendFor(x.dtype).copy(x.data, srcOffset, srcStrides, viewShape, out, dstOffset, dstStrides);
  return new Tensor(out, outShape);
}

export const forward: { [P in Prim]: Forward<P> } = {
  neg: unary('neg'), exp: unary('exp'), log: unary('log'), log1p: unary('log1p'),
  sqrt: unary('sqrt'), abs: unary('abs'), relu: unary('relu'), sigmoid: unary('sigmoid'),
  tanh: unary('tanh'), softplus: unary('softplus'), logSigmoid: unary('logSigmoid'),
  sign: unary('sign'), step: unary('step'),
  pow: unary('pow', (a) => [(a as PrimAttrs['pow']).exponent, 0]),
  leakyRelu: unary('leakyRelu', (a) => [(a as PrimAttrs['leakyRelu']).alpha, 0]),
  elu: unary('elu', (a) => [(a as PrimAttrs['elu']).alpha, 0]),
  clamp: unary('clamp', (a) => [(a as PrimAttrs['clamp']).min, (a as PrimAttrs['clamp']).max]),
  add: binary('add'), sub: binary('sub'), mul: binary('mul'), div: binary('div'),
  eq: binary('eq'), bceWithLogits: binary('bceWithLogits'), sigmoidSub: binary('sigmoidSub'), maskPositive: binary('maskPositive'),
  sum: reduce('sum'),
  max: reduce('max'),
  reshape: ([x], { shape }) => new Tensor(x!.data, shape),
  expand: ([x], { shape }) => stridedCopy(x!, 0, broadcastStrides(x!.shape, shape), shape, shape),
  permute: ([x], { perm }) => {
    const strides = stridesOf(x!.shape);
    const shape = perm.map((p) => x!.shape[p]!);
    return stridedCopy(x!, 0, perm.map((p) => strides[p]!), shape, shape);
  },
  slice: ([x], { axis, start, end }) => {
    const strides = stridesOf(x!.shape);
    const shape = x!.shape.map((d, i) => (i === axis ? end - start : d));
    return stridedCopy(x!, start * strides[axis]!, strides, shape, shape);
  },
  pad: ([x], { axis, before, after }) => {
    const shape = x!.shape.map((d, i) => (i === axis ? d + before + after : d));
    const outStrides = stridesOf(shape);
    return stridedCopy(x!, 0, stridesOf(x!.shape), x!.shape, shape, before * outStrides[axis]!, outStrides);
  },
  concat: (inputs, { axis }) => {
    const shape = [...inputs[0]!.shape];
    shape[axis] = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
    const out = empty(inputs[0]!.dtype, sizeOf(shape));
    const outStrides = stridesOf(shape);
    let offset = 0;
    for (const t of inputs) {
      backendFor(t.dtype).copy(t.data, 0, stridesOf(t.shape), t.shape, out, offset * outStrides[axis]!, outStrides);
      offset += t.shape[axis]!;
    }
    return new Tensor(out, shape);
  },
  matmul: ([a, b], { transA, transB }) => {
    const [m, k] = transA ? [a!.shape.at(-1)!, a!.shape.at(-2)!] : [a!.shape.at(-2)!, a!.shape.at(-1)!];
    const n = transB ? b!.shape.at(-2)! : b!.shape.at(-1)!;
    const batchA = a!.shape.slice(0, -2);
    const batchB = b!.shape.slice(0, -2);
    const batchShape = broadcastShapes('matmul', batchA, batchB);
    const batch = sizeOf(batchShape);
    const out = empty(a!.dtype, batch * m * n);
    backendFor(a!.dtype).matmul(a!.data, b!.data, out, {
      batch, m, k, n, transA, transB,
      aBatchStride: sizeOf(batchA) === 1 ? 0 : m * k,
      bBatchStride: sizeOf(batchB) === 1 ? 0 : k * n,
    });
    return new Tensor(out, [...batchShape, m, n]);
  },
  linear: ([x, w, b]) => {
    // x [..., k] · W[n, k]ᵀ + b[n]: one product over the leading axes flattened, b added per row.
    const [n, k] = w!.shape as [number, number];
    const lead = x!.shape.slice(0, -1);
    const m = sizeOf(lead);
    const out = empty(x!.dtype, m * n);
    const backend = backendFor(x!.dtype);
    if (backend.linear) backend.linear(x!.data, w!.data, b!.data, out, m, k, n);
    else {
      backend.matmul(x!.data, w!.data, out, { batch: 1, m, k, n, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
      backend.binary('add', out, [n, 1], b!.data, [0, 1], [m, n], out); // + b on every row, in place
    }
    return new Tensor(out, [...lead, n]);
  },
  conv2d: ([x, w], attrs) => {
    // Hₒ = ⌊(H + 2·pad − dilation·(k − 1) − 1)/stride⌋ + 1, per axis.
    const [batch, inChannels, height, width] = x!.shape as [number, number, number, number];
    const [outChannels, , kernelHeight, kernelWidth] = w!.shape as [number, number, number, number];
    const outHeight = Math.floor((height + 2 * attrs.padding[0] - attrs.dilation[0] * (kernelHeight - 1) - 1) / attrs.stride[0]) + 1;
    const outWidth = Math.floor((width + 2 * attrs.padding[1] - attrs.dilation[1] * (kernelWidth - 1) - 1) / attrs.stride[1]) + 1;
    const dims = convDims(attrs, { batch, inChannels, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth });
    const out = empty(x!.dtype, batch * outChannels * outHeight * outWidth);
    const backend = backendFor(x!.dtype);
    (backend.conv2d ?? cpuBackend.conv2d)(x!.data, w!.data, out, dims);
    return new Tensor(out, [batch, outChannels, outHeight, outWidth]);
  },
  convTranspose2d: ([x, w], attrs) => {
    // Hₒ = (H − 1)·stride − 2·pad + dilation·(k − 1) + outputPadding + 1, per axis.
    const [batch, inChannels, height, width] = x!.shape as [number, number, number, number];
    const [, outPerGroup, kernelHeight, kernelWidth] = w!.shape as [number, number, number, number];
    const outChannels = outPerGroup * attrs.groups;
    const outHeight = (height - 1) * attrs.stride[0] - 2 * attrs.padding[0] + attrs.dilation[0] * (kernelHeight - 1) + attrs.outputPadding[0] + 1;
    const outWidth = (width - 1) * attrs.stride[1] - 2 * attrs.padding[1] + attrs.dilation[1] * (kernelWidth - 1) + attrs.outputPadding[1] + 1;
    const dims = convDims(attrs, { batch, inChannels, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth });
    const out = empty(x!.dtype, batch * outChannels * outHeight * outWidth);
    const backend = backendFor(x!.dtype);
    (backend.convTranspose2d ?? cpuBackend.convTranspose2d)(x!.data, w!.data, out, dims);
    return new Tensor(out, [batch, outChannels, outHeight, outWidth]);
  },
};

/** A convolution's kernel call: its sizes, and its options split per axis. */
function convDims({ stride, padding, dilation, groups }: Conv2dAttrs, sizes: Omit<Conv2dDims, 'strideH' | 'strideW' | 'padH' | 'padW' | 'dilationH' | 'dilationW' | 'groups'>): Conv2dDims {
  return { ...sizes, strideH: stride[0], strideW: stride[1], padH: padding[0], padW: padding[1], dilationH: dilation[0], dilationW: dilation[1], groups };
}
