import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * A chain of modules applied in order, like PyTorch's `nn.Sequential`: forward(x) =
 * mₙ(…m₁(m₀(x))). The children are named '0', '1', …, so parameters are `0.weight`, `2.bias`, ….
 *
 * @example
 * const mlp = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 1));
 * [...mlp.namedParameters()].map(([name]) => name); // ['0.weight', '0.bias', '2.weight', '2.bias']
 */
export class Sequential extends Module {
  readonly #layers: Module[];

  constructor(...modules: Module[]) {
    super();
    this.#layers = modules.map((m, i) => this.registerModule(String(i), m));
  }

  /** Number of layers. */
  get length(): number {
    return this.#layers.length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const layer = this.#layers.at(index);
    if (!layer) throw new RangeError(`Sequential.at: index ${index} is out of range for ${this.#layers.length} layers`);
    return layer;
  }

  /** Runs the layers in order. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.#layers) y = layer.call(y);
    return y;
  }
}
