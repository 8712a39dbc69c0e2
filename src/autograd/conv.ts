import { fmt, ShapeError } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { apply } from './engine.js';
import { add, permute, reshape, slice } from './ops.js';
import type { Conv2dAttrs } from './primitives.js';

/**
 * The 2-D convolutions, with PyTorch's semantics (NCHW): `conv2d` and its adjoint
 * `convTranspose2d`, each one primitive without bias (the bias is a broadcast add). The
 * derivative rules (`derivatives.ts`) use `conv2dPrim`, `convTranspose2dPrim` and
 * `convWeightGradient`, all written in differentiable ops, so second derivatives work.
 */

/** A size that is one number for both axes, or a [height, width] pair. */
export type Size2d = number | readonly [number, number];

/** Options of {@link conv2d}, PyTorch's names and defaults; each size is one number or a [height, width] pair. */
export interface Conv2dOptions {
  /** Step between windows (default 1); at least 1. */
  stride?: Size2d;
  /** Zeros added on every side (default 0); non-negative. */
  padding?: Size2d;
  /** Spacing between kernel taps (default 1); at least 1. */
  dilation?: Size2d;
  /** Channel groups (default 1): input and output channels split into this many independent convolutions. */
  groups?: number;
}

/** Options of {@link convTranspose2d}: those of {@link conv2d}, and `outputPadding`. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows and columns on the bottom and right of the output (default 0); less than stride or dilation. */
  outputPadding?: Size2d;
}

const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups'];
const CONV_TRANSPOSE2D_OPTIONS = [...CONV2D_OPTIONS, 'outputPadding'];

