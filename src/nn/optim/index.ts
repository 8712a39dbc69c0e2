/** Optimizers and gradient utilities, named as in `torch.optim`. */
export { Optimizer, type OptimizerStateDict, type ParamGroup, type ParamsArg, type ParamState, type Hyper, type HyperValue } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm } from './clip.js';
