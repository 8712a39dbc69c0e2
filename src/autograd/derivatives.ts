import type { Tensor } from '../tensor/tensor.js';
import type { DifferentiablePrim, Prim, PrimAttrs } from './primitives.js';
import {
  add, div, eq, expand, maskPositive, matmulPrim, mul, neg, pad, permute, pow, reshape, sigmoid, sigmoidSub, sign, slice, square, step, sub, sum,
} from './ops.js';
import { conv2dPrim, convTranspose2dPrim, convWeightGradient } from './conv.js';

/**
 * THE derivative table: one vector-Jacobian rule per differentiable primitive.
 *
 * A rule gets g = ∂L/∂out (shaped like the output), the primitive's inputs, its output `out`
 * and attributes, and returns one thunk per input giving ∂L/∂input (run only for inputs that
 * need it). Rules use differentiable ops, never kernels, so higher derivatives come for free.
 * Binary primitives broadcast: a rule may return the output-shaped gradient, and the engine
 * sums it back to the input's shape (the adjoint of broadcasting).
 *
 * Symbols: x = unary input; a, b = binary inputs; out = the result; α = alpha; p = exponent.
 */
type Rule<P extends Prim> = (g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: PrimAttrs[P]) => ReadonlyArray<(() => Tensor) | null>;

