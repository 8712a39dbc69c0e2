import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { arbShape, fcOptions } from '../helpers.js';

/**
 * The reference's reduction (`cpu.ts`, `loops.ts`) against plain index arithmetic, over any set
 * of axes: contiguous runs are reduced in place, others after moving the reduced axes last, and
 * both must add the same summands in the same order as a row-major walk.
 */

const size = (shape: readonly number[]): number => shape.reduce((s, d) => s * d, 1);
const unravel = (flat: number, shape: readonly number[]): number[] => {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    index[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return index;
};

describe('reference loops', () => {
  it('sum and max over any axis set equal a naive walk, in float64, summands in row-major order', () => {
    const arb = arbShape(4, 4).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.subarray(shape.map((_, i) => i)),
        fc.array(fc.integer({ min: -50, max: 50 }), { minLength: size(shape), maxLength: size(shape) }),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, axes, values]) => {
        const x = Float64Array.from(values, (v) => v / 7);
        const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        for (const op of ['sum', 'max'] as const) {
          const want = new Float64Array(size(kept)).fill(op === 'sum' ? 0 : -Infinity);
          x.forEach((v, flat) => {
            const at = unravel(flat, shape).reduce((o, k, i) => o * kept[i]! + (axes.includes(i) ? 0 : k), 0);
            want[at] = op === 'sum' ? want[at]! + v : Math.max(want[at]!, v);
          });
          const out = new Float64Array(want.length);
          cpuBackend.reduce(op, x, shape, axes, out);
          expect(Array.from(out)).toEqual(Array.from(want));
        }
      }),
      fcOptions(),
    );
  });
});
