import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ops from '../../src/autograd/ops.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { cases as primitiveCases } from './cases.js';
import { arbBroadcastPair, arbShape, arbTensor, checkOp, type OpCase, real, RUNS } from '../helpers.js';

/**
 * Every public op is proven: primitives by their case in primitives.property.test.ts,
 * composites by a case here, and the few piecewise-constant ops are listed as having no
 * gradient. A new export in ops.ts without an entry fails to compile and fails the last test.
 */

type OpName = { [K in keyof typeof ops]: (typeof ops)[K] extends (...args: never[]) => unknown ? K : never }[keyof typeof ops];

const nonScalar = arbShape(3, 4).filter((s) => s.length > 0);
const withAxes = (shape: number[]) => fc.record({ axes: fc.subarray(shape.map((_, i) => i)), keepDim: fc.boolean() });

const composite: Partial<Record<OpName, OpCase>> = {
  square: {
    arb: arbShape()
      .chain((s) => arbTensor(s, real()))
      .map((x) => ({ inputs: [x], fn: (t: Tensor) => ops.square(t), reference: (t: Tensor) => Array.from(t.data, (v) => v * v) })),
  } as OpCase,
  mean: {
    arb: nonScalar
      .chain((s) =>
        fc.tuple(
          arbTensor(s, real()),
          withAxes(s).filter(({ axes }) => axes.length > 0),
        ),
      )
      .map(([x, { axes, keepDim }]) => ({ inputs: [x], fn: (t: Tensor) => ops.mean(t, axes, keepDim) })),
  } as OpCase,
  logSumExp: {
    arb: arbShape()
      .chain((s) => fc.tuple(arbTensor(s, real(-30, 30)), withAxes(s)))
      .map(([x, { axes, keepDim }]) => ({ inputs: [x], fn: (t: Tensor) => ops.logSumExp(t, axes, keepDim) })),
  } as OpCase,
  sumTo: {
    arb: arbBroadcastPair().chain(([small, other]) => {
      const rank = Math.max(small.length, other.length);
      const big = Array.from({ length: rank }, (_, i) => Math.max(small[small.length - rank + i] ?? 1, other[other.length - rank + i] ?? 1));
      return arbTensor(big, real()).map((g) => ({ inputs: [g], fn: (t: Tensor) => ops.sumTo(t, small) }));
    }),
  } as OpCase,
  transpose: {
    arb: fc
      .tuple(arbShape(4, 3).filter((s) => s.length >= 2))
      .chain(([s]) => fc.tuple(arbTensor(s, real()), fc.integer({ min: 0, max: s.length - 1 }), fc.integer({ min: -s.length, max: -1 })))
      .map(([x, a, b]) => ({ inputs: [x], fn: (t: Tensor) => ops.transpose(t, a, b) })),
  } as OpCase,
  squeeze: {
    arb: arbShape(4, 2)
      .chain((s) => arbTensor(s, real()))
      .map((x) => ({ inputs: [x], fn: (t: Tensor) => ops.squeeze(t) })),
  } as OpCase,
  unsqueeze: {
    arb: arbShape()
      .chain((s) => fc.tuple(arbTensor(s, real()), fc.integer({ min: 0, max: s.length })))
      .map(([x, axis]) => ({ inputs: [x], fn: (t: Tensor) => ops.unsqueeze(t, axis) })),
  } as OpCase,
  matmul: {
    // PyTorch's matmul: 1-D operands are vectors; batch axes broadcast.
    arb: fc
      .record({
        m: fc.integer({ min: 1, max: 4 }),
        k: fc.integer({ min: 1, max: 4 }),
        n: fc.integer({ min: 1, max: 4 }),
        batch: arbBroadcastPair(2, 3),
        vecA: fc.boolean(),
        vecB: fc.boolean(),
      })
      .chain(({ m, k, n, batch: [ba, bb], vecA, vecB }) =>
        fc.tuple(arbTensor(vecA ? [k] : [...ba, m, k], real()), arbTensor(vecB ? [k] : [...bb, k, n], real())),
      )
      .map(([a, b]) => ({ inputs: [a, b], fn: (x: Tensor, y: Tensor) => ops.matmul(x, y) })),
  } as OpCase,
  linear: {
    // x·Wᵀ (+ b): with and without a bias, x of rank 1-3.
    arb: fc
      .record({ lead: arbShape(2, 3), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), bias: fc.boolean() })
      .chain(({ lead, k, n, bias }) => fc.tuple(arbTensor([...lead, k], real()), arbTensor([n, k], real()), ...(bias ? [arbTensor([n], real())] : [])))
      .map((inputs) => ({ inputs, fn: (x: Tensor, w: Tensor, b?: Tensor) => ops.linear(x, w, b) })),
  } as OpCase,
  binaryCrossEntropyWithLogits: {
    arb: fc
      .tuple(arbShape(), fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<ops.Reduction>)
      .chain(([s, reduction]) => fc.tuple(arbTensor(s, real(-6, 6)), arbTensor(s, real(0, 1)), fc.constant(reduction)))
      .map(([x, y, reduction]) => ({ inputs: [x, y], fn: (a: Tensor, b: Tensor) => ops.binaryCrossEntropyWithLogits(a, b, { reduction }) })),
  } as OpCase,
  gaussianNll: {
    arb: fc
      .tuple(arbBroadcastPair(), fc.boolean())
      .chain(([[s1, s2], full]) => fc.tuple(arbTensor(s1, real()), arbTensor(s2, real()), arbTensor(s2, real(-2, 2)), fc.constant(full)))
      .map(([x, mu, logVar, full]) => ({
        inputs: [x, mu, logVar],
        fn: (a: Tensor, b: Tensor, c: Tensor) => ops.gaussianNll(a, b, c, { reduction: 'sum', full }),
      })),
  } as OpCase,
};

