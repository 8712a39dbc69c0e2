import { broadcastShapes, checkShape, fmt, normalizeAxes, normalizeAxis, type Shape, ShapeError, sameShape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { apply, noGrad } from './engine.js';

/**
 * The public differentiable ops. Primitives are thin wrappers over `apply`; composites (mean,
 * logSumExp, square, the losses) are written in primitives and need no derivative rule.
 * Every op checks its arguments and names itself, the shapes and the offending values.
 */

/** A tensor, or a number that broadcasts like a 0-d tensor of the other operand's dtype. */
export type Operand = Tensor | number;

function scalarLike(value: number, like: Tensor): Tensor {
  const data = like.dtype === 'float64' ? new Float64Array([value]) : new Float32Array([value]);
  return new Tensor(data, []);
}

function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`${op}: at least one operand must be a Tensor, got two numbers`);
  for (const v of [a, b]) {
    if (typeof v === 'number' && Number.isNaN(v)) throw new RangeError(`${op}: scalar operand is NaN`);
    if (typeof v !== 'number' && !(v instanceof Tensor)) throw new TypeError(`${op}: operands must be Tensors or numbers, got ${String(v)}`);
  }
  const like = (typeof a === 'number' ? b : a) as Tensor;
  return [typeof a === 'number' ? scalarLike(a, like) : a, typeof b === 'number' ? scalarLike(b, like) : b];
}

