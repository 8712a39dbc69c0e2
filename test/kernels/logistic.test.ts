import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { expNeg, log1pUnit, sigmoid, softplus } from '../../src/kernels/logistic.js';

/**
 * The float32 evaluation of σ, softplus, ln σ and BCE with logits (polynomial exp and ln(1 + e)
 * in float64, `logistic.ts`) against the float64 reference (Math.exp, Math.log1p): the
 * polynomials are accurate to 1e-11, so every float32 result is within one ulp of the correctly
 * rounded one, and equal to it but for rare near-ties.
 */

/** Float32 values over [-lim, lim], dense near 0 and spread to the tails. */
const sweep = (count: number, lim: number): Float32Array =>
  Float32Array.from({ length: count }, (_, i) => {
    const t = (2 * i) / (count - 1) - 1; // [-1, 1]
    return Math.sign(t) * lim * t * t;
  });

const ulp32 = (v: number): number => {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
};

describe('logistic functions for float32 results', () => {
  it('expNeg and log1pUnit are accurate to 1e-11 relative', () => {
    let worstExp = 0;
    let worstLog = 0;
    for (let i = 0; i <= 200000; i++) {
      const a = -(i / 200000) * 100;
      worstExp = Math.max(worstExp, Math.abs(expNeg(a) - Math.exp(a)) / Math.exp(a));
      const e = (i + 1) / 200001;
      worstLog = Math.max(worstLog, Math.abs(log1pUnit(e) - Math.log1p(e)) / Math.log1p(e));
    }
    expect(worstExp).toBeLessThan(1e-11);
    expect(worstLog).toBeLessThan(1e-11);
  });

  it('σ, softplus, ln σ and BCE with logits are within one ulp of the correctly rounded value, and equal to it almost always', () => {
    const x = sweep(400001, 120);
    const y = Float32Array.from(x, (_, i) => (i % 7) / 6);
    const ref: Record<string, (v: number, t: number) => number> = {
      sigmoid: (v) => sigmoid(v),
      softplus: (v) => softplus(v),
      logSigmoid: (v) => -softplus(-v),
      bceWithLogits: (v, t) => softplus(v) - v * t,
      sigmoidSub: (v, t) => sigmoid(v) - t,
    };
    for (const [op, f] of Object.entries(ref)) {
      const out = new Float32Array(x.length);
      if (op === 'bceWithLogits' || op === 'sigmoidSub') cpuBackend.binary(op, x, [1], y, [1], [x.length], out);
      else cpuBackend.unary(op as 'sigmoid', x, out, 0, 0);
      let differ = 0;
      const beyondUlp: string[] = [];
      out.forEach((v, i) => {
        const exact = f(x[i]!, y[i]!);
        if (v !== Math.fround(exact)) differ++;
        if (!(Math.abs(v - exact) <= ulp32(exact))) beyondUlp.push(`${op}(${x[i]}, ${y[i]}) = ${v}, exact ${exact}`);
      });
      expect(beyondUlp.slice(0, 5)).toEqual([]);
      expect(differ / x.length, op).toBeLessThan(1e-4);
    }
  });

  it('keeps the limits: NaN stays NaN, ±∞ and huge inputs give the exact limits, −0 gives the value at 0', () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, 3e38, -3e38, -0, 0, 1e-40]);
    const run = (op: 'sigmoid' | 'softplus' | 'logSigmoid'): number[] => {
      const out = new Float32Array(x.length);
      cpuBackend.unary(op, x, out, 0, 0);
      return Array.from(out);
    };
    expect(run('sigmoid')).toEqual([NaN, 1, 0, 1, 0, 0.5, 0.5, 0.5]);
    expect(run('softplus')).toEqual([NaN, Infinity, 0, 3e38, 0, Math.fround(Math.LN2), Math.fround(Math.LN2), Math.fround(Math.LN2)].map(Math.fround));
    expect(run('logSigmoid')).toEqual([NaN, -0, -Infinity, -0, -3e38, -Math.fround(Math.LN2), -Math.fround(Math.LN2), -Math.fround(Math.LN2)].map(Math.fround));
  });
});
