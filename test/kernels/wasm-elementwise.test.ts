import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from '../../src/kernels/backend.js';
import { SCALAR_OPS, SIMD_OPS } from '../../src/kernels/wasm/vector.wat.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { createWasmBackend } from '../../src/kernels/wasm/index.js';
import { arbBroadcastPair, arbShape, expectSameFloats, fcOptions } from '../helpers.js';

/**
 * The wasm backend's float32 unary, binary and reduce loops compute exactly what the cpu
 * reference computes (same formulas and float64 summation order), so the property is equality,
 * element by element (NaN equal to NaN), on any shape, broadcast and axis set, the ones the fast
 * loops take and the ones they hand back to the reference.
 */
const backend = createWasmBackend({ threads: 1 });
afterAll(() => backend.dispose());

/**
 * float32 values: mostly in [-30, 30], some in [-110, 110] (where exp(−|x|) is subnormal or 0 in
 * float32), some 0, -0, ±∞, NaN and huge, to reach every branch.
 */
const value = fc.oneof(
  { arbitrary: fc.float({ min: -30, max: 30, noNaN: true }), weight: 8 },
  { arbitrary: fc.float({ min: -110, max: 110, noNaN: true }), weight: 2 },
  { arbitrary: fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 3e38, -3e38, 1e-40), weight: 1 },
);
const arrayOf = (n: number): fc.Arbitrary<Float32Array> => fc.array(value, { minLength: n, maxLength: n }).map((v) => Float32Array.from(v));
const size = (shape: readonly number[]): number => shape.reduce((s, d) => s * d, 1);

/** Element strides of a contiguous input of `shape` read along `out`'s axes (0 where it broadcasts). */
function stridesFor(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = 1; i <= shape.length; i++) {
    const d = shape[shape.length - i]!;
    strides[out.length - i] = d === 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

const isBinary = (op: string): op is BinaryOp => (BINARY_OPS as readonly string[]).includes(op);

const same = (out: Float32Array, ref: Float32Array): void => expectSameFloats(out, ref);

describe('wasm backend float32 elementwise and reduce', () => {
  it.each(UNARY_OPS)('unary %s equals the reference', (op) => {
    const params = fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }).chain(arrayOf), params, (x, [p, q]) => {
        const out = new Float32Array(x.length);
        const ref = new Float32Array(x.length);
        backend.unary(op, x, out, p, Math.max(p, q));
        cpuBackend.unary(op, x, ref, p, Math.max(p, q));
        same(out, ref);
      }),
      fcOptions(),
    );
  });

  it.each(BINARY_OPS)('binary %s equals the reference under any broadcast', (op) => {
    const arb = arbBroadcastPair(4, 4).chain(([sa, sb]) => fc.tuple(fc.constant(sa), fc.constant(sb), arrayOf(size(sa)), arrayOf(size(sb))));
    fc.assert(
      fc.property(arb, ([sa, sb, a, b]) => {
        const rank = Math.max(sa.length, sb.length);
        const shape = Array.from({ length: rank }, (_, i) => Math.max(sa[sa.length - rank + i] ?? 1, sb[sb.length - rank + i] ?? 1));
        const out = new Float32Array(size(shape));
        const ref = new Float32Array(size(shape));
        backend.binary(op, a, stridesFor(sa, shape), b, stridesFor(sb, shape), shape, out);
        cpuBackend.binary(op, a, stridesFor(sa, shape), b, stridesFor(sb, shape), shape, ref);
        same(out, ref);
      }),
      fcOptions(),
    );
  });

  it.each(['sum', 'max'] as const)('reduce %s equals the reference over any axis set', (op) => {
    const arb = arbShape(4, 5).chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), arrayOf(size(shape))));
    fc.assert(
      fc.property(arb, ([shape, axes, x]) => {
        const kept = shape.filter((_, i) => !axes.includes(i));
        const out = new Float32Array(size(kept));
        const ref = new Float32Array(size(kept));
        backend.reduce(op, x, shape, axes, out);
        cpuBackend.reduce(op, x, shape, axes, ref);
        same(out, ref);
      }),
      fcOptions(),
    );
  });

  it.each(SIMD_OPS)('%s: the SIMD loop (arrays of 64 or more) equals the reference, specials included', (op) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 300 }).chain((n) => fc.tuple(arrayOf(n), arrayOf(n))),
        ([x, y]) => {
          const out = new Float32Array(x.length);
          const ref = new Float32Array(x.length);
          if (isBinary(op)) {
            backend.binary(op, x, [1], y, [1], [x.length], out);
            cpuBackend.binary(op, x, [1], y, [1], [x.length], ref);
          } else {
            backend.unary(op as UnaryOp, x, out, 0, 0);
            cpuBackend.unary(op as UnaryOp, x, ref, 0, 0);
          }
          same(out, ref);
        },
      ),
      fcOptions(),
    );
  });

  it.each(Object.keys(SCALAR_OPS) as BinaryOp[])(
    '%s against a scalar (either side) and with a broadcast first operand equals the reference, specials included',
    (op) => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 12 }).chain((rows) => fc.tuple(fc.constant(rows), arrayOf(rows * 24), arrayOf(24), arrayOf(1))),
          ([rows, x, block, [s]]) => {
            const n = x.length;
            const scalar = Float32Array.of(s!);
            const cases: Array<[Float32Array, number[], Float32Array, number[], number[]]> = [
              [x, [1], scalar, [0], [n]], // x op s
              [x, [24, 1], scalar, [0, 0], [rows, 24]], // the same over two axes
              [scalar, [0], x, [1], [n]], // s op x
              [block, [0, 1], x, [24, 1], [rows, 24]], // a block repeated along the leading axis, op x
            ];
            for (const [a, aStrides, b, bStrides, shape] of cases) {
              const out = new Float32Array(n);
              const ref = new Float32Array(n);
              backend.binary(op, a, aStrides, b, bStrides, shape, out);
              cpuBackend.binary(op, a, aStrides, b, bStrides, shape, ref);
              same(out, ref);
            }
          },
        ),
        fcOptions(),
      );
    },
  );

  it('reduces the bias gradient (sum over the batch axis) of a [128, 400] batch like the reference', () => {
    const x = Float32Array.from({ length: 128 * 400 }, (_, i) => Math.sin(i) * 1e3);
    for (const axes of [[0], [1], [0, 1]]) {
      const out = new Float32Array(axes.length === 2 ? 1 : axes[0] === 0 ? 400 : 128);
      const ref = new Float32Array(out.length);
      backend.reduce('sum', x, [128, 400], axes, out);
      cpuBackend.reduce('sum', x, [128, 400], axes, ref);
      same(out, ref);
    }
  });
});
