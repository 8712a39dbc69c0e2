import { type DType, dtypeOf, type TypedArray } from './dtype.js';
import { Storage } from './storage.js';
import { fmt, type Shape, sizeOf } from './shape.js';
import type { Prim, PrimAttrs } from '../autograd/primitives.js';
import * as ops from '../autograd/ops.js';
import { backward as runBackward } from '../autograd/engine.js';
import { scratchScope } from './device.js';

/** Nested arrays of numbers, as `toArray()` returns them. */
export type NestedArray = number | NestedArray[];

/** The record of the primitive that produced a tensor: what backward walks. */
export interface GradFn {
  readonly prim: Prim;
  readonly inputs: readonly Tensor[];
  readonly attrs: PrimAttrs[Prim];
}

/**
 * An n-dimensional array of float32 or float64 numbers, contiguous in row-major order, that
 * records the ops applied to it when it (or an input) requires a gradient.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true });
 * x.mul(x).sum().backward();
 * x.grad?.toArray(); // [[2, 4], [6, 8]]
 */
export class Tensor {
  /** Sizes per axis; [] for a scalar. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The memory behind the elements, allocated by the tensor's backend (see {@link Storage}). */
  readonly storage: Storage;
  /** Whether backward should compute a gradient for this tensor (leaves) or through it. */
  requiresGrad: boolean;
  /** ∂L/∂this, filled in by `backward()` for leaves that require a gradient; accumulates. */
  grad: Tensor | null = null;
  /** The primitive that produced this tensor; null for leaves. */
  readonly gradFn: GradFn | null;
  readonly #numel: number;

  constructor(data: TypedArray, shape: Shape, options: { requiresGrad?: boolean; gradFn?: GradFn | null } = {}) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Tensor: ${data.length} elements do not fill shape ${fmt(shape)} (${sizeOf(shape)} needed)`);
    }
    this.storage = new Storage(data);
    this.#numel = data.length;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOf(data);
    this.gradFn = options.gradFn ?? null;
    this.requiresGrad = options.requiresGrad ?? this.gradFn !== null;
  }

  /** The elements, row-major. Treat as read-only: ops never write into their inputs. */
  get data(): TypedArray {
    return this.storage.array;
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * Moves this tensor's elements to `data` (same dtype and length, holding the same values or
   * the ones wanted), like PyTorch's `Tensor.set_`: how a parameter is moved where a backend
   * reads it without copying. Returns this tensor.
   */
  set_(data: TypedArray): this {
    if (data.length !== this.#numel || data instanceof Float64Array !== (this.dtype === 'float64')) {
      throw new Error(
        `set_: new storage (${data instanceof Float64Array ? 'float64' : 'float32'}, ${data.length} elements) does not match this tensor (${this.dtype}, ${this.#numel} elements)`,
      );
    }
    this.storage.replace(data);
    return this;
  }

  /**
   * Fills this tensor with zeros in place, like PyTorch's `zero_()`: the same memory, so whoever
   * holds it sees the zeros. They are written when the elements are next read, unless a backward
   * first writes a gradient straight into this memory (how `zeroGrad({ setToNone: false })`
   * saves a pass per step). Not for a tensor that requires a gradient. Returns this tensor.
   */
  zero_(): this {
    if (this.requiresGrad) throw new Error(`zero_: cannot change a tensor that requires a gradient in place (shape ${fmt(this.shape)}); use detach()`);
    this.storage.zero();
    return this;
  }

  /** Number of elements. */
  numel(): number {
    return this.#numel;
  }

  /** True when no op produced this tensor (a user-created input or parameter). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The single element of a one-element tensor, as a number. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.data.length} elements, not 1`);
    return this.data[0]!;
  }

  /** The elements as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number, stride: number): NestedArray => {
      if (axis === this.shape.length) return this.data[offset]!;
      const n = this.shape[axis]!;
      const inner = stride / (n || 1);
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.data.length);
  }

  /**
   * Computes ∂this/∂leaf for every leaf that requires a gradient. See {@link runBackward}. Without
   * `createGraph` the gradients flowing back are temporaries, made in the backend's scratch memory
   * (`scratchScope`; what outlives it, the leaves' gradients, is written to their own memory).
   */
  backward(gradient?: Tensor, options?: { createGraph?: boolean }): void {
    if (options?.createGraph) runBackward(this, gradient, options);
    else scratchScope(this.dtype, () => runBackward(this, gradient, options));
  }

  /** A new leaf sharing this tensor's numbers, cut from the graph (no gradient flows back). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A new leaf holding a copy of this tensor's numbers, cut from the graph (`x.detach().clone()` in PyTorch). */
  copy(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Sets `requiresGrad` on a leaf, in place; returns this. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) throw new Error('requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /** This tensor's numbers in `dtype`: a new leaf copy, or this tensor itself when it already has that dtype. Not differentiable. */
  to(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    const data = dtype === 'float64' ? Float64Array.from(this.data) : Float32Array.from(this.data);
    return new Tensor(data, this.shape);
  }

  /** PyTorch's format: `tensor([[1., 2.]], dtype=float32)`, summarized beyond 1,000 elements. */
  toString(): string {
    return formatTensor(this);
  }

  // Method forms of the public ops, as in PyTorch: x.add(y) is add(x, y).
  /** `add(this, other)`: elementwise sum, broadcasting. */
  add(other: Tensor | number): Tensor {
    return ops.add(this, other);
  }
  /** `sub(this, other)`: elementwise difference, broadcasting. */
  sub(other: Tensor | number): Tensor {
    return ops.sub(this, other);
  }
  /** `mul(this, other)`: elementwise product, broadcasting. */
  mul(other: Tensor | number): Tensor {
    return ops.mul(this, other);
  }
  /** `div(this, other)`: elementwise quotient, broadcasting. */
  div(other: Tensor | number): Tensor {
    return ops.div(this, other);
  }
  /** `neg(this)`: −x. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** `pow(this, exponent)`: xᵖ elementwise. */
  pow(exponent: number): Tensor {
    return ops.pow(this, exponent);
  }
  /** `exp(this)`: eˣ. */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** `log(this)`: ln x. */
  log(): Tensor {
    return ops.log(this);
  }
  /** `log1p(this)`: ln(1 + x), accurate near 0. */
  log1p(): Tensor {
    return ops.log1p(this);
  }
  /** `sqrt(this)`: √x. */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** `square(this)`: x². */
  square(): Tensor {
    return ops.square(this);
  }
  /** `abs(this)`: |x|. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** `clamp(this, min, max)`: x limited to [min, max]. */
  clamp(min: number, max: number): Tensor {
    return ops.clamp(this, min, max);
  }
  /** `relu(this)`: max(x, 0). */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** `sigmoid(this)`: σ(x) = 1/(1 + e⁻ˣ). */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** `tanh(this)`. */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** `softplus(this)`: ln(1 + eˣ), stable. */
  softplus(): Tensor {
    return ops.softplus(this);
  }
  /** `sum(this, axes, keepDim)`: Σ over `axes` (all when omitted). */
  sum(axes?: number | readonly number[], keepDim = false): Tensor {
    return ops.sum(this, axes, keepDim);
  }
  /** `mean(this, axes, keepDim)`: the mean over `axes` (all when omitted). */
  mean(axes?: number | readonly number[], keepDim = false): Tensor {
    return ops.mean(this, axes, keepDim);
  }
  /** `max(this, axes, keepDim)`: the maximum over `axes` (all when omitted). */
  max(axes?: number | readonly number[], keepDim = false): Tensor {
    return ops.max(this, axes, keepDim);
  }
  /** `logSumExp(this, axes, keepDim)`: ln Σ eˣ over `axes`, stable. */
  logSumExp(axes?: number | readonly number[], keepDim = false): Tensor {
    return ops.logSumExp(this, axes, keepDim);
  }
  /** `matmul(this, other)`: the matrix product, batched over leading axes. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** `reshape(this, shape)`: the same elements in another shape (one size may be −1). */
  reshape(shape: Shape): Tensor {
    return ops.reshape(this, shape);
  }
  /** `transpose(this, axis0, axis1)`: swaps two axes (the last two by default). */
  transpose(axis0 = -2, axis1 = -1): Tensor {
    return ops.transpose(this, axis0, axis1);
  }
  /** `permute(this, perm)`: axes reordered: result axis i is input axis perm[i]. */
  permute(perm: readonly number[]): Tensor {
    return ops.permute(this, perm);
  }
  /** `expand(this, shape)`: broadcast to `shape` (size-1 axes repeated). */
  expand(shape: Shape): Tensor {
    return ops.expand(this, shape);
  }
  /** `slice(this, axis, start, end)`: elements start..end−1 along `axis`. */
  slice(axis: number, start: number, end?: number): Tensor {
    return ops.slice(this, axis, start, end);
  }
  /** The transpose of a 2-D tensor. */
  get T(): Tensor {
    return ops.transpose(this, 0, 1);
  }
}

