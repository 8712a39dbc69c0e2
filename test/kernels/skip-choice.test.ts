import { describe, expect, it } from 'vitest';
import { SKIP } from '../../src/kernels/wasm/gemm.wat.js';
import { chooseSkip, NO_SKIP, sampledZeros } from '../../src/kernels/wasm/skip-choice.js';

/** When a product skips zeros, and of which operand (the kernels give the same bits either way). */
describe('chooseSkip', () => {
  const big = { m: 128, n: 400, flops: 2 * 128 * 784 * 400 };
  const fixed = (z: number) => (): number => z;

  it('skips the operand with enough zeros for the columns it is computed over', () => {
    expect(chooseSkip('auto', big, fixed(0.8), fixed(0))).toEqual({ mode: SKIP.rows, onB: false }); // x·Wᵀ, MNIST x
    expect(chooseSkip('auto', { m: 784, n: 400, flops: big.flops }, fixed(0), fixed(0.45))).toEqual({ mode: SKIP.rows, onB: true }); // gᵀ·h
    expect(chooseSkip('auto', big, fixed(0.28), fixed(0.25))).toBe(NO_SKIP); // too few zeros at 400 columns
    expect(chooseSkip('auto', { m: 128, n: 40, flops: big.flops }, fixed(0.9), fixed(0))).toBe(NO_SKIP); // 40 columns never pay
  });

  it('weighs the non-zeros of op(B) 1.4 times those of op(A) when both qualify', () => {
    const both = { m: 400, n: 784, flops: big.flops };
    expect(chooseSkip('auto', both, fixed(0.6), fixed(0.8)).onB).toBe(true); // 0.2·1.4 < 0.4
    expect(chooseSkip('auto', both, fixed(0.75), fixed(0.8)).onB).toBe(false); // 0.2·1.4 > 0.25
  });

  it('counts only the non-zeros of op(B) that meet rows of op(A) left in, and asks for them only when both operands qualify', () => {
    const both = { m: 400, n: 784, flops: big.flops };
    expect(chooseSkip('auto', both, fixed(0.75), fixed(0.8), fixed(0.6)).onB).toBe(true); // 0.2·1.4·0.6 < 0.25
    expect(chooseSkip('auto', both, fixed(0.75), fixed(0.8), fixed(1)).onB).toBe(false);
    const unasked = (): number => {
      throw new Error('asked');
    };
    expect(chooseSkip('auto', both, fixed(0), fixed(0.8), unasked)).toEqual({ mode: SKIP.rows, onB: true });
    expect(chooseSkip('auto', both, fixed(0.8), fixed(0), unasked)).toEqual({ mode: SKIP.rows, onB: false });
  });

  it('never samples a product below the size where skipping pays, and obeys off and always', () => {
    const unsampled = (): number => {
      throw new Error('sampled');
    };
    expect(chooseSkip('auto', { m: 8, n: 400, flops: 3e6 }, unsampled, unsampled)).toBe(NO_SKIP);
    expect(chooseSkip('off', big, unsampled, unsampled)).toBe(NO_SKIP);
    expect(chooseSkip('always', { m: 4, n: 4, flops: 10 }, fixed(0.01), fixed(0))).toEqual({ mode: SKIP.rows, onB: false });
  });

  it('sampledZeros counts every element of a short array and samples a long one', () => {
    expect(sampledZeros(Float32Array.from([0, 1, 0, 2]), 4)).toBe(0.5);
    const long = new Float32Array(100_000).map((_, i) => (i % 5 === 0 ? 1 : 0)); // 80% zeros
    expect(Math.abs(sampledZeros(long, long.length) - 0.8)).toBeLessThan(0.06);
    expect(sampledZeros(long, 3)).toBe(2 / 3); // only the first `length` elements
  });
});
