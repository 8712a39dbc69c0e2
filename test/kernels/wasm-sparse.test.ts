import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatmulDims } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { TILE } from '../../src/kernels/wasm/gemm.wat.js';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.js';
import { expectSameFloats, fcOptions } from '../helpers.js';
import { gamma, rng } from './seeded.js';
import { skippingAndDense } from './skipping-pair.js';

/**
 * Element-level zero skipping in the wasm matmul (SKIP.rows in gemm.wat.ts): every listed
 * non-zero of the sparse operand is multiplied in, nothing else, with op(A) or op(B) sparse (the
 * latter computed as Cᵀ and written transposed), on every transpose, batch stride and block edge.
 */
const { MR, NR, KC, NC } = TILE;
const U32 = 2 ** -24;
const U64 = 2 ** -53;

/** n values in [-1, 1), each zero with probability `zeros`: +0 or −0 (as a ReLU gradient g·[h > 0] has), evenly. */
function sparse(next: () => number, n: number, zeros: number): Float32Array {
  return Float32Array.from({ length: n }, () => (next() < zeros ? (next() < 0.5 ? 0 : -0) : 2 * next() - 1));
}

/** Asserts |out − ref| ≤ γ_k·Σₚ|A||B| elementwise against the float64 reference (the bound of wasm.test.ts). */
function expectNearReference(a: Float32Array, b: Float32Array, out: Float32Array, d: MatmulDims, label: string): void {
  const ref = new Float64Array(out.length);
  const mass = new Float64Array(out.length);
  cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
  cpuBackend.matmul(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), mass, d);
  const c = gamma(d.k, U32) + gamma(d.k, U64);
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i]! - ref[i]!);
    if (!(err <= c * mass[i]! * (1 + 1e-12))) expect(`${label} [${i}] out ${out[i]} ref ${ref[i]}`).toBe(`within ${c * mass[i]!}`);
  }
}

const size = fc.oneof(fc.constantFrom(1, MR - 1, MR + 1, NR - 1, NR + 1, 4 * NR + 1, 4 * NR - 3), fc.integer({ min: 1, max: 70 }));
const zerosArb = fc.constantFrom(0, 0.25, 0.42, 0.52, 0.72, 0.8, 0.97, 1);