export const derivatives: { [P in DifferentiablePrim]: Rule<P> } = {
  neg:        (g)             => [() => neg(g)],                                            // out = −x          ∂ = −1
  exp:        (g, _, out)     => [() => mul(g, out)],                                       // out = eˣ          ∂ = eˣ = out
  log:        (g, [x])        => [() => div(g, x!)],                                        // out = ln x        ∂ = 1/x
  log1p:      (g, [x])        => [() => div(g, add(x!, 1))],                                // out = ln(1+x)     ∂ = 1/(1+x)
  sqrt:       (g, _, out)     => [() => div(g, mul(out, 2))],                               // out = √x          ∂ = 1/(2√x)
  abs:        (g, [x])        => [() => mul(g, sign(x!))],                                  // out = |x|         ∂ = sign(x)
  relu:       (g, [x])        => [() => maskPositive(g, x!)],                               // out = max(x, 0)   ∂ = [x > 0]
  sigmoid:    (g, _, out)     => [() => mul(g, mul(out, sub(1, out)))],                     // out = σ(x)        ∂ = σ(1−σ)
  tanh:       (g, _, out)     => [() => mul(g, sub(1, square(out)))],                       // out = tanh x      ∂ = 1 − tanh²x
  softplus:   (g, [x])        => [() => mul(g, sigmoid(x!))],                               // out = ln(1+eˣ)    ∂ = σ(x)
  logSigmoid: (g, [x])        => [() => mul(g, sigmoid(neg(x!)))],                          // out = ln σ(x)     ∂ = 1−σ(x) = σ(−x)
  pow:        (g, [x], _, { exponent: p }) => [() => (p === 0 ? mul(g, 0) : mul(g, mul(pow(x!, p - 1), p)))], // out = xᵖ  ∂ = p·xᵖ⁻¹ (0 for p = 0, x = 0 included)
  leakyRelu:  (g, [x], _, { alpha }) => [() => mul(g, add(mul(step(x!), 1 - alpha), alpha))], // out = x>0 ? x : αx  ∂ = x>0 ? 1 : α
  elu:        (g, [x], out, { alpha }) => [() => { const s = step(x!); return mul(g, add(s, mul(sub(1, s), add(out, alpha)))); }], // out = x>0 ? x : α(eˣ−1)  ∂ = x>0 ? 1 : out+α
  clamp:      (g, [x], out)   => [() => mul(g, eq(out, x!))],                               // out = min(max(x, lo), hi)  ∂ = [lo ≤ x ≤ hi]
  add:        (g)             => [() => g, () => g],                                        // out = a + b       ∂a = 1, ∂b = 1
  sub:        (g)             => [() => g, () => neg(g)],                                   // out = a − b       ∂a = 1, ∂b = −1
  mul:        (g, [a, b])     => [() => mul(g, b!), () => mul(g, a!)],                      // out = a·b         ∂a = b, ∂b = a
  div:        (g, [, b], out) => [() => div(g, b!), () => neg(div(mul(g, out), b!))],       // out = a/b         ∂a = 1/b, ∂b = −a/b² = −out/b
  bceWithLogits: (g, [x, y])  => [() => mul(g, sigmoidSub(x!, y!)), () => mul(g, neg(x!))],  // out = softplus(x) − x·y  ∂x = σ(x) − y, ∂y = −x
  sigmoidSub: (g, [a])        => [() => mul(g, sigmoidDerivative(a!)), () => neg(g)],      // out = σ(a) − b    ∂a = σ(a)(1 − σ(a)), ∂b = −1
  maskPositive: (g, [, b])    => [() => maskPositive(g, b!), null],                        // out = a·[b > 0]   ∂a = [b > 0], ∂b = 0 (piecewise constant)
  sum:        (g, [x])        => [() => expand(g, x!.shape)],                               // out = Σ over axes (kept)  ∂ = 1 for every summand
  max:        (g, [x], out, { axes }) => [() => {                                           // out = max over axes (kept)  ∂ = 1/#ties at the maxima
    const isMax = eq(x!, out);
    return div(mul(g, isMax), sum(isMax, axes, true));
  }],
  reshape:    (g, [x])        => [() => reshape(g, x!.shape)],                              // same numbers, new shape  ∂ = g reshaped back
  expand:     (g, [_x])       => [() => g],                                                 // broadcast copy; the engine sums g back to x's shape
  permute:    (g, _, __, { perm }) => [() => permute(g, inversePermutation(perm))],         // out[i_perm] = x[i]  ∂ = the inverse permutation
  slice:      (g, [x], _, { axis, start, end }) => [() => pad(g, axis, start, x!.shape[axis]! - end)], // out = x[start:end]  ∂ = g padded with zeros
  pad:        (g, [x], _, { axis, before }) => [() => slice(g, axis, before, before + x!.shape[axis]!)], // out = [0…, x, …0]  ∂ = g[before:before+n]
  concat:     (g, inputs, _, { axis }) => {                                                 // out = [x₀; x₁; …] along axis  ∂xᵢ = g's block i
    let offset = 0;
    return inputs.map((t) => {
      const start = offset;
      offset += t.shape[axis]!;
      return () => slice(g, axis, start, start + t.shape[axis]!);
    });
  },
  matmul:     (g, [a, b], _, { transA, transB }) => {                                       // out = op(a)·op(b), op(m) = m or mᵀ
    if (!transA && !transB) return [() => matmulPrim(g, b!, false, true), () => matmulPrim(a!, g, true, false)];  // ∂a = g·bᵀ,   ∂b = aᵀ·g
    if (transA && !transB) return [() => matmulPrim(b!, g, false, true), () => matmulPrim(a!, g, false, false)];  // ∂a = b·gᵀ,   ∂b = a·g
    if (!transA && transB) return [() => matmulPrim(g, b!, false, false), () => matmulPrim(g, a!, true, false)];  // ∂a = g·b,    ∂b = gᵀ·a
    return [() => matmulPrim(b!, g, true, true), () => matmulPrim(g, a!, true, true)];                             // ∂a = bᵀ·gᵀ,  ∂b = gᵀ·aᵀ
  },
  linear:     (g, [x, w]) => {                                                              // out = x·Wᵀ + b, W = [n, k], rows r of x
    const [n, k] = w!.shape as [number, number];
    const rows = x!.shape.slice(0, -1).reduce((r, d) => r * d, 1);
    return [() => reshape(matmulPrim(reshape(g, [rows, n]), w!, false, false), x!.shape),       // ∂x = g·W
      () => matmulPrim(reshape(g, [rows, n]), reshape(x!, [rows, k]), true, false),             // ∂W = gᵀ·x, over all rows
      () => sum(reshape(g, [rows, n]), 0)];                                                     // ∂b = Σ_r g[r]
  },
  conv2d:     (g, [x, w], _, attrs) => {                                                    // out = x ⋆ W (cross-correlation)
    const [kh, kw] = [w!.shape[2]!, w!.shape[3]!];
    // The rows and columns the windows never reached (a stride past the last one) come back as outputPadding.
    const outputPadding = [0, 1].map((a) => x!.shape[2 + a]! + 2 * attrs.padding[a]! - attrs.dilation[a]! * (w!.shape[2 + a]! - 1) - 1 - (g.shape[2 + a]! - 1) * attrs.stride[a]!) as [number, number];
    return [() => convTranspose2dPrim(g, w!, { ...attrs, outputPadding }),                 // ∂x = convTranspose2d(g, W), its adjoint
      () => convWeightGradient(x!, g, [kh, kw], attrs)];                                      // ∂W[o, c, p, q] = Σ g[n, o, i, j]·x[n, c, i·s + p·d, …]
  },
  convTranspose2d: (g, [x, w], _, { stride, padding, dilation, groups }) => {               // out = convᵀ(x, W), conv2d's adjoint in x
    const [kh, kw] = [w!.shape[2]!, w!.shape[3]!];
    const attrs = { stride, padding, dilation, groups };
    return [() => {                                                                           // ∂x = conv2d(g, W), cut to x's size
      const dx = conv2dPrim(g, w!, attrs);                                                    //   (outputPadding ≥ stride gives extra rows)
      return slice(slice(dx, 2, 0, x!.shape[2]!), 3, 0, x!.shape[3]!);
    }, () => convWeightGradient(g, x!, [kh, kw], attrs)];                                    // ∂W[c, o, p, q] = Σ x[n, c, i, j]·g[n, o, i·s + p·d, …]
  },
};

/** σ′(x) = σ(x)(1 − σ(x)). */
function sigmoidDerivative(x: Tensor): Tensor {
  const s = sigmoid(x);
  return mul(s, sub(1, s));
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}
