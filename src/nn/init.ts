import { defaultGenerator, type Generator } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Weight initializers, as in PyTorch's `torch.nn.init`. Each overwrites the tensor's numbers
 * in place (PyTorch's `xavier_uniform_` etc.), drawing from `rng` (the default generator when
 * omitted) in row-major order, and returns the tensor.
 *
 * Fans, for a weight of shape [out, in, k₁, k₂, …] (PyTorch's layout):
 * fanIn = in·k₁·k₂·…, fanOut = out·k₁·k₂·…; a Linear weight [out, in] has fanIn = in.
 */

/** The activations {@link calculateGain} knows. */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** Which fan {@link kaimingUniform} and {@link kaimingNormal} preserve the variance of. */
export type FanMode = 'fanIn' | 'fanOut';

/** Options shared by the initializers. */
export interface InitOptions {
  /** The generator to draw from; the default generator when omitted. */
  rng?: Generator;
}

/**
 * The recommended gain for an activation (PyTorch's `calculate_gain`): linear and sigmoid 1,
 * tanh 5/3, relu √2, leakyRelu √(2/(1 + a²)) with negative slope a (0.01 by default), selu 3/4.
 */
export function calculateGain(nonlinearity: Nonlinearity, a?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = a ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default: {
      const unknown: never = nonlinearity; // a Nonlinearity without a case does not compile
      throw new RangeError(`calculateGain: unknown nonlinearity ${JSON.stringify(unknown)}`);
    }
  }
}

/** [fanIn, fanOut] of a weight with at least 2 axes (see the module comment). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new RangeError(`calculateFanInAndFanOut: needs a tensor with at least 2 axes, got shape ${fmt(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((n, d) => n * d, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fill(t: Tensor, rng: Generator | undefined, draw: (rng: Generator) => number): Tensor {
  const g = rng ?? defaultGenerator;
  const d = t.data; // written in place: nothing is recorded
  for (let i = 0; i < d.length; i++) d[i] = draw(g);
  return t;
}

function positiveFan(op: string, fan: number, t: Tensor): number {
  if (fan <= 0) throw new RangeError(`${op}: fan is 0 for shape ${fmt(t.shape)}`);
  return fan;
}

/** Xavier/Glorot uniform: U(−a, a) with a = gain·√(6/(fanIn + fanOut)) (gain 1 by default). */
export function xavierUniform(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = (options.gain ?? 1) * Math.sqrt(6 / positiveFan('xavierUniform', fanIn + fanOut, t)); // a = gain·√(6/(fanIn+fanOut))
  return fill(t, options.rng, (g) => -a + 2 * a * g.uniform());
}

/** Xavier/Glorot normal: N(0, std²) with std = gain·√(2/(fanIn + fanOut)) (gain 1 by default). */
export function xavierNormal(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = (options.gain ?? 1) * Math.sqrt(2 / positiveFan('xavierNormal', fanIn + fanOut, t)); // std = gain·√(2/(fanIn+fanOut))
  return fill(t, options.rng, (g) => std * g.normal());
}

/** Options of the Kaiming (He) initializers; the defaults are PyTorch's. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** Preserve the variance of the forward pass ('fanIn', default) or the backward pass ('fanOut'). */
  mode?: FanMode;
  /** The activation that follows (default 'leakyRelu', which with a = 0 is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, options: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new RangeError(`${op}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const fan = positiveFan(op, mode === 'fanIn' ? fanIn : fanOut, t);
  return calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0) / Math.sqrt(fan); // std = gain/√fan
}

/** Kaiming/He uniform: U(−bound, bound) with bound = √3·gain/√fan. */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', t, options); // bound = √3·std
  return fill(t, options.rng, (g) => -bound + 2 * bound * g.uniform());
}

/** Kaiming/He normal: N(0, std²) with std = gain/√fan. */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  const std = kaimingStd('kaimingNormal', t, options);
  return fill(t, options.rng, (g) => std * g.normal());
}
