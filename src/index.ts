/**
 * elbo: a from-scratch tensor and reverse-mode autodiff engine, with variational autoencoders
 * built, trained and checked on it. Everything public is exported from here.
 */
export { type DType, type TypedArray, DTypeError } from './tensor/dtype.js';
export { type Shape, ShapeError, broadcastShapes } from './tensor/shape.js';
export { Generator, type GeneratorState, defaultGenerator, manualSeed } from './tensor/random.js';
export { Tensor, type NestedArray, type GradFn } from './tensor/tensor.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, eye, rand, randn, type CreateOptions, type RandomOptions } from './tensor/create.js';
export * from './autograd/ops.js';
export { noGrad, isGradEnabled, detectAnomaly, AnomalyError, backward } from './autograd/engine.js';
export { derivatives } from './autograd/derivatives.js';
export { type Prim, type DifferentiablePrim } from './autograd/primitives.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport, GradcheckError } from './autograd/gradcheck.js';
export { type Backend, getBackend, setBackend, registerBackend, listBackends, cpuBackend } from './kernels/index.js';
export { createGpujsBackend, registerGpujsBackend, gpujsInfo, type GpujsBackend, type GpujsInfo, type GpujsOptions } from './kernels/gpujs.js';
export * from './data/index.js';
export * from './io/png.js';
export * from './io/plot.js';
export * from './nn/index.js';
export * from './io/safetensors.js';
export * from './io/checkpoint.js';
export * from './vae/index.js';
export * from './verify/index.js';
export * from './kernels/wasm/index.js';