/** Ops whose output is piecewise constant: they are defined to carry no gradient. */
const noGradient: OpName[] = ['sign', 'step', 'eq'];

/** Public ops that are thin wrappers over one primitive of the same role. */
const primitiveOf: Partial<Record<OpName, keyof typeof primitiveCases>> = {
  neg: 'neg',
  exp: 'exp',
  log: 'log',
  log1p: 'log1p',
  sqrt: 'sqrt',
  abs: 'abs',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  logSigmoid: 'logSigmoid',
  pow: 'pow',
  leakyRelu: 'leakyRelu',
  elu: 'elu',
  clamp: 'clamp',
  add: 'add',
  sub: 'sub',
  mul: 'mul',
  div: 'div',
  sum: 'sum',
  max: 'max',
  reshape: 'reshape',
  expand: 'expand',
  permute: 'permute',
  slice: 'slice',
  pad: 'pad',
  concat: 'concat',
  matmulPrim: 'matmul',
  linear: 'linear',
  conv2d: 'conv2d',
  convTranspose2d: 'convTranspose2d',
  sigmoidSub: 'sigmoidSub',
  maskPositive: 'maskPositive',
};

describe('composite ops pass gradcheck in float64 on random shapes', () => {
  for (const [name, opCase] of Object.entries(composite)) {
    it(`${name}: gradcheck passes (${RUNS} runs)`, () => checkOp(opCase!));
  }
});

describe('no op goes unproven', () => {
  it('every function exported by ops.ts has a property test or is listed as gradient-free', () => {
    const exported = Object.entries(ops)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    const unproven = exported.filter((name) => !(name in composite) && !(name in primitiveOf) && !noGradient.includes(name as OpName));
    expect(unproven).toEqual([]);
  });

  it('gradient-free ops really record no graph', () => {
    const x = new Tensor(Float64Array.from([1, -2, 0]), [3], { requiresGrad: true });
    for (const out of [ops.sign(x), ops.step(x), ops.eq(x, 1)]) expect(out.requiresGrad).toBe(false);
  });
});