function finiteParameter(op: string, name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${op}: ${name} must be a finite number, got ${value}`);
  return value;
}

// ---- elementwise binary (NumPy broadcasting) ----

/** a + b, broadcast. @example add(tensor([1, 2]), 1) // [2, 3] */
export const add = (a: Operand, b: Operand): Tensor => apply('add', operands('add', a, b), {});
/** a − b, broadcast. */
export const sub = (a: Operand, b: Operand): Tensor => apply('sub', operands('sub', a, b), {});
/** a ⊙ b (elementwise product), broadcast. */
export const mul = (a: Operand, b: Operand): Tensor => apply('mul', operands('mul', a, b), {});
/** a / b, broadcast. */
export const div = (a: Operand, b: Operand): Tensor => apply('div', operands('div', a, b), {});
/** σ(a) − b, broadcast: the gradient of BCE with logits a and targets b, in one pass. */
export const sigmoidSub = (a: Operand, b: Operand): Tensor => apply('sigmoidSub', operands('sigmoidSub', a, b), {});
/** a·[b > 0], broadcast: a where b is positive, else 0 (a NaN or ±∞ a gives NaN, as a·0 does). ReLU's gradient. */
export const maskPositive = (a: Operand, b: Operand): Tensor => apply('maskPositive', operands('maskPositive', a, b), {});
/** [a = b] as 0/1 (no gradient). */
export const eq = (a: Operand, b: Operand): Tensor => apply('eq', operands('eq', a, b), {});

// ---- elementwise unary ----

/** −x */
export const neg = (x: Tensor): Tensor => apply('neg', [x], {});
/** eˣ */
export const exp = (x: Tensor): Tensor => apply('exp', [x], {});
/** ln x (NaN for x < 0, −∞ at 0, as in IEEE arithmetic). */
export const log = (x: Tensor): Tensor => apply('log', [x], {});
/** ln(1 + x), accurate for small x. */
export const log1p = (x: Tensor): Tensor => apply('log1p', [x], {});
/** √x */
export const sqrt = (x: Tensor): Tensor => apply('sqrt', [x], {});
/** |x| (gradient 0 at 0, like PyTorch). */
export const abs = (x: Tensor): Tensor => apply('abs', [x], {});
/** sign(x) ∈ {−1, 0, 1} (no gradient). */
export const sign = (x: Tensor): Tensor => apply('sign', [x], {});
/** Heaviside step [x > 0] as 0/1 (no gradient). */
export const step = (x: Tensor): Tensor => apply('step', [x], {});
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => apply('relu', [x], {});
/** σ(x) = 1/(1 + e⁻ˣ), stable for large |x|. */
export const sigmoid = (x: Tensor): Tensor => apply('sigmoid', [x], {});
/** tanh x */
export const tanh = (x: Tensor): Tensor => apply('tanh', [x], {});
/** softplus(x) = ln(1 + eˣ), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => apply('softplus', [x], {});
/** ln σ(x) = −softplus(−x), stable for large |x|. */
export const logSigmoid = (x: Tensor): Tensor => apply('logSigmoid', [x], {});
/** xᵖ for a scalar exponent p. */
export const pow = (x: Tensor, exponent: number): Tensor => apply('pow', [x], { exponent: finiteParameter('pow', 'exponent', exponent) });
/** x² */
export const square = (x: Tensor): Tensor => mul(x, x);
/** x for x > 0, αx otherwise (α = 0.01 by default, as in PyTorch). */
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => apply('leakyRelu', [x], { alpha: finiteParameter('leakyRelu', 'alpha', alpha) });
/** x for x > 0, α(eˣ − 1) otherwise (α = 1 by default). */
export const elu = (x: Tensor, alpha = 1): Tensor => apply('elu', [x], { alpha: finiteParameter('elu', 'alpha', alpha) });
/** min(max(x, min), max); bounds may be ±Infinity for a one-sided clamp. */
export function clamp(x: Tensor, min: number, max: number): Tensor {
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) throw new RangeError(`clamp: need min <= max (not NaN), got min=${min}, max=${max}`);
  return apply('clamp', [x], { min, max });
}

// ---- reductions ----

/** Σ of x over `axes` (all axes when omitted); `keepDim` keeps them as size 1. */
export function sum(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = normalizeAxes('sum', axes, x.ndim);
  const kept = apply('sum', [x], { axes: list });
  return keepDim
    ? kept
    : reshape(
        kept,
        x.shape.filter((_, i) => !list.includes(i)),
      );
}

/** Arithmetic mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = normalizeAxes('mean', axes, x.ndim);
  const count = list.reduce((n, a) => n * x.shape[a]!, 1);
  if (count === 0) throw new ShapeError(`mean: cannot average over an empty axis of ${fmt(x.shape)}`);
  return div(sum(x, list, keepDim), count);
}

/** Maximum over `axes` (all when omitted); the gradient is shared equally among ties. */
export function max(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = normalizeAxes('max', axes, x.ndim);
  const kept = apply('max', [x], { axes: list });
  return keepDim
    ? kept
    : reshape(
        kept,
        x.shape.filter((_, i) => !list.includes(i)),
      );
}

/**
 * ln Σ exp(x) over `axes`, computed stably as m + ln Σ exp(x − m) with m the (constant) maximum.
 * @example logSumExp(tensor([1000, 1000])) // 1000.6931…, not Infinity
 */
export function logSumExp(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = normalizeAxes('logSumExp', axes, x.ndim);
  const shift = noGrad(() => {
    const m = max(x, list, true);
    const data = m.data.map((v) => (Number.isFinite(v) ? v : 0));
    return new Tensor(data, m.shape);
  });
  const kept = add(log(sum(exp(sub(x, shift)), list, true)), shift);
  return keepDim
    ? kept
    : reshape(
        kept,
        x.shape.filter((_, i) => !list.includes(i)),
      );
}

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting `shape` up to g's shape). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`sumTo: cannot sum ${fmt(g.shape)} to the larger rank ${fmt(shape)}`);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    const target = i < lead ? 1 : shape[i - lead]!;
    if (i < lead || (target === 1 && d !== 1)) axes.push(i);
    else if (target !== d) throw new ShapeError(`sumTo: ${fmt(g.shape)} does not broadcast from ${fmt(shape)} (axis ${i}: ${d} vs ${target})`);
  });
  return reshape(apply('sum', [g], { axes }), shape);
}

// ---- shape ops ----

/** The same elements in a new shape; one size may be −1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const sizes = [...shape];
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) {
    if (sizes.indexOf(-1, unknown + 1) >= 0) throw new ShapeError(`reshape: only one size may be -1, got ${fmt(shape)}`);
    const known = sizeOf(sizes.filter((_, i) => i !== unknown));
    if (known === 0 || x.numel() % known !== 0) throw new ShapeError(`reshape: cannot infer -1 in ${fmt(shape)} for ${fmt(x.shape)} (${x.numel()} elements)`);
    sizes[unknown] = x.numel() / known;
  }
  checkShape('reshape', sizes);
  if (sizeOf(sizes) !== x.numel()) {
    throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.numel()} elements) into ${fmt(sizes)} (${sizeOf(sizes)} elements)`);
  }
  if (sameShape(sizes, x.shape)) return x;
  return apply('reshape', [x], { shape: sizes });
}

