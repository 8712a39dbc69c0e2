import { allocate, assertDType, type DType, type TypedArray } from './dtype.js';
import { checkShape, fmt, type Shape, ShapeError, sizeOf } from './shape.js';
import { defaultGenerator, type Generator } from './random.js';
import { type NestedArray, Tensor } from './tensor.js';

/** Options shared by the creation functions. float32 is the default dtype, as in PyTorch. */
export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** The generator to draw from; the default generator (see `manualSeed`) when omitted. */
  rng?: Generator;
}

function inferShape(value: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
  }
  return shape;
}

function flatten(value: NestedArray, shape: number[], out: TypedArray): void {
  let k = 0;
  const walk = (v: NestedArray, axis: number, path: number[]): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number') throw new ShapeError(`tensor: ragged nested array at [${path.join(', ')}]: expected a number`);
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      throw new ShapeError(
        `tensor: ragged nested array at [${path.join(', ')}]: expected ${shape[axis]} elements on axis ${axis}, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    v.forEach((item, i) => walk(item, axis + 1, [...path, i]));
  };
  walk(value, 0, []);
}

/**
 * A tensor from nested arrays, a typed array or a number; the data is copied.
 * @example tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true })
 * @example tensor(new Float32Array(6), { shape: [2, 3] })
 */
export function tensor(data: NestedArray | TypedArray | readonly number[], options: CreateOptions & { shape?: Shape } = {}): Tensor {
  const dtype = assertDType('tensor', options.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32'));
  let shape: number[];
  let values: TypedArray;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    shape = options.shape ? checkShape('tensor', options.shape) : [data.length];
    if (sizeOf(shape) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmt(shape)}`);
    values = allocate(dtype, data.length);
    values.set(data);
  } else {
    shape = inferShape(data as NestedArray);
    values = allocate(dtype, sizeOf(shape));
    flatten(data as NestedArray, shape, values);
    if (options.shape) {
      const target = checkShape('tensor', options.shape);
      if (sizeOf(target) !== values.length) throw new ShapeError(`tensor: ${values.length} values do not fill shape ${fmt(target)}`);
      shape = target;
    }
  }
  return new Tensor(values, shape, { requiresGrad: options.requiresGrad ?? false });
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: CreateOptions = {}, op = 'full'): Tensor {
  const sizes = checkShape(op, shape);
  const data = allocate(assertDType(op, options.dtype ?? 'float32'), sizeOf(sizes)).fill(value);
  return new Tensor(data, sizes, { requiresGrad: options.requiresGrad ?? false });
}

/** A tensor of `shape` filled with 0. */
export const zeros = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 0, options, 'zeros');
/** A tensor of `shape` filled with 1. */
export const ones = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 1, options, 'ones');
/** Zeros of `t`'s shape and dtype. */
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, { dtype: t.dtype });
/** Ones of `t`'s shape and dtype. */
export const onesLike = (t: Tensor): Tensor => ones(t.shape, { dtype: t.dtype });

/** start, start+step, … below end (like `torch.arange`). */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(from) || !Number.isFinite(to) || !Number.isFinite(step) || step === 0) {
    throw new RangeError(`arange: start, end and step must be finite and step non-zero, got ${from}, ${to}, ${step}`);
  }
  const n = Math.max(0, Math.ceil((to - from) / step));
  const data = allocate(assertDType('arange', options.dtype ?? 'float32'), n);
  for (let i = 0; i < n; i++) data[i] = from + i * step;
  return new Tensor(data, [n], { requiresGrad: options.requiresGrad ?? false });
}

/** The n×n identity matrix (n×m when `m` is given). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = full([n, m], 0, options, 'eye');
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

function random(op: string, shape: Shape, options: RandomOptions, draw: (rng: Generator) => number): Tensor {
  const sizes = checkShape(op, shape);
  const rng = options.rng ?? defaultGenerator;
  const data = allocate(assertDType(op, options.dtype ?? 'float32'), sizeOf(sizes));
  for (let i = 0; i < data.length; i++) data[i] = draw(rng);
  return new Tensor(data, sizes, { requiresGrad: options.requiresGrad ?? false });
}

/** Uniform draws in [low, high) (default [0, 1)). */
export const rand = (shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor => {
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  return random('rand', shape, options, (rng) => low + (high - low) * rng.uniform());
};

/** Standard normal draws, N(0, 1). */
export const randn = (shape: Shape, options: RandomOptions = {}): Tensor => {
  const sizes = checkShape('randn', shape);
  const data = allocate(assertDType('randn', options.dtype ?? 'float32'), sizeOf(sizes));
  (options.rng ?? defaultGenerator).fillNormal(data); // the numbers of rng.normal(), one per element
  return new Tensor(data, sizes, { requiresGrad: options.requiresGrad ?? false });
};
