import fc from 'fast-check';
import { noGrad } from '../autograd/modes.js';
import { gradcheck, gradgradcheck, type GradcheckOptions } from '../autograd/gradcheck.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Property-test helpers, the ones elbo's own suite proves every op with: fast-check arbitraries
 * for shapes (broadcasting pairs, size-1 axes, 0-d scalars) and float64 leaves, and `checkOp`,
 * which runs an op's forward against a reference and checks its first and second derivatives by
 * finite differences. They need `fast-check` (a peer dependency of this entry).
 */

/** A shape of rank 0..maxRank with sizes 1..maxSize. */
export const arbShape = (maxRank = 3, maxSize = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast together: drawn from one result shape by dropping leading axes and setting sizes to 1. */
export const arbBroadcastPair = (maxRank = 3, maxSize = 4): fc.Arbitrary<[number[], number[]]> =>
  arbShape(maxRank, maxSize).chain((shape) => {
    const derived = fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(derived, derived);
  });

/** A float64 leaf of `shape` (requiring a gradient unless told), its values drawn from `value`. */
export const arbTensor = (shape: readonly number[], value: fc.Arbitrary<number>, requiresGrad = true): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.array(value, { minLength: n, maxLength: n }).map((vs) => new Tensor(Float64Array.from(vs), shape, { requiresGrad }));
};

/** Doubles in [min, max]. */
export const real = (min = -3, max = 3): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
/** Doubles with min ≤ |x| ≤ max, either sign: away from a kink at 0. */
export const awayFromZero = (min = 0.05, max = 3): fc.Arbitrary<number> => fc.tuple(fc.boolean(), real(min, max)).map(([negative, v]) => (negative ? -v : v));

/** One draw of an {@link OpCase}: inputs, the op, and optionally its values computed plainly. */
export interface OpDraw {
  /** The inputs: float64 leaves that require a gradient (those that do not are held fixed). */
  inputs: Tensor[];
  /** The op, applied to the inputs (extra arguments drawn too are closed over). */
  fn: (...inputs: Tensor[]) => Tensor;
  /** The op's values computed in plain JavaScript, row-major, to compare the forward with. */
  reference?: (...inputs: Tensor[]) => number[];
}

/** One op to prove: how to draw its inputs, the op itself, and optionally a plain reference. */
export interface OpCase {
  /** Draws the inputs (float64 leaves), the op applied to them, and a plain-JavaScript reference of its values. */
  arb: fc.Arbitrary<OpDraw>;
  /** Tolerances for gradcheck and gradgradcheck. */
  gradcheck?: GradcheckOptions;
}

/** How far a forward value may sit from its reference (float64, well-conditioned ops). */
const FORWARD_TOLERANCE = 5e-13;

/**
 * Proves one op, as elbo proves each of its own: for every input fast-check draws, the forward
 * result against `reference` (when given), `gradcheck` (first derivatives against central
 * differences) and `gradgradcheck` (the backward pass, recorded with createGraph, against
 * central differences of itself, in the inputs and in a random cotangent). Throws at the first
 * counterexample, with fast-check's report (the inputs, the seed to replay it).
 *
 * @example
 * checkOp({ arb: arbTensor([3], real()).map((x) => ({ inputs: [x], fn: (x) => mul(x, x) })) }, { numRuns: 50, seed: 1 });
 */
export function checkOp(opCase: OpCase, parameters: fc.Parameters<unknown> = {}): void {
  fc.assert(
    fc.property(opCase.arb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ inputs, fn, reference }, seed) => {
      if (reference) {
        const out = noGrad(() => fn(...inputs));
        const expected = reference(...inputs);
        if (out.data.length !== expected.length) throw new Error(`checkOp: the op gives ${out.data.length} values, the reference ${expected.length}`);
        out.data.forEach((v, i) => {
          const want = expected[i]!;
          if (!(v === want || Math.abs(v - want) < FORWARD_TOLERANCE)) throw new Error(`checkOp: forward element ${i} is ${v}, the reference gives ${want}`);
        });
      }
      const first = gradcheck(fn, inputs, opCase.gradcheck);
      if (!first.ok) throw new Error(`checkOp: gradcheck failed (worst absolute error ${first.maxAbsError})`);
      const second = gradgradcheck(fn, inputs, { ...opCase.gradcheck, seed });
      if (!second.ok) throw new Error(`checkOp: gradgradcheck failed (worst absolute error ${second.maxAbsError})`);
    }),
    parameters,
  );
}

/** The values of a broadcast binary op computed plainly: each output index mapped to each input's element. */
export function broadcastReference(a: Tensor, b: Tensor, f: (x: number, y: number) => number): number[] {
  const rank = Math.max(a.ndim, b.ndim);
  const shape = Array.from({ length: rank }, (_, i) => Math.max(a.shape[a.ndim - rank + i] ?? 1, b.shape[b.ndim - rank + i] ?? 1));
  const n = shape.reduce((x, y) => x * y, 1);
  const at = (t: Tensor, index: number[]): number => {
    let flat = 0;
    for (let i = 0; i < t.ndim; i++) {
      const d = t.shape[i]!;
      flat = flat * d + (d === 1 ? 0 : index[rank - t.ndim + i]!);
    }
    return t.data[flat]!;
  };
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const index = new Array<number>(rank);
    let r = k;
    for (let i = rank - 1; i >= 0; i--) {
      index[i] = r % shape[i]!;
      r = Math.floor(r / shape[i]!);
    }
    out.push(f(at(a, index), at(b, index)));
  }
  return out;
}
