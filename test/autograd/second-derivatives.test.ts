import { afterEach, describe, expect, it } from 'vitest';
import { derivatives } from '../../src/autograd/derivatives.js';
import type { DifferentiablePrim } from '../../src/autograd/primitives.js';
import { gradcheck, gradgradcheck } from '../../src/autograd/gradcheck.js';
import * as ops from '../../src/autograd/ops.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { cases } from './cases.js';
import { checkOp } from '../helpers.js';

/**
 * checkOp proves second derivatives: each test breaks one derivative rule the way a rule goes
 * wrong for higher derivatives only (a `detach` inside it, a value taken off the graph) and
 * asserts that the property then fails, while first derivatives alone would still pass.
 */

type AnyRule = (g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: unknown) => ReadonlyArray<(() => Tensor) | null>;
const table = derivatives as unknown as Record<DifferentiablePrim, AnyRule>;
const originals = { ...table };
afterEach(() => Object.assign(table, originals));

/** Replaces `prim`'s rule by one that gets detached copies of what `cut` names. */
function breakRule(prim: DifferentiablePrim, cut: 'g' | 'inputs'): void {
  const rule = originals[prim];
  table[prim] =
    cut === 'g'
      ? (g, inputs, out, attrs) => rule(g.detach(), inputs, out, attrs)
      : (g, inputs, out, attrs) =>
          rule(
            g,
            inputs.map((t) => t.detach()),
            out.detach(),
            attrs,
          );
}

/** checkOp's failure on `prim`'s case, or '' when it passes (fast-check stops at the first counterexample). */
function failure(prim: DifferentiablePrim): string {
  try {
    checkOp(cases[prim], { endOnFailure: true });
    return '';
  } catch (error) {
    return String((error as Error).cause ?? error); // fast-check keeps the property's own error as the cause
  }
}

/** Primitives whose derivative depends on their inputs (a nonzero second derivative in x). */
const CURVED: DifferentiablePrim[] = [
  'exp',
  'log',
  'log1p',
  'sqrt',
  'sigmoid',
  'tanh',
  'softplus',
  'logSigmoid',
  'pow',
  'elu',
  'mul',
  'div',
  'bceWithLogits',
  'sigmoidSub',
  'matmul',
  'linear',
  'conv2d',
  'convTranspose2d',
];

describe("breaking a rule's second derivative fails checkOp", () => {
  it('exp written as mul(g, out.detach()): first derivatives still pass, checkOp fails', () => {
    table.exp = (g, _, out) => [() => ops.mul(g, out.detach())];
    const x = new Tensor(Float64Array.of(0.3, -1.2, 2), [3], { requiresGrad: true });
    expect(gradcheck(ops.exp, [x]).ok).toBe(true);
    expect(gradgradcheck(ops.exp, [x], { raise: false }).ok).toBe(false);
    expect(failure('exp')).toMatch(/gradgradcheck: the backward pass's derivative in an input/);
  });

  it('the unbroken table passes gradgradcheck on a composite (the ELBO-like softplus − x·y)', () => {
    const x = new Tensor(Float64Array.of(0.3, -1.2, 2), [3], { requiresGrad: true });
    const y = new Tensor(Float64Array.of(1, 0, 0.5), [3], { requiresGrad: true });
    expect(gradgradcheck((a, b) => ops.sum(ops.mul(ops.binaryCrossEntropyWithLogits(a!, b!, { reduction: 'none' }), a!)), [x, y]).ok).toBe(true);
  });

  it('gradgradcheck takes the cotangent v it is given, and names a v of the wrong shape', () => {
    const x = new Tensor(Float64Array.of(0.3, -1.2), [2], { requiresGrad: true });
    expect(gradgradcheck(ops.tanh, [x], { gradOutput: new Tensor(Float64Array.of(1, -2), [2]) }).ok).toBe(true);
    expect(() => gradgradcheck(ops.tanh, [x], { gradOutput: new Tensor(Float64Array.of(1), [1]) })).toThrow(
      "gradgradcheck: gradOutput has shape [1], fn's output [2]",
    );
  });

  for (const prim of Object.keys(originals) as DifferentiablePrim[]) {
    it(`${prim}: a rule that detaches its incoming gradient g fails (checked in the cotangent v)`, () => {
      breakRule(prim, 'g');
      expect(failure(prim)).toMatch(/gradgradcheck: the backward pass's derivative in the cotangent v/);
    });
  }

  for (const prim of CURVED) {
    it(`${prim}: a rule that detaches its inputs and output fails (checked in x)`, () => {
      breakRule(prim, 'inputs');
      expect(failure(prim)).toMatch(/gradgradcheck: the backward pass's derivative in an input/);
    });
  }
});