describe.each([
  ['one thread', { threads: 1 }],
  ['2 threads (every product split)', { threads: 2, minParallelFlops: 0 }],
])('wasm matmul, element-level zero skipping, %s', (_, options) => {
  const backends = skippingAndDense(options);

  it('matches the float64 reference and the dense kernel bit for bit at every sparsity, shape, transpose and batch stride', () => {
    const dims = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      m: size,
      k: fc.oneof(size, fc.constantFrom(KC - 1, KC, KC + 1, 2 * KC + 3)),
      n: size,
      transA: fc.boolean(),
      transB: fc.boolean(),
      aShared: fc.boolean(),
      bShared: fc.boolean(),
      zerosA: zerosArb,
      zerosB: zerosArb,
    });
    fc.assert(
      fc.property(dims, fc.nat(), ({ aShared, bShared, zerosA, zerosB, ...s }, seed) => {
        const d: MatmulDims = { ...s, aBatchStride: aShared ? 0 : s.m * s.k, bBatchStride: bShared ? 0 : s.k * s.n };
        const next = rng(seed);
        const a = sparse(next, (d.batch - 1) * d.aBatchStride + d.m * d.k, zerosA);
        const b = sparse(next, (d.batch - 1) * d.bBatchStride + d.k * d.n, zerosB);
        const out = new Float32Array(d.batch * d.m * d.n).fill(NaN);
        const want = new Float32Array(d.batch * d.m * d.n).fill(NaN);
        const before = backends.skipping.stats().zeroSkipping;
        backends.skipping.matmul(a, b, out, d);
        backends.dense.matmul(a, b, want, d);
        // 'always' skips whenever a sampled element is zero: every element of an operand of up to 512, and at 25% zeros or more some of 512 samples.
        const sampledZero = (x: Float32Array, zeros: number): boolean => (x.length <= 512 ? x.includes(0) : zeros >= 0.25);
        expect(backends.skipping.stats().zeroSkipping - before).toBe(sampledZero(a, zerosA) || sampledZero(b, zerosB) ? 1 : 0);
        expectSameFloats(out, want);
        expectNearReference(a, b, out, d, JSON.stringify(d));
      }),
      fcOptions(),
    );
  });

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('crosses every cache block with either operand sparse (m > MC, k > 2·KC, n > NC), transA=%s transB=%s', (transA, transB) => {
    const next = rng(41);
    for (const [m, k, n, zerosA, zerosB] of [
      [TILE.MC + 3, 2 * KC + 5, 2 * NR + 3, 0.7, 0],
      [2 * NR + 3, KC + 9, NC + 13, 0.7, 0],
      [NC + 13, KC + 9, 2 * NR + 3, 0, 0.7],
      [2 * NR + 3, 2 * KC + 5, TILE.MC + 3, 0, 0.7],
    ] as const) {
      const d: MatmulDims = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
      const a = sparse(next, m * k, zerosA);
      const b = sparse(next, k * n, zerosB);
      const out = new Float32Array(m * n).fill(NaN);
      const before = backends.skipping.stats().zeroSkipping;
      backends.skipping.matmul(a, b, out, d);
      expect(backends.skipping.stats().zeroSkipping).toBe(before + 1);
      expectNearReference(a, b, out, d, `${m}x${k}x${n}`);
    }
  });

  it.each([
    ['k ≤ KC (C′ stored transposed straight into C)', 40],
    ['k > KC (C′ accumulated in its own buffer, then transposed)', KC + 9],
  ])('writes a product computed transposed (op(B) sparse) into a resident result in place and nothing around it, %s', (_name, k) => {
    // m and n multiples of NR (no padding, so the result is written where it lies), n not a multiple of 16; a guard kept on either side.
    const next = rng(k);
    for (const [batch, m, n] of [
      [1, 72, 24],
      [2, 16, 40],
      [1, 8, 8],
    ] as const) {
      const d: MatmulDims = { batch, m, k, n, transA: false, transB: false, aBatchStride: m * k, bBatchStride: k * n };
      const a = sparse(next, batch * m * k, 0);
      const b = sparse(next, batch * k * n, 0.6);
      const memory = backends.skipping.memory;
      const before = memory.keep(new Float32Array(64).fill(7)) as Float32Array;
      const out = memory.keep(new Float32Array(batch * m * n).fill(NaN)) as Float32Array;
      const after = memory.keep(new Float32Array(64).fill(7)) as Float32Array;
      expect([before.byteOffset + before.byteLength, out.byteOffset + out.byteLength]).toEqual([out.byteOffset, after.byteOffset]);
      const want = new Float32Array(batch * m * n);
      const skipped = backends.skipping.stats().zeroSkipping;
      backends.skipping.matmul(a, b, out, d);
      backends.dense.matmul(a, b, want, d);
      expect(backends.skipping.stats().zeroSkipping).toBe(skipped + 1);
      expectSameFloats(out, want, `${batch}x${m}x${k}x${n} `);
      expect([...before, ...after].every((v) => v === 7)).toBe(true);
    }
  });

  it.each([
    ['op(A) sparse', false],
    ['op(B) sparse (Cᵀ computed, written transposed)', true],
  ])('multiplies in every non-zero: one per row of the sparse operand at a random step, the result is the other operand’s row exactly (%s)', (_name, onB) => {
    // C = E·B with E one 1 per row (A sparse), or C = A·Eᵀ (B sparse): each output row (column) is a copy of one row of the dense operand.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 7, KC - 1, KC, KC + 1, 2 * KC + 1),
        fc.integer({ min: 33, max: 300 }),
        fc.nat(),
        (rows, k, width, seed) => {
          const next = rng(seed);
          const dense = sparse(next, width * k, 0); // [width, k]
          const steps = Array.from({ length: rows }, (_, r) => (r === 0 ? k - 1 : r === 1 ? 0 : Math.floor(next() * k)));
          const onehot = new Float32Array(rows * k); // [rows, k]
          steps.forEach((p, r) => (onehot[r * k + p] = 1));
          const out = new Float32Array(rows * width).fill(NaN);
          const before = backends.skipping.stats().zeroSkipping;
          if (onB)
            backends.skipping.matmul(dense, onehot, out, { batch: 1, m: width, k, n: rows, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
          else backends.skipping.matmul(onehot, dense, out, { batch: 1, m: rows, k, n: width, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
          if (k > 1) expect(backends.skipping.stats().zeroSkipping).toBe(before + 1);
          for (let r = 0; r < rows; r++)
            for (let j = 0; j < width; j++) {
              const got = onB ? out[j * rows + r]! : out[r * width + j]!;
              if (got !== dense[j * k + steps[r]!]) expect(`row ${r} (step ${steps[r]}) column ${j}: ${got}`).toBe(`${dense[j * k + steps[r]!]}`);
            }
        },
      ),
      { ...fcOptions(), numRuns: Math.min(fcOptions().numRuns ?? 100, 30) },
    );
  });

  it('leaves out the rows of C that all-zero rows of op(A) make zero (op(B) sparse, through the strip): the dense kernel’s bits', () => {
    // op(A) [m, k] with whole rows of ±0 (a ReLU layer's dead units in gᵀ), the rest half zeros; op(B) 97% zeros, so it is the one skipped.
    const dims = fc.record({
      m: fc.oneof(fc.integer({ min: NR, max: 90 }), fc.constantFrom(400)),
      k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(KC - 1, KC)),
      n: fc.oneof(size, fc.constantFrom(NR * 6, 784)),
      transA: fc.boolean(),
      zeroRows: fc.constantFrom(0, 0.05, 0.2, 0.45, 0.9, 1),
      inPlace: fc.boolean(),
    });
    fc.assert(
      fc.property(dims, fc.nat(), ({ m, k, n, transA, zeroRows, inPlace }, seed) => {
        const next = rng(seed);
        const zero = Array.from({ length: m }, () => next() < zeroRows);
        const a = new Float32Array(m * k);
        for (let i = 0; i < m; i++)
          for (let p = 0; p < k; p++) a[transA ? p * m + i : i * k + p] = zero[i] ? (next() < 0.5 ? 0 : -0) : next() < 0.5 ? -0 : 2 * next() - 1;
        const b = sparse(next, k * n, 0.97);
        b[0] = 0.5; // a non-zero, so that op(A)'s zeros are not skipped instead
        const d: MatmulDims = { batch: 1, m, k, n, transA, transB: false, aBatchStride: 0, bBatchStride: 0 };
        const memory = backends.skipping.memory;
        const out = inPlace ? (memory.keep(new Float32Array(m * n).fill(NaN)) as Float32Array) : new Float32Array(m * n).fill(NaN);
        const want = new Float32Array(m * n);
        const before = backends.skipping.stats().zeroRowsLeftOut;
        backends.skipping.matmul(a, b, out, d);
        backends.dense.matmul(a, b, want, d);
        // rows all ±0: the chosen ones, and any other whose every element drew a zero
        const count = zero.filter((_, i) => Array.from({ length: k }, (_, p) => a[transA ? p * m + i : i * k + p]).every((v) => v === 0)).length;
        // Left out when there are at least NR of them and an eighth of the rows, and op(B) is the operand skipped: its
        // 97% zeros against op(A)'s half of the other rows, unless op(A) is all zeros (then op(A) is skipped, for nothing).
        const leftOut = backends.skipping.stats().zeroRowsLeftOut - before;
        expect(leftOut).toBe(count >= Math.max(NR, m / 8) && count < m ? 1 : 0);
        expectSameFloats(out, want, `${JSON.stringify(d)} `);
      }),
      { ...fcOptions(), numRuns: Math.min(fcOptions().numRuns ?? 100, 60) },
    );
  });

  it.each([
    ['op(A) sparse, ∞ in op(B)', false, Infinity],
    ['op(A) sparse, NaN in op(B)', false, NaN],
    ['op(B) sparse, ∞ in op(A)', true, Infinity],
    ['op(B) sparse, NaN in op(A)', true, NaN],
  ])('gives the NaN of 0·∞ and 0·NaN when the dense operand is not finite: %s', (_name, onB, bad) => {
    // k > KC: two blocks, the first holding the bad value; k ≤ KC: one block.
    for (const k of [KC + 44, KC - 56]) {
      const [m, n] = [40, 64];
      const next = rng(7);
      const a = onB ? sparse(next, m * k, 0) : sparse(next, m * k, 0.8);
      const b = onB ? sparse(next, k * n, 0.8) : sparse(next, k * n, 0);
      if (onB) {
        a[3 * k + 5] = bad; // row 3 of A
        b.fill(0, 5 * n, 6 * n); // row 5 of B is all zero: 0·bad = NaN in every column of row 3
      } else {
        b[5 * n + 3] = bad; // column 3 of B
        a.fill(0, 0, k); // row 0 of A is all zero: 0·bad = NaN at [0, 3]
      }
      const d: MatmulDims = { batch: 1, m, k, n, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
      const out = new Float32Array(m * n);
      const want = new Float32Array(m * n);
      const before = backends.skipping.stats().zeroSkipping;
      backends.skipping.matmul(a, b, out, d);
      backends.dense.matmul(a, b, want, d);
      // The kernel multiplies a block of the dense operand holding the bad value densely; but a
      // result stored transposed straight into C (op(B) sparse, k ≤ KC) is not computed skipping at all.
      expect(backends.skipping.stats().zeroSkipping).toBe(before + (onB && k <= KC ? 0 : 1));
      if (onB) for (let j = 0; j < n; j++) expect(out[3 * n + j]).toBeNaN();
      else expect(out[3]).toBeNaN();
      expectSameFloats(out, want, `k ${k} `);
    }
  });

  it.each([
    ['row-major op(B), whole panels (vector copies)', false, 64],
    ['row-major op(B), a partial last panel (gathered)', false, 61],
    ['transposed op(B), whole panels (4×4 transposes and the last kc mod 4 steps)', true, 64],
    ['transposed op(B), a partial last panel (gathered)', true, 61],
  ])('finds ∞ and NaN wherever packing B copies them from: %s', (_name, transB, n) => {
    // One block of k = KC − 3 steps (kc mod 4 = 1); the bad value in the middle, in the last step or in the last column.
    const [m, k] = [40, KC - 3];
    for (const [p, j] of [
      [5, 3],
      [k - 1, 9],
      [17, n - 1],
      [k - 1, n - 1],
    ] as const)
      for (const bad of [Infinity, -Infinity, NaN]) {
        const next = rng(11);
        const a = sparse(next, m * k, 0.8);
        const b = sparse(next, k * n, 0);
        b[transB ? j * k + p : p * n + j] = bad;
        a.fill(0, 0, k); // row 0 of A is all zero: 0·bad = NaN at [0, j]
        const d: MatmulDims = { batch: 1, m, k, n, transA: false, transB, aBatchStride: 0, bBatchStride: 0 };
        const out = new Float32Array(m * n);
        const want = new Float32Array(m * n);
        backends.skipping.matmul(a, b, out, d);
        backends.dense.matmul(a, b, want, d);
        expect(out[j]).toBeNaN();
        expectSameFloats(out, want, `B'[${p}, ${j}] = ${bad}: `);
      }
  });

  it('equals the dense kernel with ∞ and NaN anywhere in either operand, at every shape and sparsity', () => {
    const dims = fc.record({
      m: size,
      k: fc.oneof(size, fc.constantFrom(KC - 1, KC + 1, 2 * KC + 3)),
      n: size,
      transA: fc.boolean(),
      transB: fc.boolean(),
      zerosA: zerosArb,
      zerosB: zerosArb,
      bad: fc.array(
        fc.record({ inA: fc.boolean(), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), value: fc.constantFrom(Infinity, -Infinity, NaN) }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(dims, fc.nat(), ({ zerosA, zerosB, bad, ...s }, seed) => {
        const d: MatmulDims = { ...s, batch: 1, aBatchStride: 0, bBatchStride: 0 };
        const next = rng(seed);
        const a = sparse(next, d.m * d.k, zerosA);
        const b = sparse(next, d.k * d.n, zerosB);
        for (const { inA, at, value } of bad) (inA ? a : b)[Math.floor(at * (inA ? a : b).length)] = value;
        const out = new Float32Array(d.m * d.n);
        const want = new Float32Array(d.m * d.n);
        backends.skipping.matmul(a, b, out, d);
        backends.dense.matmul(a, b, want, d);
        expectSameFloats(out, want, `${JSON.stringify(d)} `);
      }),
      fcOptions(),
    );
  });
});

describe("wasm matmul, the 'auto' choice of zero skipping", () => {
  let auto: WasmBackend;
  beforeAll(async () => {
    auto = createWasmBackend({ threads: 1 });
    await auto.ready();
  });
  afterAll(() => auto.dispose());

  it.each([
    ['a dense batch x·Wᵀ', 128, 784, 400, 0, 0, false],
    ['ReLU activations with 25% zeros, h·Wᵀ', 128, 400, 784, 0.25, 0, false],
    ['Fashion-MNIST-like input, 52% zeros, x·Wᵀ', 128, 784, 400, 0.52, 0, true],
    ['MNIST-like input, 80% zeros, x·Wᵀ', 128, 784, 400, 0.8, 0, true],
    ['a weight gradient gᵀ·h, h 72% zeros (op(B) sparse)', 784, 128, 400, 0, 0.72, true],
    ['a narrow result, 40 columns, 80% zeros', 128, 784, 40, 0.8, 0, false],
    ['a 128-column result at 45% zeros', 128, 784, 128, 0.45, 0, false],
    ['a 128-column result at 72% zeros', 128, 784, 128, 0.72, 0, true],
  ] as const)('%s: skips = %s', (_name, m, k, n, zerosA, zerosB, skips) => {
    const next = rng(m + k + n);
    const a = sparse(next, m * k, zerosA);
    const b = sparse(next, k * n, zerosB);
    const before = auto.stats().zeroSkipping;
    auto.matmul(a, b, new Float32Array(m * n), { batch: 1, m, k, n, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(auto.stats().zeroSkipping - before).toBe(skips ? 1 : 0);
  });
});
