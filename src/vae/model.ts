import { full, randn } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import { defaultGenerator, Generator } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Sequential } from '../nn/sequential.js';
import { ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh } from '../nn/activations.js';
import { noGrad } from '../autograd/engine.js';
import { add, concat, mul, reshape, sub } from '../autograd/ops.js';
import { bernoulliLogProb, gaussianLogProb, LIKELIHOODS, likelihoodMean, type LikelihoodName } from './likelihoods.js';
import { reparameterize } from './reparameterize.js';

/** The hidden layers' nonlinearity, by name. */
export type ActivationName = 'relu' | 'leakyRelu' | 'elu' | 'tanh' | 'sigmoid' | 'softplus';
/** Every {@link ActivationName}. */
export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'leakyRelu', 'elu', 'tanh', 'sigmoid', 'softplus'];

/** The architecture of a {@link VAE}; every field but `inputDim` has the standard default. */
export interface VAEConfig {
  /** D, the data dimension (784 for 28×28 images). */
  inputDim: number;
  /** Encoder hidden sizes; the decoder mirrors them (default [400]). */
  hiddenDims?: number[];
  /** The latent dimension (default 20). */
  latentDim?: number;
  /** p(x|z) (default 'bernoulli'). */
  likelihood?: LikelihoodName;
  /** σ of the fixed-variance Gaussian likelihood (default 1). */
  sigma?: number;
  /** The hidden activation (default 'relu'). */
  activation?: ActivationName;
  dtype?: DType;
  /** Seeds the initial weights (PyTorch's default init, drawn in parameter order). */
  seed?: number;
}

const makeActivation = (name: ActivationName): Module =>
  ({ relu: () => new ReLU(), leakyRelu: () => new LeakyReLU(), elu: () => new ELU(), tanh: () => new Tanh(), sigmoid: () => new Sigmoid(), softplus: () => new Softplus() })[name]();

/**
 * A variational autoencoder: an encoder q_φ(z|x) = N(μ(x), diag σ²(x)) with heads `mu` and
 * `logVar`, a prior p(z) = N(0, I), and a decoder p_θ(x|z) given by `likelihood`.
 *
 * Parameters, in `namedParameters()` order: the encoder's hidden layers (`encoder.0`, …), the
 * `mu` head, the `logVar` head, the decoder's hidden layers (`decoder.0`, …), the `output`
 * layer, each layer's weight ([out, in]) then bias; then `outputLogVar` ([D]) for the
 * 'gaussian-learned' likelihood.
 *
 * @example
 * const vae = new VAE({ inputDim: 784 });      // 784-400-20 / 20-400-784, Bernoulli, ReLU
 * const { mu, logVar } = vae.encode(x);
 */
export class VAE extends Module {
  readonly config: Required<Omit<VAEConfig, 'seed'>>;
  readonly encoder: Sequential;
  readonly mu: Linear;
  readonly logVar: Linear;
  readonly decoder: Sequential;
  readonly output: Linear;
  /** Per-dimension ln σ² of the 'gaussian-learned' likelihood; null otherwise. */
  readonly outputLogVar: Tensor | null;
  /** ln σ² of the fixed Gaussian likelihood, as a scalar tensor. */
  private readonly fixedLogVar: Tensor;

  constructor(config: VAEConfig) {
    super();
    const c = {
      inputDim: config.inputDim, hiddenDims: config.hiddenDims ?? [400], latentDim: config.latentDim ?? 20,
      likelihood: config.likelihood ?? 'bernoulli', sigma: config.sigma ?? 1, activation: config.activation ?? 'relu', dtype: config.dtype ?? 'float32',
    };
    const positive = (name: string, n: number): void => {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`VAE: ${name} must be a positive integer, got ${n}`);
    };
    positive('inputDim', c.inputDim);
    positive('latentDim', c.latentDim);
    c.hiddenDims.forEach((h) => positive('each of hiddenDims', h));
    if (!LIKELIHOODS.includes(c.likelihood)) throw new RangeError(`VAE: unknown likelihood '${c.likelihood}' (choose ${LIKELIHOODS.join(', ')})`);
    if (!ACTIVATIONS.includes(c.activation)) throw new RangeError(`VAE: unknown activation '${c.activation}' (choose ${ACTIVATIONS.join(', ')})`);
    if (!(c.sigma > 0) || !Number.isFinite(c.sigma)) throw new RangeError(`VAE: sigma must be a positive finite number, got ${c.sigma}`);
    this.config = c;
    const rng = config.seed === undefined ? defaultGenerator : new Generator(config.seed);
    const linear = (i: number, o: number): Linear => new Linear(i, o, { rng, dtype: c.dtype });
    const mlp = (sizes: number[]): Sequential => new Sequential(...sizes.slice(1).flatMap((o, i) => [linear(sizes[i]!, o), makeActivation(c.activation)]));

