import { type Conv2dOptions, type ConvTranspose2dOptions, conv2d, convTranspose2d, type Size2d } from '../autograd/conv.js';
import { reshape } from '../autograd/ops.js';
import { rand } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import type { Generator } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Options of {@link Conv2d}: the op's (each size one number or a [height, width] pair), and the layer's own. */
export interface Conv2dLayerOptions {
  /** Step between windows (default 1); at least 1. */
  stride?: Size2d;
  /** Zeros added on every side of the input (default 0); non-negative. */
  padding?: Size2d;
  /** Spacing between kernel taps (default 1); at least 1. */
  dilation?: Size2d;
  /** Channel groups (default 1); both channel counts must be divisible by it. */
  groups?: number;
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** The generator for the initial weights; the default generator when omitted. */
  rng?: Generator;
  /** The parameters' dtype (default 'float32'). */
  dtype?: DType;
}

/** Options of {@link ConvTranspose2d}: those of {@link Conv2d}, and `outputPadding`. */
export interface ConvTranspose2dLayerOptions extends Conv2dLayerOptions {
  /** Extra rows and columns on the bottom and right of the output (default 0); less than stride or dilation. */
  outputPadding?: Size2d;
}

const CONV2D_LAYER_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'rng', 'dtype'];
const CONV_TRANSPOSE2D_LAYER_OPTIONS = [...CONV2D_LAYER_OPTIONS, 'outputPadding'];

/** A positive integer, or an error naming the layer and the value. */
function positive(layer: string, name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${layer}: ${name} must be a positive integer, got ${n}`);
  return n;
}

/** `value` as a [height, width] pair of integers ≥ `min`, or an error naming the layer and the option. */
function pair(layer: string, name: string, value: Size2d | undefined, fallback: number, min: number): [number, number] {
  const sizes = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  const what = min === 0 ? 'a non-negative integer' : 'a positive integer';
  if (!Array.isArray(sizes) || sizes.length !== 2 || sizes.some((v) => !Number.isInteger(v) || v < min)) {
    throw new RangeError(`${layer}: ${name} must be ${what} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [sizes[0]!, sizes[1]!];
}

/** The settings both layers share, each checked; the channel counts must split into `groups`. */
function settings(layer: string, inChannels: number, outChannels: number, kernelSize: Size2d, options: ConvTranspose2dLayerOptions, known: readonly string[]) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new RangeError(`${layer}: unknown option '${key}' (options: ${known.join(', ')})`);
  }
  if (kernelSize === undefined) throw new RangeError(`${layer}: kernelSize is required (a positive integer or a pair of them)`);
  positive(layer, 'inChannels', inChannels);
  positive(layer, 'outChannels', outChannels);
  const groups = positive(layer, 'groups', options.groups ?? 1);
  if (inChannels % groups !== 0) throw new RangeError(`${layer}: inChannels ${inChannels} must be divisible by groups ${groups}`);
  if (outChannels % groups !== 0) throw new RangeError(`${layer}: outChannels ${outChannels} must be divisible by groups ${groups}`);
  return {
    kernelSize: pair(layer, 'kernelSize', kernelSize, 1, 1),
    stride: pair(layer, 'stride', options.stride, 1, 1),
    padding: pair(layer, 'padding', options.padding, 0, 0),
    dilation: pair(layer, 'dilation', options.dilation, 1, 1),
    groups,
  };
}

/** The input as [batch, channels, h, w] (a 3-D [channels, h, w] gets a batch of 1), or an error naming the layer. */
function batched(layer: string, inChannels: number, x: Tensor): Tensor {
  if ((x.ndim !== 3 && x.ndim !== 4) || x.shape[x.ndim - 3] !== inChannels) {
    throw new Error(`${layer}: input must be [batch, ${inChannels}, height, width] or [${inChannels}, height, width], got input shape ${fmt(x.shape)}`);
  }
  return x.ndim === 3 ? reshape(x, [1, ...x.shape]) : x;
}

