export { runVerify, VERIFY_SECTIONS, type VerifySection, type VerifyOptions } from './run.js';
export { row, meanAndStandardError, type VerifyRow, type Relation } from './rows.js';
export * as linalg from './linalg.js';
export {
  type LinearGaussian,
  type Gaussian,
  type PpcaFit,
  marginalCov,
  logMarginal,
  posterior,
  klGaussians,
  standardNormal,
  expectedLogLikelihood,
  gaussianElbo,
  sampleMoments,
  meanLogMarginal,
  ppcaMaximumLikelihood,
} from './ppca.js';
export {
  verifyLinearGaussianIdentities,
  randomLinearGaussian,
  sampleLinearGaussian,
  logMarginalByQuadrature2d,
  ascendPhi,
  orthogonalColumnsModel,
  type IdentityOptions,
} from './identity.js';
export { LinearGaussianVAE, trainLinearVae, runLinearVae, verifyLinearVae, type LinearVaeOptions, type LinearVaeResult } from './linear-vae.js';
export { latentGrid, gridLogLikelihoods, integrate, gaussHermite, elboByGaussHermite, type LatentGrid, type PointQuadrature } from './latent-grid.js';
export { trainLatent2dVae, runQuadrature, verifyQuadrature, type QuadratureOptions, type QuadratureResult } from './quadrature.js';
export { compareEstimators, verifyEstimators, type EstimatorOptions, type EstimatorComparison } from './estimators.js';
export {
  runCollapse,
  trainWithBeta,
  latentUsage,
  collapseData,
  collapsePicture,
  runLabel,
  ACTIVE_UNIT_THRESHOLD,
  INFORMATIVE_KL,
  type CollapseOptions,
  type CollapseRun,
} from './collapse.js';
export {
  verifyConditional,
  givenClass,
  sampleConditional,
  linearCvae,
  engineConditionalElbo,
  type ConditionalLinearGaussian,
  type ConditionalOptions,
} from './conditional.js';
