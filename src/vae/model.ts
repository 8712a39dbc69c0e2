import { full, randn } from '../tensor/create.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { defaultGenerator, Generator } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh } from '../nn/activations.js';
import { noGrad } from '../autograd/engine.js';
import { add, concat, mul, reshape, sub } from '../autograd/ops.js';
import { bernoulliLogProb, gaussianLogProb, LIKELIHOODS, likelihoodMean, type LikelihoodName } from './likelihoods.js';
import { reparameterize } from './reparameterize.js';

/** The hidden layers' nonlinearity, by name. */
export type ActivationName = 'relu' | 'leakyRelu' | 'elu' | 'tanh' | 'sigmoid' | 'softplus';
/** Every {@link ActivationName}. */
export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'leakyRelu', 'elu', 'tanh', 'sigmoid', 'softplus'];

/** The network family of a {@link VAE}: stacks of Linear layers, or convolutions over square images. */
export type ArchName = 'mlp' | 'conv';
/** Every {@link ArchName}. */
export const ARCHS: readonly ArchName[] = ['mlp', 'conv'];

/** The architecture of a {@link VAE}; every field but `inputDim` has the standard default. */
export interface VAEConfig {
  /** D, the data dimension (784 for 28×28 images). */
  inputDim: number;
  /**
   * 'mlp' (default): Linear layers of `hiddenDims`. 'conv': a convolutional encoder and a
   * transposed-convolution decoder over single-channel s×s images (D = s², s divisible by 4);
   * `hiddenDims` is then unused. See {@link VAE}.
   */
  arch?: ArchName;
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
  /**
   * K > 0 makes a conditional VAE over K classes (default 0: unconditional): a one-hot y is
   * concatenated to the encoder's input, q_φ(z | x, y), and to the decoder's, p_θ(x | z, y).
   */
  classes?: number;
}

/**
 * What {@link elbo} and {@link iwae} need of a model: an encoder q(z|x), a decoder and its
 * likelihood p(x|z). A {@link VAE} is one; so is a conditional VAE with its class held fixed
 * ({@link VAE.given}), which is why one ELBO and one IWAE serve both.
 */
export interface LatentVariableModel {
  /** The sizes and dtype: x is [batch, inputDim], z is [batch, latentDim]. */
  readonly config: { readonly inputDim: number; readonly latentDim: number; readonly dtype: DType };
  /** q(z|x): the mean and log-variance of the approximate posterior, each [batch, latentDim]. */
  encode(x: Tensor): { mu: Tensor; logVar: Tensor };
  /** The decoder: z [..., latentDim] → the likelihood's parameters (logits or means), [..., inputDim]. */
  decode(z: Tensor): Tensor;
  /** ln p(x | z) per example, in nats, from the decoder's output `out` for x. */
  logLikelihood(x: Tensor, out: Tensor): Tensor;
  /** z = μ + σ ⊙ ε with ε ~ N(0, I) (or the given `eps`), with the μ and ln σ² it came from. */
  sampleLatent(x: Tensor, eps?: Tensor, rng?: Generator): { z: Tensor; mu: Tensor; logVar: Tensor };
}

const makeActivation = (name: ActivationName): Module =>
  ({
    relu: () => new ReLU(),
    leakyRelu: () => new LeakyReLU(),
    elu: () => new ELU(),
    tanh: () => new Tanh(),
    sigmoid: () => new Sigmoid(),
    softplus: () => new Softplus(),
  })[name]();

/** The channel counts of the 'conv' encoder's two convolutions (the decoder mirrors them). */
const CONV_CHANNELS = [32, 64] as const;

/** Reshapes [batch, ...] to [batch, ...shape]: the seam between flat and image-shaped layers. */
class Reshape extends Module {
  constructor(private readonly shape: readonly number[]) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0]!, ...this.shape]);
  }

  override extraRepr(): string {
    return `[batch, ${this.shape.join(', ')}]`;
  }
}