/** `y` without its batch axis when the input `x` had none. */
function unbatched(x: Tensor, y: Tensor): Tensor {
  return x.ndim === 3 ? reshape(y, y.shape.slice(1)) : y;
}

/** `name=[h, w]` for a pair. */
const show = (name: string, [h, w]: readonly [number, number]): string => `${name}=[${h}, ${w}]`;

/**
 * A 2-D convolution layer (a cross-correlation), like PyTorch's `nn.Conv2d`: the {@link conv2d} op
 * with a learned weight and bias.
 *
 * `weight` has shape [outChannels, inChannels/groups, kh, kw] (PyTorch's layout) and `bias` shape
 * [outChannels]. Inputs are [batch, inChannels, h, w] (or [inChannels, h, w], unbatched); outputs
 * [batch, outChannels, hₒ, wₒ] with hₒ = ⌊(h + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1
 * (likewise wₒ).
 *
 * Initialization is PyTorch's default: with fanIn = (inChannels/groups)·kh·kw (weight.shape[1]·kh·kw),
 * every entry of the weight and the bias is drawn from U(−1/√fanIn, 1/√fanIn) (weight first, then
 * bias, row-major), which for the weight equals `kaimingUniform(weight, { a: √5 })`.
 *
 * @example
 * const layer = new Conv2d(1, 8, 3, { padding: 1, rng: new Generator(0) });
 * layer.call(zeros([2, 1, 28, 28])).shape; // [2, 8, 28, 28]
 */
export class Conv2d extends Module {
  /** Channels of the input. */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** [kh, kw]. */
  readonly kernelSize: readonly [number, number];
  /** Step between windows, [height, width]. */
  readonly stride: readonly [number, number];
  /** Zeros added on every side of the input, [height, width]. */
  readonly padding: readonly [number, number];
  /** Spacing between kernel taps, [height, width]. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** The weight, shape [outChannels, inChannels/groups, kh, kw]. */
  readonly weight: Tensor;
  /** The bias, shape [outChannels]; null when built with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dLayerOptions = {}) {
    super();
    const s = settings('Conv2d', inChannels, outChannels, kernelSize, options, CONV2D_LAYER_OPTIONS);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = s.kernelSize;
    this.stride = s.stride;
    this.padding = s.padding;
    this.dilation = s.dilation;
    this.groups = s.groups;
    const fanIn = (inChannels / s.groups) * s.kernelSize[0] * s.kernelSize[1];
    const bound = 1 / Math.sqrt(fanIn); // U(−1/√fanIn, 1/√fanIn): kaiming uniform with a = √5
    const init = { low: -bound, high: bound, rng: options.rng, dtype: options.dtype ?? 'float32', requiresGrad: true } as const;
    this.weight = this.registerParameter('weight', rand([outChannels, inChannels / s.groups, ...s.kernelSize], init));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', rand([outChannels], init)) : null;
  }

  /** The convolution of x ([batch, inChannels, h, w] or [inChannels, h, w]) with the weight, plus the bias. */
  forward(x: Tensor): Tensor {
    const options: Conv2dOptions = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    return unbatched(x, conv2d(batched('Conv2d', this.inChannels, x), this.weight, this.bias, options));
  }

  override extraRepr(): string {
    return (
      `inChannels=${this.inChannels}, outChannels=${this.outChannels}, ${show('kernelSize', this.kernelSize)}, ${show('stride', this.stride)}, ` +
      `${show('padding', this.padding)}, ${show('dilation', this.dilation)}, groups=${this.groups}, bias=${this.bias !== null}`
    );
  }
}

