import type { Backend, BinaryOp, Conv2dDims, MatmulDims, ReduceOp, UnaryOp } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { rng } from './seeded.js';
export { rng };

/**
 * Backend checks shared by the Node tests and the Chromium page (so no vitest or node imports):
 * each runs one float32 kernel of `backend` and the cpu reference in float64 on the same inputs,
 * and returns the worst ratio |out − ref| / tol over the elements (≤ 1 passes). The tolerances
 * come from float32 precision, u = 2⁻²⁴ (unit roundoff):
 *
 * - matmul: |out − ref| ≤ C_MATMUL·k·u·Σₚ|A[i,p]|·|B[p,j]| (Higham's dot-product bound γ_k ≤ k·u/(1−k·u),
 *   doubled for devices that do not round every step like IEEE);
 * - conv2d, convTranspose2d: the matmul bound with k = the taps one output sums at most,
 *   (inChannels/groups)·kh·kw, and Σ|x|·|W| over them (the reference run on |x| and |W|);
 * - sum over r elements: |out − ref| ≤ C_REDUCE·r·u·Σ|x|; max is exact;
 * - elementwise f: |out − ref| ≤ C·u·(|f| + Σ |xᵢ·∂f/∂xᵢ|), the error of evaluating f accurately
 *   on inputs each perturbed by a few ulps (the second term is f's condition; it lets log near 1
 *   or softplus(x) − x·y have the absolute error their cancellation implies). The partials are
 *   central differences of the float64 reference. C_UNARY (unary ops and bceWithLogits) allows GPU
 *   transcendentals a few ulps, C_BINARY the arithmetic ops;
 *   x^p by exp(p·ln|x|) adds the condition of that exp, |x^p·p·ln|x||.
 *
 * A result below float32's normal range (2⁻¹²⁶) may be flushed to 0 by a GPU, so every
 * tolerance has that floor. NaN must meet NaN and ±∞ the same infinity.
 */
export const U = 2 ** -24;
export const C_MATMUL = 2;
export const C_REDUCE = 2;
export const C_UNARY = 16;
export const C_BINARY = 4;
const FLOOR = 2 ** -126;

/** One check's outcome: `worst` ≤ 1 passes. */
export interface Check {
  name: string;
  worst: number;
  /** Where the worst element was and what it held, for failure messages. */
  detail: string;
}

/** float32 values in [lo, hi], a fifth of them tiny (10⁻⁶..10⁻² in size) when the range allows. */
function values(next: () => number, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    if (next() < 0.2) {
      const tiny = 10 ** (-6 + 4 * next()) * (lo < 0 && next() < 0.5 ? -1 : 1);
      if (tiny >= lo && tiny <= hi) return tiny;
    }
    return lo + (hi - lo) * next();
  });
}

function worstOf(name: string, out: ArrayLike<number>, ref: ArrayLike<number>, tol: (i: number) => number): Check {
  let worst = 0;
  let detail = 'exact';
  for (let i = 0; i < ref.length; i++) {
    const o = out[i]!;
    const r = ref[i]!;
    let ratio: number;
    if (Number.isNaN(r) || !Number.isFinite(r)) ratio = Object.is(o, r) || (Number.isNaN(o) && Number.isNaN(r)) ? 0 : Infinity;
    else ratio = Math.abs(o - r) / Math.max(tol(i), FLOOR);
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      detail = `[${i}] out ${o} ref ${r} tol ${tol(i)}`;
    }
  }
  return { name, worst, detail };
}

const abs64 = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, Math.abs);

/** matmul on `dims`; a batch stride of 0 makes that operand one matrix, repeated. */
export function checkMatmul(backend: Backend, d: MatmulDims, seed: number): Check {
  const next = rng(seed);
  const a = values(next, (d.aBatchStride === 0 ? 1 : d.batch) * d.m * d.k, -1, 1);
  const b = values(next, (d.bBatchStride === 0 ? 1 : d.batch) * d.k * d.n, -1, 1);
  const out = new Float32Array(d.batch * d.m * d.n).fill(NaN);
  backend.matmul(a, b, out, d);
  const ref = new Float64Array(out.length);
  cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
  const mass = new Float64Array(out.length); // Σₚ |A[i,p]|·|B[p,j]|
  cpuBackend.matmul(abs64(a), abs64(b), mass, d);
  const name = `matmul b${d.batch} ${d.m}x${d.k}x${d.n} ${d.transA ? 'T' : 'N'}${d.transB ? 'T' : 'N'} strides ${d.aBatchStride},${d.bBatchStride}`;
  return worstOf(name, out, ref, (i) => C_MATMUL * d.k * U * mass[i]!);
}

