/**
 * `elbo/vae`: the variational autoencoder, platform-neutral: the model, its likelihoods, the KL
 * terms, the ELBO and the IWAE bound, evaluation on a data set, and one training step. Training
 * runs that write checkpoints, pictures and reports to disk are in `elbo/node`.
 *
 * @packageDocumentation
 */
export { VAE, type VAEConfig, type ActivationName, ACTIVATIONS, type ArchName, ARCHS } from './model.js';
export { reparameterize } from './reparameterize.js';
export { klStandardNormal, klStandardNormalPerDimension, klMonteCarlo } from './kl.js';
export { bernoulliLogProb, gaussianLogProb, logNormal, logStandardNormal, likelihoodMean, type LikelihoodName, LIKELIHOODS } from './likelihoods.js';
export { elbo, klWeight, type ElboOptions, type ElboResult } from './elbo.js';
export { iwae, type IwaeOptions } from './iwae.js';
export { evaluate, spreadIndices, type Evaluation, type EvaluateOptions } from './evaluate.js';
export { trainStep, buildModel, testSetFor, scoresAreNats, DEFAULT_TRAIN_CONFIG, type TrainConfig, type StepPhases, type StepOptimizer } from './train-step.js';
export { projectTo2d, normalQuantile } from './latent.js';
export { latentGrid, gridLogLikelihoods, integrate, gaussHermite, elboByGaussHermite, type LatentGrid, type PointQuadrature } from '../verify/latent-grid.js';
export { ConditionedVAE, oneHot, type LatentVariableModel } from './model.js';
export {
  FixedPosterior,
  optimizePosterior,
  elboPerExample,
  inferenceGaps,
  aggregatePosteriorSplit,
  type InferenceGaps,
  type AggregatePosteriorSplit,
} from './gaps.js';