    this.encoder = this.registerModule('encoder', mlp([c.inputDim, ...c.hiddenDims]));
    const encoderOut = c.hiddenDims.at(-1) ?? c.inputDim;
    this.mu = this.registerModule('mu', linear(encoderOut, c.latentDim));
    this.logVar = this.registerModule('logVar', linear(encoderOut, c.latentDim));
    const decoderDims = [...c.hiddenDims].reverse();
    this.decoder = this.registerModule('decoder', mlp([c.latentDim, ...decoderDims]));
    this.output = this.registerModule('output', linear(decoderDims.at(-1) ?? c.latentDim, c.inputDim));
    this.outputLogVar = c.likelihood === 'gaussian-learned' ? this.registerParameter('outputLogVar', full([c.inputDim], 0, { dtype: c.dtype })) : null;
    this.fixedLogVar = full([], Math.log(c.sigma * c.sigma), { dtype: c.dtype });
  }

  /** q(z|x): the mean and log-variance of the approximate posterior, each [batch, latentDim]. */
  encode(x: Tensor): { mu: Tensor; logVar: Tensor } {
    if (x.ndim !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new Error(`VAE.encode: expected input [batch, ${this.config.inputDim}], got ${fmt(x.shape)}`);
    }
    if (x.dtype !== this.config.dtype) throw new Error(`VAE.encode: input is ${x.dtype} but the model is ${this.config.dtype}`);
    const h = this.encoder.call(x);
    return { mu: this.mu.call(h), logVar: this.logVar.call(h) };
  }

  /** The decoder network: z [..., latentDim] → logits (Bernoulli) or means (Gaussian), [..., inputDim]. */
  decode(z: Tensor): Tensor {
    return this.output.call(this.decoder.call(z));
  }

  /** ln p(x|z) per example from the decoder output `out`, in nats (constants included). */
  logLikelihood(x: Tensor, out: Tensor): Tensor {
    if (this.config.likelihood === 'bernoulli') return bernoulliLogProb(x, out);
    return gaussianLogProb(x, out, this.outputLogVar ?? this.fixedLogVar);
  }

  /** The mean of p(x|z) for decoder output `out`: pixel intensities for pictures. */
  mean(out: Tensor): Tensor {
    return likelihoodMean(this.config.likelihood, out);
  }

  /** The mean image reconstructed from x through z = μ(x) (no sampling noise). */
  forward(x: Tensor): Tensor {
    return this.mean(this.decode(this.encode(x).mu));
  }

  /** x → mean of p(x | z = μ(x)), without recording gradients. */
  reconstruct(x: Tensor): Tensor {
    return noGrad(() => this.forward(x));
  }

  /** n draws z ~ N(0, I) decoded to the mean of p(x|z): [n, inputDim]. */
  sample(n: number, rng?: Generator): Tensor {
    return noGrad(() => this.mean(this.decode(randn([n, this.config.latentDim], { dtype: this.config.dtype, rng }))));
  }

  /** Decodes `steps` points on the line from μ(x1) to μ(x2) (both [1, D] or [D]), endpoints included. */
  interpolate(x1: Tensor, x2: Tensor, steps: number): Tensor {
    if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`VAE.interpolate: steps must be an integer >= 2, got ${steps}`);
    return noGrad(() => {
      const a = this.encode(reshape(x1, [1, this.config.inputDim])).mu;
      const b = this.encode(reshape(x2, [1, this.config.inputDim])).mu;
      const points = Array.from({ length: steps }, (_, i) => add(a, mul(sub(b, a), i / (steps - 1))));
      return this.mean(this.decode(concat(points, 0)));
    });
  }

  /** z = μ + σ ⊙ ε for x (ε fixed by `eps` or drawn from `rng`). */
  sampleLatent(x: Tensor, eps?: Tensor, rng?: Generator): { z: Tensor; mu: Tensor; logVar: Tensor } {
    const { mu, logVar } = this.encode(x);
    return { z: reparameterize(mu, logVar, eps, rng), mu, logVar };
  }

  override extraRepr(): string {
    const c = this.config;
    return `inputDim=${c.inputDim}, hiddenDims=[${c.hiddenDims.join(', ')}], latentDim=${c.latentDim}, likelihood=${c.likelihood}, activation=${c.activation}`;
  }
}