/** Which convolution a {@link checkConv} runs. */
export type ConvKind = 'conv2d' | 'convTranspose2d';

/**
 * The sizes of one convolution from its options and input: `outHeight`/`outWidth` follow from
 * PyTorch's formulas (conv2d: ⌊(h + 2·pad − dil·(k − 1) − 1)/stride⌋ + 1; convTranspose2d:
 * (h − 1)·stride − 2·pad + dil·(k − 1) + outputPadding + 1).
 */
export function convDims(kind: ConvKind, d: Omit<Conv2dDims, 'outHeight' | 'outWidth'>, outputPadding: [number, number] = [0, 0]): Conv2dDims {
  const size = (input: number, k: number, stride: number, pad: number, dil: number, extra: number): number =>
    kind === 'conv2d' ? Math.floor((input + 2 * pad - dil * (k - 1) - 1) / stride) + 1 : (input - 1) * stride - 2 * pad + dil * (k - 1) + extra + 1;
  return {
    ...d,
    outHeight: size(d.height, d.kernelHeight, d.strideH, d.padH, d.dilationH, outputPadding[0]),
    outWidth: size(d.width, d.kernelWidth, d.strideW, d.padW, d.dilationW, outputPadding[1]),
  };
}

/** A grouped convolution with unequal strides, padding and dilation per axis (groups 2, 4→6 channels, 3×2 kernel, 7×9 input). */
export const GROUPED_CONV: Readonly<Omit<Conv2dDims, 'outHeight' | 'outWidth'>> = {
  batch: 2,
  inChannels: 4,
  height: 7,
  width: 9,
  outChannels: 6,
  kernelHeight: 3,
  kernelWidth: 2,
  strideH: 2,
  strideW: 1,
  padH: 1,
  padW: 0,
  dilationH: 1,
  dilationW: 2,
  groups: 2,
};

/** The weight's element count: conv2d [outC, inC/groups, kh, kw], convTranspose2d [inC, outC/groups, kh, kw]. */
const convWeightSize = (kind: ConvKind, d: Conv2dDims): number =>
  (kind === 'conv2d' ? d.outChannels * (d.inChannels / d.groups) : d.inChannels * (d.outChannels / d.groups)) * d.kernelHeight * d.kernelWidth;

