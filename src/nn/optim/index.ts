/**
 * `elbo/optim`: optimizers and gradient utilities, named as in PyTorch's `torch.optim`.
 *
 * @packageDocumentation
 */
export { Optimizer, type OptimizerStateDict, type ParamGroup, type ParamsArg, type ParamState, type Hyper, type HyperValue } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm } from './clip.js';