/** Broadcasts x to `shape` (NumPy rules: sizes equal or 1 → n; new axes on the left). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = checkShape('expand', shape);
  const ok = target.length >= x.ndim && x.shape.every((d, i) => d === 1 || d === target[target.length - x.ndim + i]);
  if (!ok) throw new ShapeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(target)}`);
  if (sameShape(target, x.shape)) return x;
  return apply('expand', [x], { shape: target });
}

/** Reorders the axes: output axis i is input axis perm[i]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const normalized = perm.map((p) => normalizeAxis('permute', p, x.ndim));
  if (normalized.length !== x.ndim || new Set(normalized).size !== x.ndim) {
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation of the ${x.ndim} axes of ${fmt(x.shape)}`);
  }
  if (normalized.every((p, i) => p === i)) return x;
  return apply('permute', [x], { perm: normalized });
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.ndim < 2 && axis0 === -2 && axis1 === -1) throw new ShapeError(`transpose: needs at least 2 axes, got ${fmt(x.shape)}`);
  const a = normalizeAxis('transpose', axis0, x.ndim);
  const b = normalizeAxis('transpose', axis1, x.ndim);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** Elements start..end−1 along `axis` (negative indices count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normalizeAxis('slice', axis, x.ndim);
  const n = x.shape[ax]!;
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new ShapeError(`slice: range [${start}, ${end ?? n}) is out of bounds for axis ${axis} of size ${n} in ${fmt(x.shape)}`);
  }
  if (s === 0 && e === n) return x;
  return apply('slice', [x], { axis: ax, start: s, end: e });
}

/** Pads with `before` and `after` zeros along `axis`. */
export function pad(x: Tensor, axis: number, before: number, after: number): Tensor {
  const ax = normalizeAxis('pad', axis, x.ndim);
  if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
    throw new ShapeError(`pad: before and after must be non-negative integers, got ${before}, ${after}`);
  }
  if (before === 0 && after === 0) return x;
  return apply('pad', [x], { axis: ax, before, after });
}

/** Joins tensors along `axis`; all other sizes must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const first = tensors[0]!;
  const ax = normalizeAxis('concat', axis, first.ndim);
  for (const t of tensors) {
    const differs = t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i]);
    if (differs) throw new ShapeError(`concat: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ off the concat axis ${ax}`);
  }
  if (tensors.length === 1) return first;
  return apply('concat', tensors, { axis: ax });
}

/** Adds a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 axes (all of them, or the ones given). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const list = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes('squeeze', axes, x.ndim);
  for (const a of list) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => !list.includes(i)),
  );
}

// ---- matrix product (in matmul.ts) ----

export { linear, matmul, matmulPrim } from './matmul.js';

// ---- convolutions (in conv.ts) ----

export { conv2d, convTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type Size2d } from './conv.js';

// ---- fused losses ----

/** How a loss reduces its elementwise values: kept (`'none'`), averaged or summed. */
export type Reduction = 'none' | 'mean' | 'sum';

function reduceLoss(op: string, loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  if (reduction === 'mean') return mean(loss);
  throw new RangeError(`${op}: reduction must be 'none', 'mean' or 'sum', got ${JSON.stringify(reduction)}`);
}

/**
 * −[y ln σ(x) + (1 − y) ln(1 − σ(x))] = softplus(x) − x·y, for logits x and targets y, computed
 * without overflow for any x. Elementwise, broadcast, then reduced ('mean' by default).
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  if (!sameShape(logits.shape, targets.shape)) {
    broadcastShapes('binaryCrossEntropyWithLogits', logits.shape, targets.shape);
  }
  return reduceLoss('binaryCrossEntropyWithLogits', apply('bceWithLogits', [logits, targets], {}), options.reduction ?? 'mean');
}

/** ln 2π, the constant in every Gaussian log-density. */
export const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Gaussian negative log-likelihood with the variance given as a log-variance:
 * −ln N(x; μ, e^logVar) = ½[ln 2π + logVar + (x − μ)² e^−logVar], in nats. With
 * `full: false` the ½ ln 2π constant is left out (as PyTorch's GaussianNLLLoss does by default).
 */
export function gaussianNll(x: Tensor, mu: Tensor, logVar: Tensor, options: { reduction?: Reduction; full?: boolean } = {}): Tensor {
  broadcastShapes('gaussianNll (x and mu)', x.shape, mu.shape); // errors name this op, not the sub inside it
  broadcastShapes('gaussianNll (x and logVar)', x.shape, logVar.shape);
  const squared = square(sub(x, mu));
  let loss = mul(add(logVar, mul(squared, exp(neg(logVar)))), 0.5);
  if (options.full ?? true) loss = add(loss, 0.5 * LOG_2PI);
  return reduceLoss('gaussianNll', loss, options.reduction ?? 'mean');
}
