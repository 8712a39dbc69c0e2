/**
 * The logistic family, σ(x), softplus(x) = ln(1 + eˣ), ln σ(x) = −softplus(−x) and BCE with
 * logits softplus(x) − x·y, as the JavaScript backends compute them, each written so that no
 * branch overflows: with e = exp(−|x|) ∈ (0, 1],
 *
 *   σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise;   softplus(x) = max(x, 0) + ln(1 + e).
 *
 * Two evaluations of the same formulas:
 * - float64 results (the oracle every backend is checked against) use Math.exp and Math.log1p;
 * - float32 results replace those two calls by polynomials evaluated in float64 arithmetic
 *   (relative error below 1e-11, against float32's 6e-8, so the float32 result is the correctly
 *   rounded one except in rare near-ties), the very operations, in the same order, of the wasm
 *   backend's SIMD kernels (`wasm/vector.wat.ts`, two lanes of float64 at a time): both backends
 *   give the same float32 numbers, bit for bit, and the tests check that. It is 3-5× faster than
 *   the calls, and these are the costliest loops of a VAE's training step.
 */

/** softplus(x) = ln(1 + eˣ) in float64 (the reference). */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** σ(x) = 1 / (1 + e⁻ˣ) in float64 (the reference), on the side where the exponential cannot overflow. */
export const sigmoid = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};

/**
 * Constants of e^a for a ≤ 0: a = n·ln 2 + r with n = round(a/ln 2) and |r| ≤ ln(2)/2, then
 * e^a = 2ⁿ·P(r), P the Taylor polynomial of degree 9 (truncation error < 7e-12 relative).
 */
export const EXP = {
  /** a is clamped here first: e^−200 ≈ 1e-87 rounds to 0 in float32, and 2ⁿ stays a normal float64. */
  min: -200,
  log2e: Math.LOG2E,
  /** 1.5·2⁵²: adding it rounds a float64 to an integer (ties to even), found in the low bits. */
  magic: 6755399441055744,
  /** ln 2 = ln2Hi + ln2Lo, ln2Hi with 32 trailing zero bits so n·ln2Hi is exact (fdlibm's split). */
  // biome-ignore lint/correctness/noPrecisionLoss: fdlibm's published digits; the double they round to is the point
  ln2Hi: 6.9314718036912381649e-1,
  // biome-ignore lint/correctness/noPrecisionLoss: fdlibm's published digits; the double they round to is the point
  ln2Lo: 1.90821492927058770002e-10,
  /** P's coefficients 1/k!, k = 0…9. */
  coefficients: [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880],
} as const;

/**
 * ln(1 + e) for e ∈ [0, 1] as 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) with s = e/(2 + e) ≤ 1/3:
 * the coefficients 2/(2k + 1), k = 0…10, in z = s² (truncation error < 2e-12 relative).
 */
export const LOG1P = Array.from({ length: 11 }, (_, k) => 2 / (2 * k + 1));

/** 2ⁿ for n = 0, −1, …, −300 (exact), the scale the SIMD kernel builds from n's bits. */
const POW2 = Float64Array.from({ length: 301 }, (_, i) => 2 ** -i);

/** e^a for a ≤ 0 (or NaN), to 1e-11 relative, as the SIMD kernel computes it. */
export function expNeg(a: number): number {
  const x = Math.max(a, EXP.min);
  const t = x * EXP.log2e + EXP.magic;
  const n = t - EXP.magic;
  if (n !== n) return n; // NaN
  const r = x - n * EXP.ln2Hi - n * EXP.ln2Lo;
  const c = EXP.coefficients;
  let p: number = c[9];
  for (let k = 8; k >= 0; k--) p = p * r + c[k]!;
  return p * POW2[-n]!;
}

/** ln(1 + e) for e ∈ [0, 1], to 1e-11 relative, as the SIMD kernel computes it. */
export function log1pUnit(e: number): number {
  const s = e / (2 + e);
  const z = s * s;
  let q = LOG1P[10]!;
  for (let k = 9; k >= 0; k--) q = q * z + LOG1P[k]!;
  return s * q;
}

/** σ(x) for a float32 result (see the file comment). */
export function sigmoid32(x: number): number {
  const e = expNeg(-Math.abs(x));
  const d = 1 + e;
  return x >= 0 ? 1 / d : e / d;
}

/** softplus(x) for a float32 result. */
export const softplus32 = (x: number): number => Math.max(x, 0) + log1pUnit(expNeg(-Math.abs(x)));
/** ln σ(x) = min(x, 0) − ln(1 + e) for a float32 result. */
export const logSigmoid32 = (x: number): number => Math.min(x, 0) - log1pUnit(expNeg(-Math.abs(x)));