/**
 * A variational autoencoder: an encoder q_φ(z|x) = N(μ(x), diag σ²(x)) with heads `mu` and
 * `logVar`, a prior p(z) = N(0, I), and a decoder p_θ(x|z) given by `likelihood`.
 *
 * Parameters, in `namedParameters()` order: the encoder's hidden layers (`encoder.0`, …), the
 * `mu` head, the `logVar` head, the decoder's hidden layers (`decoder.0`, …), the `output`
 * layer, each layer's weight ([out, in]) then bias; then `outputLogVar` ([D]) for the
 * 'gaussian-learned' likelihood.
 *
 * With `arch: 'conv'` (single-channel s×s images, D = s², s divisible by 4; x stays flat
 * [batch, D]): the encoder is Conv2d(1→32, 4, stride 2, padding 1), act, Conv2d(32→64, 4,
 * stride 2, padding 1), act, flattened to 64·(s/4)² features for the `mu` and `logVar` heads;
 * the decoder is Linear(latentDim → 64·(s/4)²), act, reshaped to [64, s/4, s/4],
 * ConvTranspose2d(64→32, 4, stride 2, padding 1), act, and the `output` layer
 * ConvTranspose2d(32→1, 4, stride 2, padding 1), flattened back to [batch, D]. Parameter names:
 * `encoder.1`, `encoder.3` (the convolutions), `mu`, `logVar`, `decoder.0` (Linear), `decoder.3`
 * (the first transposed convolution), `output`.
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
  /** The last decoder layer: Linear for 'mlp', ConvTranspose2d(32→1) for 'conv'. */
  readonly output: Linear | ConvTranspose2d;
  /** Per-dimension ln σ² of the 'gaussian-learned' likelihood; null otherwise. */
  readonly outputLogVar: Tensor | null;
  /** ln σ² of the fixed Gaussian likelihood, as a scalar tensor. */
  private readonly fixedLogVar: Tensor;

  constructor(config: VAEConfig) {
    super();
    const c = {
      inputDim: config.inputDim,
      arch: config.arch ?? 'mlp',
      hiddenDims: config.hiddenDims ?? [400],
      latentDim: config.latentDim ?? 20,
      likelihood: config.likelihood ?? 'bernoulli',
      sigma: config.sigma ?? 1,
      activation: config.activation ?? 'relu',
      dtype: config.dtype ?? 'float32',
      classes: config.classes ?? 0,
    };
    const positive = (name: string, n: number): void => {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`VAE: ${name} must be a positive integer, got ${n}`);
    };
    positive('inputDim', c.inputDim);
    positive('latentDim', c.latentDim);
    c.hiddenDims.forEach((h) => positive('each of hiddenDims', h));
    if (!Number.isInteger(c.classes) || c.classes < 0) throw new RangeError(`VAE: classes must be an integer >= 0, got ${c.classes}`);
    if (!LIKELIHOODS.includes(c.likelihood)) throw new RangeError(`VAE: unknown likelihood '${c.likelihood}' (choose ${LIKELIHOODS.join(', ')})`);
    if (!ACTIVATIONS.includes(c.activation)) throw new RangeError(`VAE: unknown activation '${c.activation}' (choose ${ACTIVATIONS.join(', ')})`);
    if (!(c.sigma > 0) || !Number.isFinite(c.sigma)) throw new RangeError(`VAE: sigma must be a positive finite number, got ${c.sigma}`);
    if (!ARCHS.includes(c.arch)) throw new RangeError(`VAE: unknown arch '${c.arch}' (choose ${ARCHS.join(', ')})`);
    this.config = c;
    const rng = config.seed === undefined ? defaultGenerator : new Generator(config.seed);
    const linear = (i: number, o: number): Linear => new Linear(i, o, { rng, dtype: c.dtype });
    if (c.arch === 'conv') {
      const side = Math.round(Math.sqrt(c.inputDim));
      if (side * side !== c.inputDim || side % 4 !== 0) {
        throw new RangeError(
          `VAE: arch 'conv' needs single-channel square images with a side divisible by 4 (28×28: inputDim 784), got inputDim ${c.inputDim}${side * side === c.inputDim ? ` (${side}×${side})` : ' (not a square)'}`,
        );
      }
      if (c.classes > 0) throw new RangeError(`VAE: arch 'conv' has no conditional form yet (classes must be 0, got ${c.classes})`);
      const quarter = side / 4;
      const features = CONV_CHANNELS[1] * quarter * quarter;
      const layer = { stride: 2, padding: 1, rng, dtype: c.dtype };
      this.encoder = this.registerModule(
        'encoder',
        new Sequential(
          new Reshape([1, side, side]),
          new Conv2d(1, CONV_CHANNELS[0], 4, layer),
          makeActivation(c.activation),
          new Conv2d(CONV_CHANNELS[0], CONV_CHANNELS[1], 4, layer),
          makeActivation(c.activation),
          new Reshape([features]),
        ),
      );
      this.mu = this.registerModule('mu', linear(features, c.latentDim));
      this.logVar = this.registerModule('logVar', linear(features, c.latentDim));
      this.decoder = this.registerModule(
        'decoder',
        new Sequential(
          linear(c.latentDim, features),
          makeActivation(c.activation),
          new Reshape([CONV_CHANNELS[1], quarter, quarter]),
          new ConvTranspose2d(CONV_CHANNELS[1], CONV_CHANNELS[0], 4, layer),
          makeActivation(c.activation),
        ),
      );
      this.output = this.registerModule('output', new ConvTranspose2d(CONV_CHANNELS[0], 1, 4, layer));
      this.outputLogVar = c.likelihood === 'gaussian-learned' ? this.registerParameter('outputLogVar', full([c.inputDim], 0, { dtype: c.dtype })) : null;
      this.fixedLogVar = full([], Math.log(c.sigma * c.sigma), { dtype: c.dtype });
      return;
    }
    const mlp = (sizes: number[]): Sequential => new Sequential(...sizes.slice(1).flatMap((o, i) => [linear(sizes[i]!, o), makeActivation(c.activation)]));

    this.encoder = this.registerModule('encoder', mlp([c.inputDim + c.classes, ...c.hiddenDims]));
    const encoderOut = c.hiddenDims.at(-1) ?? c.inputDim + c.classes;
    this.mu = this.registerModule('mu', linear(encoderOut, c.latentDim));
    this.logVar = this.registerModule('logVar', linear(encoderOut, c.latentDim));
    const decoderDims = [...c.hiddenDims].reverse();
    this.decoder = this.registerModule('decoder', mlp([c.latentDim + c.classes, ...decoderDims]));
    this.output = this.registerModule('output', linear(decoderDims.at(-1) ?? c.latentDim + c.classes, c.inputDim));
    this.outputLogVar = c.likelihood === 'gaussian-learned' ? this.registerParameter('outputLogVar', full([c.inputDim], 0, { dtype: c.dtype })) : null;
    this.fixedLogVar = full([], Math.log(c.sigma * c.sigma), { dtype: c.dtype });
  }

  /**
   * q(z|x), or q(z|x, y) for a conditional model: the mean and log-variance of the approximate
   * posterior, each [batch, latentDim]. `y` (one-hot, [batch, classes]) is required exactly when
   * the model is conditional, and is concatenated to x.
   */
  encode(x: Tensor, y?: Tensor): { mu: Tensor; logVar: Tensor } {
    if (x.ndim !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new Error(`VAE.encode: expected input [batch, ${this.config.inputDim}], got ${fmt(x.shape)}`);
    }
    if (x.dtype !== this.config.dtype) throw new Error(`VAE.encode: input is ${x.dtype} but the model is ${this.config.dtype}`);
    const h = this.encoder.call(this.withClass('VAE.encode', x, y));
    return { mu: this.mu.call(h), logVar: this.logVar.call(h) };
  }

  /**
   * The decoder network: z [..., latentDim] → logits (Bernoulli) or means (Gaussian), [..., inputDim].
   * A conditional model needs `y` ([batch, classes]); z's rows (all leading axes flattened) must
   * be m·batch, row r decoded with y's row r mod batch (so `iwae`'s k draws per example line up).
   */
  decode(z: Tensor, y?: Tensor): Tensor {
    if (this.config.arch === 'conv') {
      if (y) throw new Error('VAE.decode: a class y was given, but this model is unconditional (classes = 0)');
      if (z.shape.at(-1) !== this.config.latentDim) throw new Error(`VAE.decode: expected z [..., ${this.config.latentDim}], got ${fmt(z.shape)}`);
      const rows = z.numel() / this.config.latentDim;
      const out = this.output.call(this.decoder.call(reshape(z, [rows, this.config.latentDim])));
      return reshape(out, [...z.shape.slice(0, -1), this.config.inputDim]);
    }
    if (this.config.classes === 0) return this.output.call(this.decoder.call(this.withClass('VAE.decode', z, y)));
    const rows = z.numel() / this.config.latentDim;
    const out = this.output.call(this.decoder.call(this.withClass('VAE.decode', reshape(z, [rows, this.config.latentDim]), y)));
    return reshape(out, [...z.shape.slice(0, -1), this.config.inputDim]);
  }

  /** [a, y] along the last axis for a conditional model (y tiled down a's rows); a itself otherwise. */
  private withClass(op: string, a: Tensor, y: Tensor | undefined): Tensor {
    const classes = this.config.classes;
    if (classes === 0) {
      if (y) throw new Error(`${op}: a class y was given, but this model is unconditional (classes = 0)`);
      return a;
    }
    if (!y) throw new Error(`${op}: this model is conditional on ${classes} classes: pass y, one-hot [batch, ${classes}] (see oneHot), or use model.given(y)`);
    const rows = a.shape[0]!;
    if (y.ndim !== 2 || y.shape[1] !== classes || y.shape[0]! < 1 || rows % y.shape[0]! !== 0) {
      throw new Error(`${op}: y must be one-hot [batch, ${classes}] with batch dividing the ${rows} rows of ${fmt(a.shape)}, got ${fmt(y.shape)}`);
    }
    const copies = rows / y.shape[0]!;
    return concat(
      [
        a,
        copies === 1
          ? y
          : concat(
              Array.from({ length: copies }, () => y),
              0,
            ),
      ],
      1,
    );
  }

  /**
   * The conditional model with its class held fixed: for each row of `y` (one-hot [batch,
   * classes]), x ↦ q(z|x, y) and z ↦ p(x|z, y) form an ordinary VAE over x, which is what
   * {@link elbo}, {@link iwae} and every other bound take.
   */
  given(y: Tensor): ConditionedVAE {
    if (this.config.classes === 0) throw new Error('VAE.given: this model is unconditional (classes = 0)');
    return new ConditionedVAE(this, y);
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

  /** The mean image reconstructed from x through z = μ(x) (no sampling noise); `y` for a conditional model. */
  forward(x: Tensor, y?: Tensor): Tensor {
    return this.mean(this.decode(this.encode(x, y).mu, y));
  }

  /** x → mean of p(x | z = μ(x)), without recording gradients; `y` for a conditional model. */
  reconstruct(x: Tensor, y?: Tensor): Tensor {
    return noGrad(() => this.forward(x, y));
  }

  /**
   * n draws z ~ N(0, I) decoded to the mean of p(x|z), or of p(x|z, y) for a conditional
   * model given `y` (one-hot, n rows or a divisor of n): [n, inputDim].
   */
  sample(n: number, rng?: Generator, y?: Tensor): Tensor {
    return noGrad(() => this.mean(this.decode(randn([n, this.config.latentDim], { dtype: this.config.dtype, rng }), y)));
  }

  /**
   * Decodes `steps` points on the line from μ(x1) to μ(x2) (both [1, D] or [D]), endpoints
   * included. A conditional model needs each end's label (`y1`, `y2`: one-hot, [1, classes] or
   * [classes]): each end is encoded with its own label, and the label moves along the same line,
   * (1 − t)·y1 + t·y2, so a pair of one class keeps its class and a pair of two morphs between them.
   */
  interpolate(x1: Tensor, x2: Tensor, steps: number, y1?: Tensor, y2?: Tensor): Tensor {
    if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`VAE.interpolate: steps must be an integer >= 2, got ${steps}`);
    const { classes, inputDim } = this.config;
    if (classes > 0 && (!y1 || !y2))
      throw new Error(`VAE.interpolate: this model is conditional on ${classes} classes; pass each end's one-hot label (y1, y2)`);
    if (classes === 0 && (y1 || y2)) throw new Error('VAE.interpolate: labels were given, but this model is unconditional (trained without classes)');
    const label = (y: Tensor | undefined) => y && reshape(y, [1, classes]);
    const line = (from: Tensor, to: Tensor) =>
      concat(
        Array.from({ length: steps }, (_, i) => add(from, mul(sub(to, from), i / (steps - 1)))),
        0,
      );
    return noGrad(() => {
      const [label1, label2] = [label(y1), label(y2)];
      const mu1 = this.encode(reshape(x1, [1, inputDim]), label1).mu;
      const mu2 = this.encode(reshape(x2, [1, inputDim]), label2).mu;
      return this.mean(this.decode(line(mu1, mu2), label1 && label2 && line(label1, label2)));
    });
  }

  /** z = μ + σ ⊙ ε for x (ε fixed by `eps` or drawn from `rng`); `y` for a conditional model. */
  sampleLatent(x: Tensor, eps?: Tensor, rng?: Generator, y?: Tensor): { z: Tensor; mu: Tensor; logVar: Tensor } {
    const { mu, logVar } = this.encode(x, y);
    return { z: reparameterize(mu, logVar, eps, rng), mu, logVar };
  }

  override extraRepr(): string {
    const c = this.config;
    if (c.arch === 'conv') return `arch=conv, inputDim=${c.inputDim}, latentDim=${c.latentDim}, likelihood=${c.likelihood}, activation=${c.activation}`;
    return `inputDim=${c.inputDim}, hiddenDims=[${c.hiddenDims.join(', ')}], latentDim=${c.latentDim}, likelihood=${c.likelihood}, activation=${c.activation}${c.classes > 0 ? `, classes=${c.classes}` : ''}`;
  }
}

