import { div, elu, leakyRelu, mul, relu, sigmoid, softplus, tanh } from '../autograd/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * Elementwise activation layers, as modules (no parameters), named as in PyTorch's `torch.nn`.
 * Each wraps the differentiable op of the same name in `autograd/ops.ts`.
 */

function finite(layer: string, name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${layer}: ${name} must be a finite number, got ${value}`);
  return value;
}

/** ReLU(x) = max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** LeakyReLU(x) = x for x > 0, negativeSlope·x otherwise (negativeSlope = 0.01 by default). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    finite('LeakyReLU', 'negativeSlope', negativeSlope);
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** ELU(x) = x for x > 0, α(eˣ − 1) otherwise (α = 1 by default). */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    finite('ELU', 'alpha', alpha);
  }

  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** Sigmoid(x) = σ(x) = 1/(1 + e⁻ˣ). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Tanh(x) = tanh x. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/**
 * Softplus(x) = (1/β)·ln(1 + e^(βx)) (β = 1 by default), a smooth ReLU. Computed stably for
 * any x by the softplus primitive (PyTorch's linear cut-off above `threshold` is not needed).
 */
export class Softplus extends Module {
  constructor(readonly beta = 1) {
    super();
    if (finite('Softplus', 'beta', beta) <= 0) throw new RangeError(`Softplus: beta must be positive, got ${beta}`);
  }

  forward(x: Tensor): Tensor {
    return this.beta === 1 ? softplus(x) : div(softplus(mul(x, this.beta)), this.beta); // (1/β)·softplus(βx)
  }

  override extraRepr(): string {
    return `beta=${this.beta}`;
  }
}