/**
 * A transposed 2-D convolution layer, like PyTorch's `nn.ConvTranspose2d`: the
 * {@link convTranspose2d} op (the adjoint of {@link conv2d} in its input) with a learned weight and bias.
 *
 * `weight` has shape [inChannels, outChannels/groups, kh, kw] (PyTorch's layout) and `bias` shape
 * [outChannels]. Inputs are [batch, inChannels, h, w] (or [inChannels, h, w], unbatched); outputs
 * [batch, outChannels, hₒ, wₒ] with hₒ = (h − 1)·stride − 2·padding + dilation·(kh − 1) +
 * outputPadding + 1 (likewise wₒ). PyTorch's `output_size` argument of `forward` is not offered:
 * choose `outputPadding` instead.
 *
 * Initialization is PyTorch's default: with fanIn computed from the weight as PyTorch does,
 * fanIn = weight.shape[1]·kh·kw = (outChannels/groups)·kh·kw, every entry of the weight and the
 * bias is drawn from U(−1/√fanIn, 1/√fanIn) (weight first, then bias, row-major).
 *
 * @example
 * const layer = new ConvTranspose2d(8, 1, 4, { stride: 2, padding: 1, rng: new Generator(0) });
 * layer.call(zeros([2, 8, 14, 14])).shape; // [2, 1, 28, 28]
 */
export class ConvTranspose2d extends Module {
  /** Channels of the input. */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** [kh, kw]. */
  readonly kernelSize: readonly [number, number];
  /** Step between input positions in the output, [height, width]. */
  readonly stride: readonly [number, number];
  /** Rows and columns cut from every side of the output, [height, width]. */
  readonly padding: readonly [number, number];
  /** Extra rows and columns on the bottom and right of the output, [height, width]. */
  readonly outputPadding: readonly [number, number];
  /** Spacing between kernel taps, [height, width]. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** The weight, shape [inChannels, outChannels/groups, kh, kw]. */
  readonly weight: Tensor;
  /** The bias, shape [outChannels]; null when built with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: ConvTranspose2dLayerOptions = {}) {
    super();
    const s = settings('ConvTranspose2d', inChannels, outChannels, kernelSize, options, CONV_TRANSPOSE2D_LAYER_OPTIONS);
    const outputPadding = pair('ConvTranspose2d', 'outputPadding', options.outputPadding, 0, 0);
    for (const axis of [0, 1] as const) {
      if (outputPadding[axis] >= s.stride[axis] && outputPadding[axis] >= s.dilation[axis]) {
        throw new RangeError(
          `ConvTranspose2d: outputPadding ${outputPadding.join('x')} must be smaller than stride ${s.stride.join('x')} or dilation ${s.dilation.join('x')}`,
        );
      }
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = s.kernelSize;
    this.stride = s.stride;
    this.padding = s.padding;
    this.outputPadding = outputPadding;
    this.dilation = s.dilation;
    this.groups = s.groups;
    const fanIn = (outChannels / s.groups) * s.kernelSize[0] * s.kernelSize[1]; // PyTorch: weight.size(1)·kh·kw
    const bound = 1 / Math.sqrt(fanIn); // U(−1/√fanIn, 1/√fanIn): kaiming uniform with a = √5
    const init = { low: -bound, high: bound, rng: options.rng, dtype: options.dtype ?? 'float32', requiresGrad: true } as const;
    this.weight = this.registerParameter('weight', rand([inChannels, outChannels / s.groups, ...s.kernelSize], init));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', rand([outChannels], init)) : null;
  }

  /** The transposed convolution of x ([batch, inChannels, h, w] or [inChannels, h, w]) with the weight, plus the bias. */
  forward(x: Tensor): Tensor {
    const options: ConvTranspose2dOptions = {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    };
    return unbatched(x, convTranspose2d(batched('ConvTranspose2d', this.inChannels, x), this.weight, this.bias, options));
  }

  override extraRepr(): string {
    return (
      `inChannels=${this.inChannels}, outChannels=${this.outChannels}, ${show('kernelSize', this.kernelSize)}, ${show('stride', this.stride)}, ` +
      `${show('padding', this.padding)}, ${show('outputPadding', this.outputPadding)}, ${show('dilation', this.dilation)}, ` +
      `groups=${this.groups}, bias=${this.bias !== null}`
    );
  }
}
