/** Neural-network building blocks, named as in PyTorch's `torch.nn`: modules, initializers, optimizers. */
export { Module } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus } from './activations.js';
export { Sequential } from './sequential.js';
export {
  calculateGain, calculateFanInAndFanOut, xavierUniform, xavierNormal, kaimingUniform, kaimingNormal,
  type Nonlinearity, type FanMode, type InitOptions, type KaimingOptions,
} from './init.js';
export * from './optim/index.js';