/**
 * A conditional {@link VAE} with the class of each example fixed: q(z|x, y) and p(x|z, y) for
 * the rows of `y`. With y held fixed, the ELBO identity ln p(x|y) = ELBO + KL(q(z|x, y) ‖ p(z|x, y))
 * is the unconditional one, so `elbo(model.given(y), x)` and `iwae(model.given(y), x, k)` are the
 * conditional bounds.
 */
export class ConditionedVAE implements LatentVariableModel {
  constructor(
    /** The conditional model. */
    readonly model: VAE,
    /** One-hot classes, [batch, classes]. */
    readonly y: Tensor,
  ) {
    const k = model.config.classes;
    if (y.ndim !== 2 || y.shape[1] !== k) throw new Error(`ConditionedVAE: y must be one-hot [batch, ${k}], got ${fmt(y.shape)}`);
    if (y.dtype !== model.config.dtype) throw new Error(`ConditionedVAE: y is ${y.dtype} but the model is ${model.config.dtype}`);
  }

  get config(): VAE['config'] {
    return this.model.config;
  }

  encode(x: Tensor): { mu: Tensor; logVar: Tensor } {
    return this.model.encode(x, this.y);
  }

  decode(z: Tensor): Tensor {
    return this.model.decode(z, this.y);
  }

  logLikelihood(x: Tensor, out: Tensor): Tensor {
    return this.model.logLikelihood(x, out);
  }

  sampleLatent(x: Tensor, eps?: Tensor, rng?: Generator): { z: Tensor; mu: Tensor; logVar: Tensor } {
    return this.model.sampleLatent(x, eps, rng, this.y);
  }
}

/**
 * Class labels as one-hot rows, [labels.length, classes]: row i is 1 at column labels[i].
 * @example oneHot([2, 0], 3).data // [0, 0, 1, 1, 0, 0]
 */
export function oneHot(labels: ArrayLike<number>, classes: number, dtype: DType = 'float32'): Tensor {
  const out = allocate(dtype, labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes)
      throw new RangeError(`oneHot: label ${label} at index ${i} is not a class in 0..${classes - 1}`);
    out[i * classes + label] = 1;
  }
  return new Tensor(out, [labels.length, classes]);
}
