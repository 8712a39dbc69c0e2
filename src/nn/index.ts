/**
 * `elbo/nn`: neural-network building blocks, named as in PyTorch's `torch.nn`: the `Module` base
 * class, layers, activations and weight initializers. Optimizers are in `elbo/optim`.
 *
 * @packageDocumentation
 */
export { Module } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { Conv2d, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './conv.js';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus } from './activations.js';
export { Sequential } from './sequential.js';
export {
  calculateGain,
  calculateFanInAndFanOut,
  xavierUniform,
  xavierNormal,
  kaimingUniform,
  kaimingNormal,
  type Nonlinearity,
  type FanMode,
  type InitOptions,
  type KaimingOptions,
} from './init.js';
