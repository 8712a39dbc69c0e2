import { broadcastShapes, fmt, sameShape, ShapeError, sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { apply } from './engine.js';
import { expand, reshape, squeeze } from './ops.js';

/**
 * The matrix products: `matmulPrim` (both transposes, batch axes broadcast), `matmul` (PyTorch's
 * rules), and `linear` (x·Wᵀ + b, one fused primitive: the bias is added as the product is
 * written, and its gradient is one rule instead of a broadcast add and a sum).
 */

/**
 * op(a) @ op(b) with op = transpose when the flag is set, batch axes broadcast. The primitive
 * behind `matmul` and `linear`; transposed operands are read in place, never copied.
 */
export function matmulPrim(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError(`matmul: both operands need at least 2 axes here, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const inner = [transA ? a.shape.at(-2) : a.shape.at(-1), transB ? b.shape.at(-1) : b.shape.at(-2)];
  if (inner[0] !== inner[1]) {
    const show = (t: Tensor, trans: boolean): string => `${fmt(t.shape)}${trans ? 'ᵀ' : ''}`;
    throw new ShapeError(`matmul: inner dimensions differ: ${show(a, transA)} @ ${show(b, transB)}`);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes('matmul', batchA, batchB);
  // The kernel repeats a single matrix across the batch; other broadcasts are materialized.
  const fit = (t: Tensor, own: number[]): Tensor => (sizeOf(own) === 1 || sameShape(own, batch) ? t : expand(t, [...batch, ...t.shape.slice(-2)]));
  return apply('matmul', [fit(a, batchA), fit(b, batchB)], { transA, transB });
}

/**
 * Matrix product with PyTorch's rules: 2-D @ 2-D; batched with broadcast batch axes; a 1-D
 * operand is a vector (its axis is dropped from the result).
 * @example matmul(ones([2, 3]), ones([3, 4])).shape // [2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both operands need at least 1 axis, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  if (a2.shape.at(-1) !== b2.shape.at(-2)) throw new ShapeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  try {
    broadcastShapes('matmul', batchA, batchB);
  } catch {
    throw new ShapeError(`matmul: batch dimensions do not broadcast: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  let out = matmulPrim(a2, b2, false, false);
  if (a.ndim === 1) out = squeeze(out, out.ndim - 2);
  if (b.ndim === 1) out = squeeze(out, out.ndim - 1);
  return out;
}

/**
 * The affine map x·Wᵀ + b over the last axis of x, PyTorch's `F.linear`: W is [out, in], b is
 * [out] (or omitted), x is [..., in], the result [..., out]. W is read transposed in place.
 * @example linear(ones([4, 3]), ones([2, 3]), zeros([2])).shape // [4, 2]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${fmt(weight.shape)}`);
  const [out, inp] = weight.shape as [number, number];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inp)
    throw new ShapeError(`linear: input ${fmt(x.shape)} does not end in weight's in-size ${inp} (weight ${fmt(weight.shape)})`);
  if (!bias) return x.ndim === 1 ? reshape(matmulPrim(reshape(x, [1, inp]), weight, false, true), [out]) : matmulPrim(x, weight, false, true);
  if (bias.ndim !== 1 || bias.shape[0] !== out) throw new ShapeError(`linear: bias must be [${out}] for weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  return apply('linear', [x, weight, bias], {});
}
