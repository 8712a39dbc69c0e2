/**
 * elbo: a from-scratch tensor and reverse-mode autodiff engine, with variational autoencoders
 * built, trained and checked on it.
 *
 * This entry (`elbo`) is the engine, platform-neutral (Node, browsers, workers): tensors and
 * their creation, the differentiable ops, autograd, seeded randomness, and the kernel backends.
 * The rest is grouped like PyTorch's packages: `elbo/nn` (layers), `elbo/optim` (optimizers),
 * `elbo/vae` (the model, its bounds and the training step), `elbo/data` (data sets in memory,
 * batches), `elbo/io` (safetensors and checkpoints as bytes), `elbo/testing` (property-test
 * helpers), `elbo/gpujs` (the gpu.js backend) and, for Node only, `elbo/node` (files, the
 * bundled MNIST digits, training runs on disk, pictures and reports).
 *
 * @packageDocumentation
 */
export { type DType, type TypedArray, DTypeError } from './tensor/dtype.js';
export { type Shape, ShapeError, broadcastShapes } from './tensor/shape.js';
export { Generator, type GeneratorState, defaultGenerator, manualSeed } from './tensor/random.js';
export { Tensor, type NestedArray, type GradFn } from './tensor/tensor.js';
export { Storage } from './tensor/storage.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, eye, rand, randn, type CreateOptions, type RandomOptions } from './tensor/create.js';
export {
  add,
  sub,
  mul,
  div,
  neg,
  exp,
  log,
  log1p,
  sqrt,
  abs,
  sign,
  step,
  relu,
  sigmoid,
  tanh,
  softplus,
  logSigmoid,
  pow,
  square,
  leakyRelu,
  elu,
  clamp,
  eq,
  sum,
  mean,
  max,
  logSumExp,
  reshape,
  expand,
  permute,
  transpose,
  slice,
  pad,
  concat,
  unsqueeze,
  squeeze,
  matmul,
  linear,
  conv2d,
  convTranspose2d,
  type Conv2dOptions,
  type ConvTranspose2dOptions,
  type Size2d,
  binaryCrossEntropyWithLogits,
  gaussianNll,
  LOG_2PI,
  type Operand,
  type Reduction,
} from './autograd/ops.js';
export { noGrad, enableGrad, isGradEnabled, detectAnomaly, AnomalyError, backward } from './autograd/engine.js';
export {
  gradcheck,
  gradgradcheck,
  type GradcheckOptions,
  type GradgradcheckOptions,
  type GradcheckReport,
  type JacobianEntry,
  GradcheckError,
} from './autograd/gradcheck.js';
export {
  type Backend,
  type Kernels,
  type Memory,
  type Fused,
  type MatmulDims,
  type Conv2dDims,
  type AdamStep,
  type UnaryOp,
  type BinaryOp,
  type ReduceOp,
  type BackendName,
  type BackendAvailability,
  useBackend,
  getBackend,
  setBackend,
  registerBackend,
  listBackends,
  availableBackends,
  cpuBackend,
  type CpuBackend,
  BACKEND_NAMES,
} from './kernels/index.js';
export { UNARY_OPS, BINARY_OPS } from './kernels/backend.js';
export { HostMemory } from './kernels/memory.js';
export type { Prim, PrimAttrs, Conv2dAttrs } from './autograd/primitives.js';
export { createWasmBackend, wasmInfo, type WasmBackend, type WasmBackendOptions, type WasmInfo, type WasmMatmulStats } from './kernels/wasm/index.js';
