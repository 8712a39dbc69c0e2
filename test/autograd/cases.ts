import fc from 'fast-check';
import * as ops from '../../src/autograd/ops.js';
import type { DifferentiablePrim } from '../../src/autograd/primitives.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { arbBroadcastPair, arbShape, arbTensor, awayFromZero, broadcastReference, type OpCase, real } from '../helpers.js';

/**
 * One fast-check case per differentiable primitive: how to draw in-domain inputs of random
 * shapes, the op, and (where simple) a plain-JavaScript reference. The table is typed by the
 * primitive set, so a primitive added without a case does not compile. Used by the gradcheck
 * properties and by the every-backend forward suite.
 */

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const softplusRef = (x: number): number => Math.log1p(Math.exp(x));

const unaryCase = (fn: (x: Tensor) => Tensor, value: fc.Arbitrary<number>, f: (x: number) => number): OpCase => ({
  arb: arbShape().chain((shape) => arbTensor(shape, value)).map((x) => ({ inputs: [x], fn: (t) => fn(t!), reference: (t) => Array.from(t!.data, f) })),
});

const binaryCase = (fn: (a: Tensor, b: Tensor) => Tensor, a: fc.Arbitrary<number>, b: fc.Arbitrary<number>, f: (x: number, y: number) => number): OpCase => ({
  arb: arbBroadcastPair()
    .chain(([sa, sb]) => fc.tuple(arbTensor(sa, a), arbTensor(sb, b)))
    .map(([x, y]) => ({ inputs: [x, y], fn: (p, q) => fn(p!, q!), reference: (p, q) => broadcastReference(p!, q!, f) })),
});

/** A shape with at least one axis, a random subset of its axes, and keepDim. */
const arbAxes = (shape: number[]): fc.Arbitrary<{ axes: number[]; keepDim: boolean }> =>
  fc.record({ axes: fc.subarray(shape.map((_, i) => i)), keepDim: fc.boolean() });

/** Values at least 0.05 apart (no ties for max), in random order. */
const arbDistinct = (shape: number[]): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: n, maxLength: n }).map((vs) => new Tensor(Float64Array.from(vs, (v) => v / 20), shape, { requiresGrad: true }));
};

const arbPermutation = (rank: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: rank, maxLength: rank }).map((keys) => keys.map((_, i) => i).sort((i, j) => keys[i]! - keys[j]! || i - j));

const nonScalar = arbShape(3, 4).filter((s) => s.length > 0);

/**
 * A small convolution configuration: strides 1-3, paddings 0-2, dilations 1-2 (each per axis),
 * groups 1-2, 1-2 channels per group in and out, images 1-5 on a side, kernels 1-3 or the whole
 * image; `transposed` draws outputPadding below stride or dilation. Only valid ones are kept
 * (the dilated kernel within the padded image; a transposed output of at least one row).
 */
interface ConvDraw { batch: number; groups: number; inPerGroup: number; outPerGroup: number; size: [number, number]; kernel: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number]; outputPadding: [number, number] }
const arbPair = (min: number, max: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));
const arbConv = (transposed: boolean): fc.Arbitrary<ConvDraw> =>
  fc.record({ batch: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), inPerGroup: fc.integer({ min: 1, max: 2 }), outPerGroup: fc.integer({ min: 1, max: 2 }),
    size: arbPair(1, 5), kernelDraw: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), stride: arbPair(1, 3), padding: arbPair(0, 2), dilation: arbPair(1, 2), extra: arbPair(0, 2) })
    .map(({ kernelDraw, extra, ...c }) => ({
      ...c,
      kernel: [0, 1].map((a) => kernelDraw[a] || c.size[a]!) as [number, number], // 0 draws kernel = image
      outputPadding: [0, 1].map((a) => (transposed ? extra[a]! % Math.max(c.stride[a]!, c.dilation[a]!) : 0)) as [number, number],
    }))
    .filter((c) => [0, 1].every((a) => transposed
      ? (c.size[a]! - 1) * c.stride[a]! - 2 * c.padding[a]! + c.dilation[a]! * (c.kernel[a]! - 1) + c.outputPadding[a]! + 1 >= 1
      : c.dilation[a]! * (c.kernel[a]! - 1) + 1 <= c.size[a]! + 2 * c.padding[a]!));

