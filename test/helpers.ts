import fc from 'fast-check';
import { expect } from 'vitest';
import { gradcheck, gradgradcheck, type GradcheckOptions } from '../src/autograd/gradcheck.js';
import { Tensor } from '../src/tensor/tensor.js';
import { noGrad } from '../src/autograd/engine.js';

/**
 * Shared test helpers. Every op is proven the same way, by `checkOp`: a fast-check property
 * that draws shapes and in-domain values, runs the op in float64, compares its forward result
 * with a plain-JavaScript reference where one is given, and gradchecks every input.
 */

/** fast-check runs per property: 50 by default, ELBO_FC_RUNS to change, ELBO_SLOW=1 for 500. */
export const RUNS = Number(process.env.ELBO_FC_RUNS ?? (process.env.ELBO_SLOW ? 500 : 50));
/** A fixed seed keeps CI reproducible; set ELBO_FC_SEED to explore others. */
export const SEED = Number(process.env.ELBO_FC_SEED ?? 20261121);

export const fcOptions = (): fc.Parameters<unknown> => ({ numRuns: RUNS, seed: SEED });

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

/** A float64 leaf of `shape` that requires a gradient, values drawn from `value`. */
export const arbTensor = (shape: readonly number[], value: fc.Arbitrary<number>, requiresGrad = true): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.array(value, { minLength: n, maxLength: n }).map((vs) => new Tensor(Float64Array.from(vs), shape, { requiresGrad }));
};

/** Doubles in [min, max]. */
export const real = (min = -3, max = 3): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
/** Doubles with min ≤ |x| ≤ max, either sign: away from a kink at 0. */
export const awayFromZero = (min = 0.05, max = 3): fc.Arbitrary<number> =>
  fc.tuple(fc.boolean(), real(min, max)).map(([negative, v]) => (negative ? -v : v));

export interface OpCase {
  /** Draws the inputs (float64 leaves) and any extra arguments. */
  arb: fc.Arbitrary<{ inputs: Tensor[]; fn: (...inputs: Tensor[]) => Tensor; reference?: (...inputs: Tensor[]) => number[] }>;
  gradcheck?: GradcheckOptions;
}

/**
 * The one helper every op is proven by: forward against its reference, gradcheck (first
 * derivatives), then gradgradcheck (second derivatives: the backward pass, recorded with
 * createGraph, checked by central differences of itself, in the inputs and in a random cotangent
 * v drawn here). `parameters` override fast-check's (a test that expects a failure stops early).
 */
export function checkOp(opCase: OpCase, parameters: fc.Parameters<unknown> = {}): void {
  fc.assert(
    fc.property(opCase.arb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ inputs, fn, reference }, seed) => {
      if (reference) {
        const out = noGrad(() => fn(...inputs));
        const expected = reference(...inputs);
        expect(out.data.length).toBe(expected.length);
        out.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
      }
      const report = gradcheck(fn, inputs, opCase.gradcheck);
      expect(report.ok).toBe(true);
      expect(report.checked).toBeGreaterThanOrEqual(0);
      const second = gradgradcheck(fn, inputs, { ...opCase.gradcheck, seed });
      expect(second.ok).toBe(true);
    }),
    { ...fcOptions(), ...parameters },
  );
}

/** Elementwise reference for a broadcast binary op: the output index mapped to each input. */
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
  for (let f2 = 0; f2 < n; f2++) {
    const index = new Array<number>(rank);
    let r = f2;
    for (let i = rank - 1; i >= 0; i--) {
      index[i] = r % shape[i]!;
      r = Math.floor(r / shape[i]!);
    }
    out.push(f(at(a, index), at(b, index)));
  }
  return out;
}