function formatTensor(t: Tensor): string {
  const digits = 4;
  // One format for the whole tensor, as PyTorch does: integers as "3.", else fixed or scientific.
  const finite = Array.from(t.data).filter((v) => Number.isFinite(v));
  const allIntegers = finite.every((v) => Number.isInteger(v));
  const largest = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const smallest = finite.reduce((m, v) => (v === 0 ? m : Math.min(m, Math.abs(v))), Infinity);
  const scientific = !allIntegers && (largest >= 1e5 || smallest < 1e-4);
  const num = (v: number): string =>
    !Number.isFinite(v)
      ? String(v).replace('Infinity', 'inf').replace('NaN', 'nan')
      : allIntegers
        ? `${v}.`
        : scientific
          ? v.toExponential(digits)
          : v.toFixed(digits);
  const edge = 3;
  const summarize = t.numel() > 1000;
  const render = (value: NestedArray, depth: number): string => {
    if (typeof value === 'number') return num(value);
    const items =
      summarize && value.length > 2 * edge
        ? [...value.slice(0, edge).map((v) => render(v, depth + 1)), '...', ...value.slice(-edge).map((v) => render(v, depth + 1))]
        : value.map((v) => render(v, depth + 1));
    const sep = depth === t.ndim - 1 ? ', ' : `,\n${' '.repeat(8 + depth)}`;
    return `[${items.join(sep)}]`;
  };
  const grad = t.gradFn ? `, gradFn=${t.gradFn.prim}` : t.requiresGrad ? ', requiresGrad=true' : '';
  return `tensor(${render(t.toArray(), 0)}, dtype=${t.dtype}${grad})`;
}