/** `value` as a [height, width] pair of integers ≥ `min`, or an error naming the op and the option. */
function pair(op: string, name: string, value: Size2d | undefined, fallback: number, min: number): [number, number] {
  const sizes = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  const what = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  if (!Array.isArray(sizes) || sizes.length !== 2 || sizes.some((v) => !Number.isInteger(v) || v < min)) {
    throw new RangeError(`${op}: ${name} must be ${what} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [sizes[0]!, sizes[1]!];
}

/** The options as primitive attributes, each checked on its own. */
function parseOptions(op: string, options: ConvTranspose2dOptions, known: readonly string[]): Conv2dAttrs {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new RangeError(`${op}: unknown option '${key}' (options: ${known.join(', ')})`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  return {
    stride: pair(op, 'stride', options.stride, 1, 1),
    padding: pair(op, 'padding', options.padding, 0, 0),
    dilation: pair(op, 'dilation', options.dilation, 1, 1),
    groups,
  };
}

/** Checks that x and weight are 4-D and that the channel counts split into `groups`. */
function checkShapes(op: string, x: Tensor, weight: Tensor, groups: number): void {
  const transposed = op === 'convTranspose2d';
  if (x.ndim !== 4) throw new ShapeError(`${op}: input must be [batch, channels, height, width], got ${fmt(x.shape)}`);
  const layout = transposed ? '[in, out/groups, kh, kw]' : '[out, in/groups, kh, kw]';
  if (weight.ndim !== 4) throw new ShapeError(`${op}: weight must be ${layout}, got ${fmt(weight.shape)}`);
  const inChannels = x.shape[1]!;
  if (inChannels % groups !== 0) throw new ShapeError(`${op}: input channels ${inChannels} are not divisible by groups ${groups} (input ${fmt(x.shape)})`);
  if (transposed) {
    if (weight.shape[0] !== inChannels) {
      throw new ShapeError(`${op}: weight ${fmt(weight.shape)} must be ${layout} with in = ${inChannels}, the channels of input ${fmt(x.shape)}`);
    }
  } else {
    if (weight.shape[0]! % groups !== 0)
      throw new ShapeError(`${op}: output channels ${weight.shape[0]} (weight ${fmt(weight.shape)}) are not divisible by groups ${groups}`);
    if (weight.shape[1]! * groups !== inChannels) {
      throw new ShapeError(
        `${op}: weight ${fmt(weight.shape)} must be ${layout} with in/groups = ${inChannels / groups} (input ${fmt(x.shape)}, groups ${groups})`,
      );
    }
  }
}

/** Adds `bias` ([channels]) to every position of out ([batch, channels, h, w]), or returns out. */
function addBias(op: string, out: Tensor, bias: Tensor | null | undefined): Tensor {
  if (!bias) return out;
  const channels = out.shape[1]!;
  if (bias.ndim !== 1 || bias.shape[0] !== channels) throw new ShapeError(`${op}: bias must be [${channels}] (the output channels), got ${fmt(bias.shape)}`);
  return add(out, reshape(bias, [channels, 1, 1]));
}

/**
 * 2-D convolution (a cross-correlation, as PyTorch's `F.conv2d`): x is [batch, in, h, w], weight
 * [out, in/groups, kh, kw], bias [out] or omitted; the result is [batch, out, hₒ, wₒ] with
 * hₒ = ⌊(h + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1 (likewise wₒ).
 * @example conv2d(ones([1, 1, 5, 5]), ones([2, 1, 3, 3]), null, { padding: 1 }).shape // [1, 2, 5, 5]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const attrs = parseOptions('conv2d', options, CONV2D_OPTIONS);
  checkShapes('conv2d', x, weight, attrs.groups);
  for (const axis of [0, 1] as const) {
    const size = x.shape[2 + axis]!;
    const kernel = weight.shape[2 + axis]!;
    const span = attrs.dilation[axis] * (kernel - 1) + 1;
    if (span > size + 2 * attrs.padding[axis]) {
      throw new ShapeError(
        `conv2d: kernel ${fmt(weight.shape.slice(2))} (weight ${fmt(weight.shape)}) with dilation ${attrs.dilation.join('x')} spans ${span} ${axis === 0 ? 'rows' : 'columns'}, ` +
          `more than the ${size + 2 * attrs.padding[axis]} of the padded input (input ${fmt(x.shape)}, padding ${attrs.padding.join('x')})`,
      );
    }
  }
  return addBias('conv2d', conv2dPrim(x, weight, attrs), bias);
}

/**
 * Transposed 2-D convolution (PyTorch's `F.conv_transpose2d`, the adjoint of {@link conv2d} in
 * its input): x is [batch, in, h, w], weight [in, out/groups, kh, kw], bias [out] or omitted; the
 * result is [batch, out, hₒ, wₒ] with hₒ = (h − 1)·stride − 2·padding + dilation·(kh − 1) +
 * outputPadding + 1 (likewise wₒ).
 * @example convTranspose2d(ones([1, 2, 3, 3]), ones([2, 1, 4, 4]), null, { stride: 2, padding: 1 }).shape // [1, 1, 6, 6]
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor {
  const attrs = parseOptions('convTranspose2d', options, CONV_TRANSPOSE2D_OPTIONS);
  const outputPadding = pair('convTranspose2d', 'outputPadding', options.outputPadding, 0, 0);
  for (const axis of [0, 1] as const) {
    if (outputPadding[axis] >= attrs.stride[axis] && outputPadding[axis] >= attrs.dilation[axis]) {
      throw new RangeError(
        `convTranspose2d: outputPadding ${outputPadding.join('x')} must be smaller than stride ${attrs.stride.join('x')} or dilation ${attrs.dilation.join('x')}`,
      );
    }
  }
  checkShapes('convTranspose2d', x, weight, attrs.groups);
  const transposeAttrs = { ...attrs, outputPadding };
  for (const axis of [0, 1] as const) {
    const size = x.shape[2 + axis]!;
    const kernel = weight.shape[2 + axis]!;
    const out = (size - 1) * attrs.stride[axis] - 2 * attrs.padding[axis] + attrs.dilation[axis] * (kernel - 1) + outputPadding[axis] + 1;
    if (out < 1) {
      throw new ShapeError(
        `convTranspose2d: padding ${attrs.padding.join('x')} leaves an output of ${out} ${axis === 0 ? 'rows' : 'columns'} ` +
          `(input ${fmt(x.shape)}, weight ${fmt(weight.shape)}, stride ${attrs.stride.join('x')}, dilation ${attrs.dilation.join('x')})`,
      );
    }
  }
  return addBias('convTranspose2d', convTranspose2dPrim(x, weight, transposeAttrs), bias);
}

/** The conv2d primitive on checked arguments (no bias); the derivative rules call it directly. */
export const conv2dPrim = (x: Tensor, weight: Tensor, attrs: Conv2dAttrs): Tensor => apply('conv2d', [x, weight], attrs);

/** The convTranspose2d primitive on checked arguments (no bias); the derivative rules call it directly. */
export const convTranspose2dPrim = (x: Tensor, weight: Tensor, attrs: Conv2dAttrs & { outputPadding: readonly [number, number] }): Tensor =>
  apply('convTranspose2d', [x, weight], attrs);

/**
 * The correlation behind both weight gradients: for `image` [batch, groups·a, H, W] and
 * `window` [batch, groups·b, h, w] (the smaller, one value per kernel placement), the sum over
 * batch and placements, per group,
 *   result[g·b + β, α, p, q] = Σₙ,ᵢ,ⱼ image[n, g·a + α, i·stride − pad + p·dilation, …]·window[n, g·b + β, i, j],
 * shaped [groups·b, a, kh, kw]. It is itself a conv2d, with the batch as channels and stride
 * and dilation swapped, cut to the kernel's size (it can run past it when a stride skips rows).
 * For conv2d, image = x and window = g (∂W); for convTranspose2d, image = g and window = x.
 */
export function convWeightGradient(image: Tensor, window: Tensor, kernel: readonly [number, number], attrs: Conv2dAttrs): Tensor {
  const [batch, imageChannels, height, width] = image.shape as [number, number, number, number];
  const [, windowChannels, windowHeight, windowWidth] = window.shape as [number, number, number, number];
  const { groups } = attrs;
  const a = imageChannels / groups;
  const b = windowChannels / groups;
  // image → [a, groups·batch, H, W]: channel α of each group is a "batch" item, the (group, n) pairs its channels.
  const images = reshape(permute(reshape(image, [batch, groups, a, height, width]), [2, 1, 0, 3, 4]), [a, groups * batch, height, width]);
  // window → [groups·b, batch, h, w]: a weight of `groups` groups, each reading its group's batch channels.
  const windows = reshape(permute(reshape(window, [batch, groups, b, windowHeight, windowWidth]), [1, 2, 0, 3, 4]), [
    groups * b,
    batch,
    windowHeight,
    windowWidth,
  ]);
  let full = conv2dPrim(images, windows, { stride: attrs.dilation, padding: attrs.padding, dilation: attrs.stride, groups }); // [a, groups·b, ≥kh, ≥kw]
  full = slice(slice(full, 2, 0, kernel[0]), 3, 0, kernel[1]);
  return permute(full, [1, 0, 2, 3]);
}
