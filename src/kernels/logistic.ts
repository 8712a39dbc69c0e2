/**
 * The logistic family, σ(x), softplus(x) = ln(1 + eˣ), ln σ(x) = −softplus(−x), BCE with logits
 * softplus(x) − x·y and σ(x) − y, as the JavaScript backends compute them, each written so that
 * no branch overflows: with e = exp(−|x|) ∈ (0, 1],
 *
 *   σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise;   softplus(x) = max(x, 0) + ln(1 + e).
 *
 * Two evaluations of the same formulas:
 * - float64 results (the oracle every backend is checked against) use Math.exp and Math.log1p;
 * - float32 results are computed in float32 arithmetic, like PyTorch's float32 kernels: e by range
 *   reduction and a degree-6 polynomial ({@link EXP32}), ln(1 + e) by fdlibm's `log1pf` scheme
 *   with a degree-3 polynomial in s² ({@link LOG1P32}), every +, −, ×, ÷ a float32 operation
 *   (`Math.fround` of the float64 result of two float32s, which is the IEEE float32 result). The
 *   wasm backend's SIMD kernels (`wasm/vector.wat.ts`) run the very same operations in the same
 *   order on f32x4 lanes, without fused multiply-adds, so both backends give the same float32
 *   numbers, bit for bit, and the tests check that. On f32x4 lanes this is 3.3-4.5× faster than
 *   the float64 polynomials it replaced (`bench/logistic.bench.ts`); in JavaScript, where every
 *   `Math.fround` costs two conversions, the cpu reference's loops are 1.5-2.4× slower.
 *
 * Error against the exact value rounded to float32, measured over every 61st float32 bit pattern
 * of each sign (70 million inputs, subnormals to 3.4e38) and the special values
 * (`bench/logistic.bench.ts --accuracy 61`, asserted by test/kernels/logistic.test.ts on a
 * coarser sweep): σ, softplus and ln σ at most 2 ulp (about 97% correctly rounded);
 * BCE and σ(x) − y with y ∈ {0, 1} at most 2 ulp too, as the arrangements below leave only
 * ln(1 + e) or e/(1 + e) inexact; with y ∈ (0, 1) the roundings of x·y and of the difference
 * add to it, within 5u·max(|softplus(x)|, |x·y|) for BCE and 3u·max(σ(x), y) for σ(x) − y
 * (u = 2⁻²⁴; 4.53 and 2.92 measured). NaN gives NaN, ±∞ the limits, −0 the value at 0, and
 * e^−|x| is kept to float32's subnormals (σ(−100) ≈ 3.7e-44, within the 2 ulp) and 0 past −104.
 *
 * eˣ itself ({@link exp32}, the float32 `exp` of the cpu and wasm backends; float64 keeps
 * Math.exp) uses the same reduction and polynomial over the whole float32 range: against
 * Math.exp rounded to float32 over every 61st float32 bit pattern of each sign (70 million
 * inputs, `bench/logistic.bench.ts --accuracy 61`), at most 1 ulp (worst at a subnormal result),
 * 99.58% correctly rounded (+∞ counted as the float after the largest, so an overflow threshold
 * off by one input would be 1 ulp; asserted by test/kernels/logistic.test.ts on every 4099th).
 * It is +∞ from x ≈ 88.7228, subnormal below −87.34, 0 past −103.98.
 */

/** softplus(x) = ln(1 + eˣ) in float64 (the reference). */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** σ(x) = 1 / (1 + e⁻ˣ) in float64 (the reference), on the side where the exponential cannot overflow. */
export const sigmoid = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};

const f32 = Math.fround;

/**
 * Constants of e^a for a ≤ 0 in float32: a = n·ln 2 + r with n = round(a·log₂e) and |r| ≤ ln(2)/2
 * (a hair more when a·log₂e rounds across a half), then e^a = 2ⁿ·P(r) with
 * P(r) = 1 + r + r²·Q(r), Q of degree 4 fitted for the least maximum relative error of P
 * (3.1e-9 on |r| ≤ 0.3468, a twentieth of float32's unit roundoff u = 2⁻²⁴ ≈ 6e-8).
 */
export const EXP32 = {
  /** a is clamped here first: e^−104 ≈ 0.48·2⁻¹⁴⁹ rounds to 0 in float32, and n ≥ −150. */
  min: -104,
  /** {@link exp32} clamps a here too: e^89 ≈ 4.5e38 rounds to +∞ in float32, and n ≤ 128. */
  max: 89,
  log2e: f32(Math.LOG2E),
  /** 1.5·2²³: adding it rounds a float32 to an integer (ties to even), found in the low bits. */
  magic: 12582912,
  /** ln 2 = ln2Hi + ln2Lo, ln2Hi (0x3f317200) with 15 significant bits, so n·ln2Hi is exact. */
  ln2Hi: 0.693145751953125,
  ln2Lo: f32(Math.LN2 - 0.693145751953125),
  /** Q's coefficients, lowest degree first (float32 values of the fitted ones). */
  coefficients: [0.49999994, 0.16666521, 0.041668393, 0.008368745, 0.0013814531].map(f32),
} as const;

/**
 * ln(1 + e) for e ∈ [0, 1] as 2·atanh(s), s = e/(2 + e) ≤ 1/3, z = s², written as fdlibm's
 * `log1pf` writes it, e − (h − s·(h + z·R(z))) with h = e²/2, so that the rounding of s only
 * touches the small correction: R's coefficients, lowest degree first, fitted to 2·atanh(s) =
 * 2s + s·z·R(z) for the least maximum relative error (4.5e-9 on z ≤ 1/9).
 */
