import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { exp32, expNeg32, log1pUnit32 } from '../../src/kernels/logistic.js';
import { createWasmBackend } from '../../src/kernels/wasm/index.js';
import { measureLogisticErrors, SPECIAL_INPUTS, ulpDistance } from './logistic-error.js';
import { rng } from './seeded.js';
import { expectSameFloats } from '../helpers.js';

/**
 * The float32 evaluation of eˣ, σ, softplus, ln σ, BCE with logits and σ(x) − y (`logistic.ts`:
 * range reduction and low-degree polynomials, every operation a float32 one) against exact
 * values in float64: the error bounds that file states, measured over a sweep of every 4099th
 * float32 (about a million inputs, every binade) and the special values; and the wasm SIMD
 * kernels, which run the same operations, give the same bits.
 */

const wasm = createWasmBackend({ threads: 1 });
afterAll(() => wasm.dispose());

const floatAt = (bits: number): number => new Float32Array(Int32Array.of(bits).buffer)[0]!;

describe('logistic functions in float32 arithmetic', () => {
  it('expNeg32 and log1pUnit32 are within 1 ulp of e^a (a ∈ [−104, 0], subnormal results included) and ln(1 + e) (e ∈ [0, 1]), and correctly rounded as often as their polynomials allow', () => {
    let worstExp = 0;
    let worstLog = 0;
    for (let bits = 0; bits <= 0x42d00000; bits += 1031) {
      const a = -floatAt(bits); // 0 … −104 by every 1031st float32
      worstExp = Math.max(worstExp, ulpDistance(expNeg32(a), Math.exp(a)));
    }
    // On uniform grids (r spread evenly over the reduced range): the share correctly rounded,
    // 0.9003 and 0.8678 as fitted, falls when a coefficient is off by even a few parts in 10⁴.
    const N = 1 << 20;
    let expExact = 0;
    let logExact = 0;
    for (let i = 0; i < N; i++) {
      const a = Math.fround((-87 * (i + 0.5)) / N);
      const dExp = ulpDistance(expNeg32(a), Math.exp(a));
      const e = Math.fround((i + 0.5) / N);
      const dLog = ulpDistance(log1pUnit32(e), Math.log1p(e));
      worstExp = Math.max(worstExp, dExp);
      worstLog = Math.max(worstLog, dLog);
      if (dExp === 0) expExact++;
      if (dLog === 0) logExact++;
    }
    for (let bits = 0; bits <= 0x3f800000; bits += 1031) {
      const e = floatAt(bits); // 0 … 1, tiny e included
      worstLog = Math.max(worstLog, ulpDistance(log1pUnit32(e), Math.log1p(e)));
    }
    expect(worstExp).toBeLessThanOrEqual(1);
    expect(worstLog).toBeLessThanOrEqual(1);
    expect(expExact / N).toBeGreaterThan(0.899);
    expect(logExact / N).toBeGreaterThan(0.865);
    expect(expNeg32(-87.5)).toBeGreaterThan(0); // e^−87.5 ≈ 1e-38 is subnormal in float32, kept
    expect(expNeg32(-200)).toBe(0);
  });

  it('exp32 is within 1 ulp of eˣ rounded to float32 over every 4099th float32 of each sign (overflow to +∞ and subnormal results included), and correctly rounded for 99% of them', () => {
    let worst = 0;
    let worstAt = 0;
    let exact = 0;
    let count = 0;
    for (let bits = 0; bits <= 0x7f800000; bits += 4099) {
      for (const x of [floatAt(bits), -floatAt(bits)]) {
        const d = ulpDistance(exp32(x), Math.exp(x)); // +∞ is 1 ulp past the largest float32
        if (d > worst) [worst, worstAt] = [d, x];
        if (d === 0) exact++;
        count++;
      }
    }
    expect(worst, `exp32(${worstAt})`).toBeLessThanOrEqual(1);
    expect(exact / count).toBeGreaterThan(0.99); // 99.59% measured
    expect([NaN, Infinity, -Infinity, 0, -0, 1e-40, 89, 88.72, -88, -103.9, -104].map(exp32)).toEqual([
      NaN,
      Infinity,
      0,
      1,
      1,
      1,
      Infinity,
      3.3931763410814077e38,
      Math.fround(Math.exp(-88)),
      2 ** -149,
      0,
    ]);
  });

  it('σ, softplus, ln σ (and BCE and σ(x) − y at y ∈ {0, 1}) are within 2 ulp of the exact value, and correctly rounded for 9 inputs in 10', () => {
    const worst = measureLogisticErrors(4099);
    for (const op of ['sigmoid', 'softplus', 'logSigmoid', 'bceWithLogits y ∈ {0, 1}', 'sigmoidSub y ∈ {0, 1}']) {
      const w = worst[op]!;
      expect(w.error, `${op}(${w.x}, ${w.y}) = ${w.value}, exact ${w.exact}`).toBeLessThanOrEqual(2);
      expect(w.correctlyRounded, op).toBeGreaterThan(0.9);
    }
    // With y ∈ [0, 1]: within 5u·max(|softplus(x)|, |x·y|) for BCE, 3u·max(σ(x), y) for σ(x) − y
    // (4.53 and 2.92 the worst of a sweep 67 times denser, `bench/logistic.bench.ts --accuracy 61`).
    for (const [op, bound] of [
      ['bceWithLogits y ∈ [0, 1]', 5],
      ['sigmoidSub y ∈ [0, 1]', 3],
    ] as const) {
      const w = worst[op]!;
      expect(w.error, `${op}(${w.x}, ${w.y}) = ${w.value}, exact ${w.exact}`).toBeLessThanOrEqual(bound);
    }
  });

  it('keeps the limits: NaN stays NaN, ±∞ and huge inputs give the exact limits, −0 gives the value at 0', () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, 3e38, -3e38, -0, 0, 1e-40]);
    const run = (op: 'sigmoid' | 'softplus' | 'logSigmoid'): number[] => {
      const out = new Float32Array(x.length);
      cpuBackend.unary(op, x, out, 0, 0);
      return Array.from(out);
    };
    const ln2 = Math.fround(Math.LN2);
    expect(run('sigmoid')).toEqual([NaN, 1, 0, 1, 0, 0.5, 0.5, 0.5]);
    expect(run('softplus')).toEqual([NaN, Infinity, 0, Math.fround(3e38), 0, ln2, ln2, ln2]);
    expect(run('logSigmoid')).toEqual([NaN, -0, -Infinity, -0, Math.fround(-3e38), -ln2, -ln2, -ln2]);
    const t = Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
    const binary = (op: 'bceWithLogits' | 'sigmoidSub'): number[] => {
      const out = new Float32Array(x.length);
      cpuBackend.binary(op, x, [1], t, [1], [x.length], out);
      return Array.from(out);
    };
    // ∞·0 and ∞ − ∞ are NaN, as in softplus(x) − x·y in float64
    expect(binary('bceWithLogits')).toEqual([NaN, NaN, NaN, 0, 0, ln2, ln2, ln2]);
    expect(binary('sigmoidSub')).toEqual([NaN, 0, 0, 0, 0, -0.5, 0.5, -0.5]);
  });

  it('the wasm SIMD loops give the cpu loops’ bits over a sweep of every float32 step of 65537 (subnormal results included) and the special values', () => {
    const bits = new Int32Array(2 * Math.ceil(0x7f800000 / 65537) + SPECIAL_INPUTS.length);
    const x = new Float32Array(bits.buffer);
    x.set(SPECIAL_INPUTS);
    let n = SPECIAL_INPUTS.length;
    for (let b = 0; b < 0x7f800000; b += 65537) {
      bits[n++] = b;
      bits[n++] = b | 0x80000000;
    }
    const uniform = rng(3);
    const ys = [new Float32Array(n), new Float32Array(n).fill(1), Float32Array.from({ length: n }, uniform)];
    const same = (op: string, out: Float32Array, ref: Float32Array): void => {
      expectSameFloats(out.subarray(0, n), ref.subarray(0, n), (i) => `${op}(${x[i]}) `);
    };
    for (const op of ['exp', 'sigmoid', 'softplus', 'logSigmoid'] as const) {
      const out = new Float32Array(n);
      const ref = new Float32Array(n);
      wasm.unary(op, x, out, 0, 0);
      cpuBackend.unary(op, x, ref, 0, 0);
      same(op, out, ref);
    }
    for (const op of ['bceWithLogits', 'sigmoidSub'] as const) {
      for (const y of ys) {
        const out = new Float32Array(n);
        const ref = new Float32Array(n);
        wasm.binary(op, x, [1], y, [1], [n], out);
        cpuBackend.binary(op, x, [1], y, [1], [n], ref);
        same(op, out, ref);
      }
    }
  });
});
