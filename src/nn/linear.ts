import { linear } from '../autograd/ops.js';
import { rand } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import type { Generator } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** The generator for the initial weights; the default generator when omitted. */
  rng?: Generator;
  /** The parameters' dtype (default 'float32'). */
  dtype?: DType;
}

function checkFeatures(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Linear: ${name} must be a non-negative integer, got ${n}`);
  return n;
}

/**
 * The affine map y = x·Wᵀ + b, applied to the last axis of x, like PyTorch's `nn.Linear`.
 *
 * `weight` W has shape [outFeatures, inFeatures] (PyTorch's layout) and `bias` b has shape
 * [outFeatures]. It is the fused `linear` op: the product reads W transposed in place, never
 * copying it, and b is added as the product is written. Inputs are [..., inFeatures]; outputs [..., outFeatures].
 *
 * Initialization is PyTorch's default: every entry of W and b is drawn from
 * U(−1/√inFeatures, 1/√inFeatures) (weight first, then bias, row-major). For W this equals
 * `kaimingUniform(W, { a: √5 })`: gain √(2/(1+5)) = √(1/3), bound = gain·√(3/fanIn) = 1/√fanIn.
 *
 * @example
 * const layer = new Linear(3, 2, { rng: new Generator(0), dtype: 'float64' });
 * layer.call(ones([4, 3], { dtype: 'float64' })).shape; // [4, 2]
 */
export class Linear extends Module {
  /** Size of the input's last axis. */
  readonly inFeatures: number;
  /** Size of the output's last axis. */
  readonly outFeatures: number;
  /** W, shape [outFeatures, inFeatures]. */
  readonly weight: Tensor;
  /** b, shape [outFeatures]; null when built with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = checkFeatures('inFeatures', inFeatures);
    this.outFeatures = checkFeatures('outFeatures', outFeatures);
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0; // U(−1/√in, 1/√in)
    const init = { low: -bound, high: bound, rng: options.rng, dtype: options.dtype ?? 'float32', requiresGrad: true } as const;
    this.weight = this.registerParameter('weight', rand([outFeatures, inFeatures], init));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', rand([outFeatures], init)) : null;
  }

  /** y = x·Wᵀ + b over the last axis; x is [..., inFeatures] (a 1-D x gives a 1-D y). */
  forward(x: Tensor): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} → ${this.outFeatures}): input's last axis must have size ${this.inFeatures}, got input shape ${fmt(x.shape)}`);
    }
    return linear(x, this.weight, this.bias); // x·Wᵀ + b, one fused primitive; W read transposed in place
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