/** The conv VAE's convolutions at batch `batch` (k 4, stride 2, padding 1) and its largest weight gradient, by name. */
export function convVaeLayers(batch: number): Record<string, [ConvKind, Conv2dDims]> {
  const layer = { batch, kernelHeight: 4, kernelWidth: 4, strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
  return {
    'conv2d 1->32 28x28': ['conv2d', convDims('conv2d', { ...layer, inChannels: 1, height: 28, width: 28, outChannels: 32 })],
    'conv2d 32->64 14x14': ['conv2d', convDims('conv2d', { ...layer, inChannels: 32, height: 14, width: 14, outChannels: 64 })],
    'convTranspose2d 64->32 7x7': ['convTranspose2d', convDims('convTranspose2d', { ...layer, inChannels: 64, height: 7, width: 7, outChannels: 32 })],
    'convTranspose2d 32->1 14x14': ['convTranspose2d', convDims('convTranspose2d', { ...layer, inChannels: 32, height: 14, width: 14, outChannels: 1 })],
    // ∂W of conv2d 32->64: x's channels as the batch, the batch as channels, g as a 7×7 kernel of dilation 2
    'dW 32->64': [
      'conv2d',
      convDims('conv2d', {
        ...layer,
        batch: 32,
        inChannels: batch,
        height: 14,
        width: 14,
        outChannels: 64,
        kernelHeight: 7,
        kernelWidth: 7,
        strideH: 1,
        strideW: 1,
        dilationH: 2,
        dilationW: 2,
      }),
    ],
  };
}

/** conv2d or convTranspose2d on `dims` (random x and W in [−1, 1]) against the float64 reference. */
export function checkConv(backend: Backend, kind: ConvKind, d: Conv2dDims, seed: number): Check {
  const next = rng(seed);
  const x = values(next, d.batch * d.inChannels * d.height * d.width, -1, 1);
  const w = values(next, convWeightSize(kind, d), -1, 1);
  const out = new Float32Array(d.batch * d.outChannels * d.outHeight * d.outWidth).fill(NaN);
  const run = backend[kind];
  if (!run) throw new Error(`${backend.name} has no ${kind} kernel`);
  run(x, w, out, d);
  const ref = new Float64Array(out.length);
  cpuBackend[kind](Float64Array.from(x), Float64Array.from(w), ref, d);
  const mass = new Float64Array(out.length);
  cpuBackend[kind](abs64(x), abs64(w), mass, d);
  const taps = (d.inChannels / d.groups) * d.kernelHeight * d.kernelWidth;
  const name =
    `${kind} b${d.batch} ${d.inChannels}x${d.height}x${d.width} -> ${d.outChannels}x${d.outHeight}x${d.outWidth} k${d.kernelHeight}x${d.kernelWidth}` +
    ` s${d.strideH},${d.strideW} p${d.padH},${d.padW} d${d.dilationH},${d.dilationW} g${d.groups}`;
  return worstOf(name, out, ref, (i) => C_MATMUL * taps * U * mass[i]!);
}

/** Each unary op's input range (log, sqrt need x > 0, log1p x > −1; exp stays finite in float32). */
export const UNARY_RANGE: Record<UnaryOp, [number, number]> = {
  neg: [-8, 8],
  exp: [-20, 20],
  log: [1e-3, 20],
  log1p: [-0.99, 20],
  sqrt: [0, 20],
  abs: [-8, 8],
  sign: [-8, 8],
  step: [-8, 8],
  relu: [-8, 8],
  sigmoid: [-20, 20],
  tanh: [-10, 10],
  softplus: [-20, 20],
  logSigmoid: [-20, 20],
  pow: [-3, 3],
  leakyRelu: [-8, 8],
  elu: [-8, 8],
  clamp: [-8, 8],
};

/** Σ |xᵢ·∂f/∂xᵢ| by central differences of the float64 reference `f` over each input array. */
function condition(f: (inputs: Float64Array[]) => Float64Array, inputs: Float64Array[]): Float64Array {
  const h = 1e-7;
  const total = new Float64Array(f(inputs).length);
  inputs.forEach((_, k) => {
    const shifted = (s: number): Float64Array => f(inputs.map((y, j) => (j === k ? y.map((v) => v * (1 + s)) : y)));
    const up = shifted(h);
    const down = shifted(-h);
    for (let i = 0; i < total.length; i++) total[i]! += Math.abs(up[i]! - down[i]!) / (2 * h);
  });
  return total;
}

/** A unary op on `n` values; `pow` uses exponent p (x > 0 for a non-integer p), clamp [p, q]. */
export function checkUnary(backend: Backend, op: UnaryOp, n: number, seed: number, p = 0.1, q = 2): Check {
  const [lo, hi] = op === 'pow' && !Number.isInteger(p) ? [0, 3] : UNARY_RANGE[op];
  const x = values(rng(seed), n, lo, hi);
  const out = new Float32Array(n).fill(NaN);
  backend.unary(op, x, out, p, q);
  const f = ([y]: Float64Array[]): Float64Array => {
    const r = new Float64Array(y!.length);
    cpuBackend.unary(op, y!, r, p, q);
    return r;
  };
  const x64 = Float64Array.from(x);
  const ref = f([x64]);
  const kappa = condition(f, [x64]);
  // x^p beyond small integers is exp(p·ln|x|): rounding p·ln|x| adds |x^p·p·ln|x|| to the condition.
  if (op === 'pow' && !(Number.isInteger(p) && Math.abs(p) <= 8)) kappa.forEach((k, i) => (kappa[i] = k + Math.abs(ref[i]! * p * Math.log(Math.abs(x64[i]!)))));
  return worstOf(`${op}${op === 'pow' ? `^${p}` : ''} n=${n}`, out, ref, (i) => C_UNARY * U * (Math.abs(ref[i]!) + kappa[i]!));
}

/** A binary op on n values with each side an array or a scalar (length 1); eq gets some equal pairs. */
export function checkBinary(backend: Backend, op: BinaryOp, n: number, aScalar: boolean, bScalar: boolean, seed: number): Check {
  const next = rng(seed);
  const a = values(next, aScalar ? 1 : n, -8, 8);
  const b = op === 'bceWithLogits' ? values(next, bScalar ? 1 : n, 0, 1) : values(next, bScalar ? 1 : n, -8, 8);
  if (op === 'div') b.forEach((v, i) => (b[i] = Math.abs(v) < 0.1 ? 0.5 : v));
  if (op === 'eq') b.forEach((_, i) => (b[i] = next() < 0.5 ? a[aScalar ? 0 : i]! : b[i]!));
  const strides = (scalar: boolean): number[] => [scalar ? 0 : 1];
  const out = new Float32Array(n).fill(NaN);
  backend.binary(op, a, strides(aScalar), b, strides(bScalar), [n], out);
  const f = ([x, y]: Float64Array[]): Float64Array => {
    const r = new Float64Array(n);
    cpuBackend.binary(op, x!, strides(aScalar), y!, strides(bScalar), [n], r);
    return r;
  };
  const inputs = [Float64Array.from(a), Float64Array.from(b)];
  const ref = f(inputs);
  const kappa = op === 'eq' ? new Float64Array(n) : condition(f, inputs);
  const name = `${op} n=${n} ${aScalar ? 'scalar' : 'array'},${bScalar ? 'scalar' : 'array'}`;
  const c = op === 'bceWithLogits' ? C_UNARY : C_BINARY; // bce evaluates exp and log
  return worstOf(name, out, ref, (i) => c * U * (Math.abs(ref[i]!) + kappa[i]!));
}

/** A reduction of `shape` over `axes`. */
export function checkReduce(backend: Backend, op: ReduceOp, shape: number[], axes: number[], seed: number): Check {
  const size = shape.reduce((s, d) => s * d, 1);
  const x = values(rng(seed), size, -4, 4);
  const outSize = shape.reduce((s, d, i) => (axes.includes(i) ? s : s * d), 1);
  const r = size / Math.max(outSize, 1);
  const out = new Float32Array(outSize).fill(NaN);
  backend.reduce(op, x, shape, axes, out);
  const ref = new Float64Array(outSize);
  cpuBackend.reduce(op, Float64Array.from(x), shape, axes, ref);
  const mass = new Float64Array(outSize);
  cpuBackend.reduce('sum', abs64(x), shape, axes, mass);
  return worstOf(`${op} [${shape}] axes [${axes}]`, out, ref, (i) => (op === 'sum' ? C_REDUCE * r * U * mass[i]! : 0));
}

/** GFLOP/s of backend.matmul on [m, k]·[k, n] (or ·[n, k]ᵀ), after one warm-up call, over at least `ms` milliseconds. */
export function matmulGflops(backend: Backend, m: number, k: number, n: number, transB: boolean, ms = 500): number {
  const next = rng(1);
  const a = values(next, m * k, -1, 1);
  const b = values(next, k * n, -1, 1);
  const out = new Float32Array(m * n);
  const d: MatmulDims = { batch: 1, m, k, n, transA: false, transB, aBatchStride: 0, bBatchStride: 0 };
  backend.matmul(a, b, out, d);
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < ms || reps < 2) {
    backend.matmul(a, b, out, d);
    reps++;
  }
  return (2 * m * k * n * reps) / ((performance.now() - start) * 1e6);
}

/** GFLOP/s (2 per multiply-add of the dense window sum) of backend[kind] on `d`, after one warm-up call, over at least `ms` milliseconds. */
export function convGflops(backend: Backend, kind: ConvKind, d: Conv2dDims, ms = 500): number {
  const next = rng(2);
  const x = values(next, d.batch * d.inChannels * d.height * d.width, -1, 1);
  const w = values(next, convWeightSize(kind, d), -1, 1);
  const out = new Float32Array(d.batch * d.outChannels * d.outHeight * d.outWidth);
  const run = backend[kind] ?? cpuBackend[kind];
  run(x, w, out, d);
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < ms || reps < 2) {
    run(x, w, out, d);
    reps++;
  }
  // conv2d: each output sums (inC/groups)·kh·kw taps; convTranspose2d: each input spreads over (outC/groups)·kh·kw.
  const macs =
    kind === 'conv2d'
      ? out.length * (d.inChannels / d.groups) * d.kernelHeight * d.kernelWidth
      : x.length * (d.outChannels / d.groups) * d.kernelHeight * d.kernelWidth;
  return (2 * macs * reps) / ((performance.now() - start) * 1e6);
}