export const LOG1P32 = [0.6666642, 0.40021542, 0.2800154, 0.28013396].map(f32);

/** 2ᵏ for k = −75…64 (index k + 75), normal in float32: the halves 2^⌊n/2⌋ and 2^(n − ⌊n/2⌋) for n = −150…128. */
const POW2 = Float64Array.from({ length: 140 }, (_, i) => 2 ** (i - 75));

/** P(r) = 1 + (r + r²·Q(r)) ≈ eʳ for |r| ≤ ln(2)/2 in float32 arithmetic (see {@link EXP32}). */
function expPoly32(r: number): number {
  const c = EXP32.coefficients;
  let q: number = c[4]!;
  for (let k = 3; k >= 0; k--) q = f32(f32(q * r) + c[k]!);
  return f32(1 + f32(r + f32(f32(r * r) * q)));
}

/**
 * eˣ for any float32 x in float32 arithmetic, as the SIMD kernels compute it: x clamped to
 * [{@link EXP32}.min, {@link EXP32}.max], x = n·ln 2 + r (n·ln2Hi exact, x − n·ln2Hi exact by
 * Sterbenz), eˣ = P(r)·2ⁿ. The scale is applied as (P·2^⌊n/2⌋)·2^(n − ⌊n/2⌋), two normal powers
 * of 2 (n = −150…128): the first product is exact, the second rounds P·2ⁿ once, to a subnormal,
 * 0 or +∞ where eˣ is one in float32. (The logistic loops scale e^−|x| as (P·2ⁿ⁺²⁵)·2⁻²⁵
 * instead, one instruction fewer: again an exact product, then P·2ⁿ rounded once, the same
 * float.) Within 1 ulp of eˣ rounded to float32 (see the file comment; P's error is below 0.05
 * ulp, then come the roundings of r, r²·Q, r + r²·Q and 1 + that); NaN gives NaN, −∞ 0, +∞ +∞,
 * ±0 1.
 */
export function exp32(a: number): number {
  const x = Math.min(Math.max(a, EXP32.min), EXP32.max);
  const t = f32(f32(x * EXP32.log2e) + EXP32.magic);
  const n = t - EXP32.magic; // exact
  if (n !== n) return n; // NaN
  const r = f32(f32(x - n * EXP32.ln2Hi) - f32(n * EXP32.ln2Lo));
  const half = n >> 1; // ⌊n/2⌋
  return f32(f32(expPoly32(r) * POW2[half + 75]!) * POW2[n - half + 75]!);
}

/** e^a for a ≤ 0 (or NaN), the exponential of the logistic functions: {@link exp32}. */
export const expNeg32: (a: number) => number = exp32;

/** ln(1 + e) for e ∈ [0, 1] in float32 arithmetic, as the SIMD kernel computes it (see {@link LOG1P32}): within 1 ulp. */
export function log1pUnit32(e: number): number {
  const s = f32(e / f32(2 + e));
  const z = f32(s * s);
  const c = LOG1P32;
  let q: number = c[3]!;
  for (let k = 2; k >= 0; k--) q = f32(f32(q * z) + c[k]!);
  const h = f32(0.5 * f32(e * e));
  return f32(e - f32(h - f32(s * f32(h + f32(z * q)))));
}

/** σ(x) in float32 arithmetic: 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise; within 2 ulp (see the file comment). */
export function sigmoid32(x: number): number {
  const e = expNeg32(-Math.abs(x));
  const d = f32(1 + e);
  return x >= 0 ? f32(1 / d) : f32(e / d);
}

/** softplus(x) = max(x, 0) + ln(1 + e) in float32 arithmetic; within 2 ulp. */
export const softplus32 = (x: number): number => f32(Math.max(x, 0) + log1pUnit32(expNeg32(-Math.abs(x))));
/** ln σ(x) = −(max(−x, 0) + ln(1 + e)) in float32 arithmetic (−0 for huge x, as ln σ < 0); within 2 ulp. */
export const logSigmoid32 = (x: number): number => -f32(Math.max(-x, 0) + log1pUnit32(expNeg32(-Math.abs(x))));

/**
 * BCE with logits softplus(x) − x·y in float32 arithmetic, as (max(x, 0) − x·y) + ln(1 + e): exact
 * but for ln(1 + e) when y is 0 or 1 (then within 2 ulp of the result); for other y the roundings
 * of x·y and of the difference add to it, within 5u·max(|softplus(x)|, |x·y|) (see the file comment).
 */
export function bceWithLogits32(x: number, y: number): number {
  return f32(f32(Math.max(x, 0) - f32(x * y)) + log1pUnit32(expNeg32(-Math.abs(x))));
}

/**
 * σ(x) − y in float32 arithmetic, as (1 − y) − e/(1 + e) for x ≥ 0 and e/(1 + e) − y otherwise,
 * so that σ(x) ≈ y cancels before the rounding, not after: within 2 ulp for y ∈ {0, 1}, and
 * within 3u·max(σ(x), y) for y ∈ (0, 1) (see the file comment).
 */
export function sigmoidSub32(x: number, y: number): number {
  const e = expNeg32(-Math.abs(x));
  const q = f32(e / f32(1 + e));
  return x >= 0 ? f32(f32(1 - y) - q) : f32(q - y);
}