/** conv2d by its definition: each output element sums its window (x zero outside the image), plus its channel's bias. */
function conv2dReference(x: Tensor, w: Tensor, b: Tensor | undefined, c: ConvDraw): number[] {
  const [batch, inChannels, h, wd] = x.shape as number[] as [number, number, number, number];
  const [outChannels, inPerGroup, kh, kw] = w.shape as number[] as [number, number, number, number];
  const oh = Math.floor((h + 2 * c.padding[0] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * c.padding[1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  const out: number[] = [];
  for (let n = 0; n < batch; n++) for (let o = 0; o < outChannels; o++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let s = b ? b.data[o]! : 0;
    const group = Math.floor(o / (outChannels / c.groups));
    for (let ci = 0; ci < inPerGroup; ci++) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
      const y = i * c.stride[0] - c.padding[0] + p * c.dilation[0];
      const z = j * c.stride[1] - c.padding[1] + q * c.dilation[1];
      if (y >= 0 && y < h && z >= 0 && z < wd) s += x.data[((n * inChannels + group * inPerGroup + ci) * h + y) * wd + z]! * w.data[((o * inPerGroup + ci) * kh + p) * kw + q]!;
    }
    out.push(s);
  }
  return out;
}

/** convTranspose2d by its definition: every x[n, c, i, j]·W[c, o, p, q] scattered onto its output position (dropped outside), onto the bias. */
function convTranspose2dReference(x: Tensor, w: Tensor, b: Tensor | undefined, c: ConvDraw): number[] {
  const [batch, inChannels, h, wd] = x.shape as number[] as [number, number, number, number];
  const [, outPerGroup, kh, kw] = w.shape as number[] as [number, number, number, number];
  const outChannels = outPerGroup * c.groups;
  const oh = (h - 1) * c.stride[0] - 2 * c.padding[0] + c.dilation[0] * (kh - 1) + c.outputPadding[0] + 1;
  const ow = (wd - 1) * c.stride[1] - 2 * c.padding[1] + c.dilation[1] * (kw - 1) + c.outputPadding[1] + 1;
  const out = Array.from({ length: batch * outChannels * oh * ow }, (_, k) => (b ? b.data[Math.floor(k / (oh * ow)) % outChannels]! : 0));
  const inPerGroup = inChannels / c.groups;
  for (let n = 0; n < batch; n++) for (let ci = 0; ci < inChannels; ci++) for (let i = 0; i < h; i++) for (let j = 0; j < wd; j++)
    for (let o = 0; o < outPerGroup; o++) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
      const y = i * c.stride[0] - c.padding[0] + p * c.dilation[0];
      const z = j * c.stride[1] - c.padding[1] + q * c.dilation[1];
      const oc = Math.floor(ci / inPerGroup) * outPerGroup + o;
      if (y >= 0 && y < oh && z >= 0 && z < ow) out[((n * outChannels + oc) * oh + y) * ow + z]! += x.data[((n * inChannels + ci) * h + i) * wd + j]! * w.data[((ci * outPerGroup + o) * kh + p) * kw + q]!;
    }
  return out;
}

export const cases: { [P in DifferentiablePrim]: OpCase } = {
  neg: unaryCase(ops.neg, real(), (x) => -x),
  exp: unaryCase(ops.exp, real(-4, 4), Math.exp),
  log: unaryCase(ops.log, real(0.1, 5), Math.log),
  log1p: unaryCase(ops.log1p, real(-0.9, 5), Math.log1p),
  sqrt: unaryCase(ops.sqrt, real(0.1, 5), Math.sqrt),
  abs: unaryCase(ops.abs, awayFromZero(), Math.abs),
  relu: unaryCase(ops.relu, awayFromZero(), (x) => Math.max(x, 0)),
  sigmoid: unaryCase(ops.sigmoid, real(-8, 8), sig),
  tanh: unaryCase(ops.tanh, real(-4, 4), Math.tanh),
  softplus: unaryCase(ops.softplus, real(-8, 8), softplusRef),
  logSigmoid: unaryCase(ops.logSigmoid, real(-8, 8), (x) => Math.log(sig(x))),
  pow: {
    arb: fc.tuple(arbShape(), fc.constantFrom(-2, -0.5, 0, 0.5, 1.5, 2, 3)).chain(([shape, p]) =>
      arbTensor(shape, real(0.2, 3)).map((x) => ({ inputs: [x], fn: (t: Tensor) => ops.pow(t, p), reference: (t: Tensor) => Array.from(t.data, (v) => v ** p) })),
    ),
  } as OpCase,
  leakyRelu: {
    arb: fc.tuple(arbShape(), real(0, 0.5)).chain(([shape, alpha]) =>
      arbTensor(shape, awayFromZero()).map((x) => ({ inputs: [x], fn: (t: Tensor) => ops.leakyRelu(t, alpha), reference: (t: Tensor) => Array.from(t.data, (v) => (v > 0 ? v : alpha * v)) })),
    ),
  } as OpCase,
  elu: {
    arb: fc.tuple(arbShape(), real(0.1, 2)).chain(([shape, alpha]) =>
      arbTensor(shape, awayFromZero()).map((x) => ({ inputs: [x], fn: (t: Tensor) => ops.elu(t, alpha), reference: (t: Tensor) => Array.from(t.data, (v) => (v > 0 ? v : alpha * (Math.exp(v) - 1))) })),
    ),
  } as OpCase,
  clamp: {
    // Values kept 0.05 away from both bounds, where the derivative jumps.
    arb: arbShape().chain((shape) =>
      arbTensor(shape, fc.oneof(real(-3, -0.55), real(-0.45, 0.65), real(0.75, 3))).map((x) => ({
        inputs: [x], fn: (t: Tensor) => ops.clamp(t, -0.5, 0.7), reference: (t: Tensor) => Array.from(t.data, (v) => Math.min(Math.max(v, -0.5), 0.7)),
      })),
    ),
  } as OpCase,
  add: binaryCase(ops.add, real(), real(), (a, b) => a + b),
  sub: binaryCase(ops.sub, real(), real(), (a, b) => a - b),
  mul: binaryCase(ops.mul, real(), real(), (a, b) => a * b),
  div: binaryCase(ops.div, real(), awayFromZero(0.3, 3), (a, b) => a / b),
  bceWithLogits: binaryCase((x, y) => ops.binaryCrossEntropyWithLogits(x, y, { reduction: 'none' }), real(-6, 6), real(0, 1), (x, y) => -(y * Math.log(sig(x)) + (1 - y) * Math.log(1 - sig(x)))),
  sigmoidSub: binaryCase(ops.sigmoidSub, real(-8, 8), real(-2, 2), (a, b) => sig(a) - b),
  // b kept 0.05 away from 0, where a·[b > 0] jumps; its gradient in b is 0 elsewhere.
  maskPositive: binaryCase(ops.maskPositive, real(), awayFromZero(), (a, b) => (b > 0 ? a : 0)),
  sum: {
    arb: arbShape().chain((shape) => fc.tuple(arbTensor(shape, real()), arbAxes(shape))).map(([x, { axes, keepDim }]) => ({ inputs: [x], fn: (t: Tensor) => ops.sum(t, axes, keepDim) })),
  } as OpCase,
  max: {
    arb: arbShape().chain((shape) => fc.tuple(arbDistinct(shape), arbAxes(shape))).map(([x, { axes, keepDim }]) => ({ inputs: [x], fn: (t: Tensor) => ops.max(t, axes, keepDim) })),
  } as OpCase,
  reshape: {
    arb: arbShape().chain((shape) => fc.tuple(arbTensor(shape, real()), arbPermutation(shape.length))).map(([x, perm]) => ({
      inputs: [x], fn: (t: Tensor) => ops.reshape(t, [...perm.map((i) => t.shape[i]!), 1]), reference: (t: Tensor) => Array.from(t.data),
    })),
  } as OpCase,
  expand: {
    arb: arbBroadcastPair().chain(([shape, other]) => arbTensor(shape, real()).map((x) => {
      const rank = Math.max(shape.length, other.length);
      const target = Array.from({ length: rank }, (_, i) => Math.max(shape[shape.length - rank + i] ?? 1, other[other.length - rank + i] ?? 1));
      return { inputs: [x], fn: (t: Tensor) => ops.expand(t, target), reference: (t: Tensor) => broadcastReference(t, new Tensor(new Float64Array(target.reduce((a, b) => a * b, 1)), target), (v) => v) };
    })),
  } as OpCase,
  permute: {
    arb: arbShape().chain((shape) => fc.tuple(arbTensor(shape, real()), arbPermutation(shape.length))).map(([x, perm]) => ({ inputs: [x], fn: (t: Tensor) => ops.permute(t, perm) })),
  } as OpCase,
  slice: {
    arb: nonScalar.chain((shape) => fc.tuple(arbTensor(shape, real()), fc.integer({ min: 0, max: shape.length - 1 })).chain(([x, axis]) =>
      fc.tuple(fc.integer({ min: 0, max: shape[axis]! }), fc.integer({ min: 0, max: shape[axis]! })).map(([i, j]) => ({
        inputs: [x], fn: (t: Tensor) => ops.slice(t, axis, Math.min(i, j), Math.max(i, j)),
      })),
    )),
  } as OpCase,
  pad: {
    arb: nonScalar.chain((shape) => fc.tuple(arbTensor(shape, real()), fc.integer({ min: 0, max: shape.length - 1 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))).map(([x, axis, before, after]) => ({
      inputs: [x], fn: (t: Tensor) => ops.pad(t, axis, before, after),
    })),
  } as OpCase,
  concat: {
    arb: nonScalar.chain((shape) => fc.tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }))
      .chain(([axis, sizes]) => fc.tuple(...sizes.map((s) => arbTensor(shape.map((d, i) => (i === axis ? s : d)), real())))
        .map((inputs) => ({ inputs, fn: (...ts: Tensor[]) => ops.concat(ts, axis) })))),
  } as OpCase,
  matmul: {
    // Batched with broadcast batch axes, both transpose flags, and 1-D operands through `matmul`.
    arb: fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), batch: arbBroadcastPair(2, 3), transA: fc.boolean(), transB: fc.boolean() })
      .chain(({ m, k, n, batch: [ba, bb], transA, transB }) =>
        fc.tuple(arbTensor([...ba, ...(transA ? [k, m] : [m, k])], real()), arbTensor([...bb, ...(transB ? [n, k] : [k, n])], real()))
          .map(([a, b]) => ({ inputs: [a, b], fn: (x: Tensor, y: Tensor) => ops.matmulPrim(x, y, transA, transB) }))),
  } as OpCase,
  linear: {
    // x [..., k] of rank 1-3, W [n, k], b [n]: x·Wᵀ + b against a plain loop over the rows.
    arb: fc.record({ lead: arbShape(2, 3), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }) })
      .chain(({ lead, k, n }) => fc.tuple(arbTensor([...lead, k], real()), arbTensor([n, k], real()), arbTensor([n], real())))
      .map(([x, w, b]) => ({
        inputs: [x, w, b],
        fn: (p: Tensor, q: Tensor, r: Tensor) => ops.linear(p, q, r),
        reference: (p: Tensor, q: Tensor, r: Tensor) => {
          const [n, k] = q.shape as [number, number];
          return Array.from({ length: (p.numel() / k) * n }, (_, i) => {
            const row = Math.floor(i / n);
            const j = i % n;
            let s = r.data[j]!;
            for (let c = 0; c < k; c++) s += p.data[row * k + c]! * q.data[j * k + c]!;
            return s;
          });
        },
      })),
  } as OpCase,
  conv2d: {
    // x [batch, groups·in, h, w], W [groups·out, in, kh, kw], a bias [groups·out] or none; the options and the grouping drawn (arbConv).
    arb: arbConv(false).chain((c) => fc.tuple(fc.constant(c), arbTensor([c.batch, c.groups * c.inPerGroup, ...c.size], real(-1, 1)), arbTensor([c.groups * c.outPerGroup, c.inPerGroup, ...c.kernel], real(-1, 1)), fc.option(arbTensor([c.groups * c.outPerGroup], real(-1, 1)), { nil: undefined })))
      .map(([c, x, w, b]) => ({
        inputs: b ? [x, w, b] : [x, w],
        fn: (p: Tensor, q: Tensor, r?: Tensor) => ops.conv2d(p, q, r, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups }),
        reference: (p: Tensor, q: Tensor, r?: Tensor) => conv2dReference(p, q, r, c),
      })),
  } as OpCase,
  convTranspose2d: {
    // x [batch, groups·in, h, w], W [groups·in, out, kh, kw], a bias [groups·out] or none, outputPadding below stride or dilation.
    arb: arbConv(true).chain((c) => fc.tuple(fc.constant(c), arbTensor([c.batch, c.groups * c.inPerGroup, ...c.size], real(-1, 1)), arbTensor([c.groups * c.inPerGroup, c.outPerGroup, ...c.kernel], real(-1, 1)), fc.option(arbTensor([c.groups * c.outPerGroup], real(-1, 1)), { nil: undefined })))
      .map(([c, x, w, b]) => ({
        inputs: b ? [x, w, b] : [x, w],
        fn: (p: Tensor, q: Tensor, r?: Tensor) => ops.convTranspose2d(p, q, r, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding }),
        reference: (p: Tensor, q: Tensor, r?: Tensor) => convTranspose2dReference(p, q, r, c),
      })),
  } as OpCase,
};

