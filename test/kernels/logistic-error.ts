/**
 * The error of the float32 logistic family and eˣ (`src/kernels/logistic.ts`, run through the cpu
 * backend's float32 loops) against exact values computed in float64, over a sweep of float32
 * inputs: every `stride`-th finite float32 bit pattern of each sign, so that every binade, from
 * the subnormals to 3.4e38, gets its share, plus the special values. Shared by
 * `logistic.test.ts` (which asserts the bounds) and `bench/logistic.bench.ts --accuracy` (which
 * reports a denser sweep).
 *
 * - eˣ, σ, softplus and ln σ: the distance in ulps (float32 steps) to the exact value rounded to
 *   float32 (0 = correctly rounded; +∞ one step past the largest float32).
 * - BCE with logits softplus(x) − x·y and σ(x) − y with y ∈ {0, 1}: the same distance in ulps.
 * - The same with y uniform in [0, 1]: the absolute error in units of u·scale, u = 2⁻²⁴,
 *   scale = max(|softplus(x)|, |x·y|) for BCE and max(σ(x), |y|) for σ(x) − y (a float32 result of
 *   a difference cannot promise better: the roundings of its operands are of that size).
 */
import { cpuBackend } from '../../src/kernels/cpu.js';
import { sigmoid, softplus } from '../../src/kernels/logistic.js';
import { rng } from './seeded.js';

/** The worst case of one function over the sweep. */
export interface WorstCase {
  /** ulps, or units of u·scale for the `… y ∈ [0, 1]` rows. */
  error: number;
  /** The share of inputs whose result is the exact value rounded to float32 (ulp rows only). */
  correctlyRounded: number;
  x: number;
  y: number;
  value: number;
  exact: number;
}

const U = 2 ** -24;
const MIN_SUBNORMAL = 2 ** -149;

/** ln(1 + exp(−|x|)) in float64. */
const log1pExp = (x: number): number => Math.log1p(Math.exp(-Math.abs(x)));
/** Exact (float64) values, written so that no cancellation loses what float32 keeps. */
const EXACT = {
  exp: (x: number) => Math.exp(x),
  sigmoid: (x: number) => sigmoid(x),
  softplus: (x: number) => softplus(x),
  logSigmoid: (x: number) => -softplus(-x),
  bceWithLogits: (x: number, y: number) => Math.max(x, 0) - x * y + log1pExp(x),
  sigmoidSub: (x: number, y: number) => {
    const e = Math.exp(-Math.abs(x));
    const q = e / (1 + e);
    return x >= 0 ? 1 - y - q : q - y;
  },
} as const;

const ordered = new Int32Array(1);
const orderedFloat = new Float32Array(ordered.buffer);
/** The position of a float32 on the line of all float32s (−0 and +0 at the same place). */
function rank(v: number): number {
  orderedFloat[0] = v;
  const bits = ordered[0]!;
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

/** Float32 steps between v (a float32) and the float32 nearest `exact`; 0 when both are NaN, ∞ when one is. */
export function ulpDistance(v: number, exact: number): number {
  if (Number.isNaN(v) || Number.isNaN(exact)) return Number.isNaN(v) && Number.isNaN(exact) ? 0 : Infinity;
  return Math.abs(rank(v) - rank(Math.fround(exact)));
}

/** Special inputs: zeros, infinities, NaN, huge, subnormal, and the edges of e's underflow. */
export const SPECIAL_INPUTS = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  3e38,
  -3e38,
  1e-40,
  -1e-40,
  1e-8,
  -1e-8,
  87.3,
  -87.3,
  88.8,
  -88.8,
  103.9,
  -103.9,
  104,
  -104,
  110,
  -110,
];

/**
 * The worst case of each function over every `stride`-th finite float32 of each sign (and the
 * special inputs), inputs in chunks through the cpu backend's float32 loops.
 */
export function measureLogisticErrors(stride: number): Record<string, WorstCase> {
  const worst: Record<string, WorstCase> = {};
  const counts: Record<string, { all: number; exact: number }> = {};
  const note = (name: string, error: number, x: number, y: number, value: number, exact: number): void => {
    const count = (counts[name] ??= { all: 0, exact: 0 });
    count.all++;
    if (error === 0) count.exact++;
    if (!(error <= (worst[name]?.error ?? -1))) worst[name] = { error, correctlyRounded: 0, x, y, value, exact };
  };
  const uniform = rng(7);
  const CHUNK = 1 << 16;
  const MAX_BITS = 0x7f7fffff; // 3.4e38
  const bits = new Int32Array(CHUNK);
  const x = new Float32Array(bits.buffer);
  const y = new Float32Array(CHUNK);
  const out = new Float32Array(CHUNK);
  for (let start = 0, first = true; start <= MAX_BITS; start += CHUNK * stride, first = false) {
    for (const sign of [0, 0x80000000 | 0]) {
      let n = 0;
      if (first && sign === 0) for (const v of SPECIAL_INPUTS) x[n++] = v;
      for (let b = start; n < CHUNK && b <= MAX_BITS && b < start + CHUNK * stride; b += stride) bits[n++] = b | sign;
      const xs = x.subarray(0, n);
      const o = out.subarray(0, n);
      for (const op of ['exp', 'sigmoid', 'softplus', 'logSigmoid'] as const) {
        cpuBackend.unary(op, xs, o, 0, 0);
        for (let i = 0; i < n; i++) note(op, ulpDistance(o[i]!, EXACT[op](xs[i]!)), xs[i]!, 0, o[i]!, EXACT[op](xs[i]!));
      }
      for (const op of ['bceWithLogits', 'sigmoidSub'] as const) {
        for (const target of [0, 1, undefined]) {
          const ys = y.subarray(0, n);
          if (target === undefined) for (let i = 0; i < n; i++) ys[i] = uniform();
          else ys.fill(target);
          cpuBackend.binary(op, xs, [1], ys, [1], [n], o);
          for (let i = 0; i < n; i++) {
            const xi = xs[i]!;
            const yi = ys[i]!;
            const exact = EXACT[op](xi, yi);
            if (target !== undefined) {
              note(`${op} y ∈ {0, 1}`, ulpDistance(o[i]!, exact), xi, yi, o[i]!, exact);
              continue;
            }
            if (!Number.isFinite(xi)) continue; // ∞·y and ∞ − ∞: NaN or ∞, compared with the cpu's float64 path elsewhere
            const scale = op === 'bceWithLogits' ? Math.max(softplus(xi), Math.abs(xi * yi)) : Math.max(sigmoid(xi), yi);
            note(`${op} y ∈ [0, 1]`, Math.abs(o[i]! - exact) / (U * scale + MIN_SUBNORMAL), xi, yi, o[i]!, exact);
          }
        }
      }
    }
  }
  for (const [name, w] of Object.entries(worst)) w.correctlyRounded = counts[name]!.exact / counts[name]!.all;
  return worst;
}
