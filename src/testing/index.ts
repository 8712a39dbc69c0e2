/**
 * `elbo/testing`: what a user needs to prove their own ops the way elbo proves its own:
 * `gradcheck` and `gradgradcheck` (first and second derivatives against central differences, in
 * float64) and fast-check property helpers (`checkOp`, shape and tensor arbitraries). Needs the
 * `fast-check` package (a peer dependency).
 *
 * @packageDocumentation
 */
export { gradcheck, gradgradcheck, GradcheckError, type GradcheckOptions, type GradgradcheckOptions, type GradcheckReport } from '../autograd/gradcheck.js';
export { checkOp, arbShape, arbBroadcastPair, arbTensor, real, awayFromZero, broadcastReference, type OpCase, type OpDraw } from './properties.js';
