/**
 * When a product skips the zeros of a sparse operand element by element (`SKIP` in
 * gemm.wat.ts), and which operand: the costs measured for the choice, and the choice itself.
 * The kernels are bit-exact either way (the result of a skipping product equals the dense
 * kernel's), so these numbers only decide speed.
 */
import { SKIP } from './gemm.wat.js';

/** How a product skips zeros: the kernel's mode ({@link SKIP}), and whether the sparse operand is op(B) (else op(A)). */
export interface SkipChoice {
  mode: number;
  onB: boolean;
}

/**
 * How much more a row of A' costs a task than a column of B' when the product skips zeros: a task
 * lists the non-zeros of each of its rows (scalar, one element at a time) and packs B' (vector
 * copies). On 2 threads, 4 instead of 1 (tasks split along m rather than n) ran x·W1ᵀ with an
 * MNIST-like input 0.85-0.91× as long, the step's other sparse products within the noise of a
 * loaded machine (2 runs each, 2026-12-06).
 */
export const ROWS_SPLIT_WEIGHT = 4;
/**
 * How much more a non-zero of op(B) costs than one of op(A) when skipping: a sparse op(B) is
 * listed down its columns, and the result is computed transposed and transposed back. Measured
 * 1 thread on g_hᵀ·x [400,128]·[128,784] with an MNIST batch x: with random g_h, skipping x's
 * zeros (80%) ran 0.80-0.82 ms, g_h's 1.06-1.12 ms at 54% zeros and 0.75-0.76 ms at 72%; in a
 * training step (bench/train-step.bench.ts's batch, step 400), x's (75%) 0.79 ms, g_h's (63%)
 * 0.89 ms. (1 − 0.75)·1.4 < 1 − 0.63 and (1 − 0.80)·1.4 lies between 1 − 0.72 and 1 − 0.54.
 */
const TRANSPOSED_COST = 1.4;
/** Products with fewer flops never skip zeros (the sampling and finiteness check would cost more than they save). */
const SKIP_MIN_FLOPS = 4e6;

/**
 * The fraction of sampled zeros from which skipping them pays, by the number of columns of the
 * product the kernel computes with the sparse operand on the left (n, or m when op(B) is the
 * sparse one): each row's list of non-zeros is made once and used for every 48 columns, so wide
 * products amortise it. Measured 1 thread, zeros placed at random (bench/sparse-matmul.bench.ts):
 * at 400 and 784 columns, with the 1×48 micro-kernel and KC = 128, skipping ran 0.92-0.99× the
 * dense time at 25% zeros and 0.75-0.81× at 42% (with the 1×32 one and KC = 256: 1.04-1.17× at
 * 20-28%, 0.87-0.95× at 40-44%); at 128 columns 1.05-1.08× at 42% and 0.80-0.87× at 60%; at 64
 * columns 1.01-1.04× at 60%; at 40 columns 1.14-1.20× even at 72% (those three with the 1×32 one).
 */
function minZeros(columns: number): number {
  return columns >= 256 ? 0.3 : columns >= 128 ? 0.5 : Infinity;
}

/**
 * The fraction of zeros among up to 512 pseudo-randomly placed elements of x[0, length): a 32-bit
 * pseudo-random word w picks element ⌊w·length/2³²⌋ (a multiply, not `w % length`, which V8
 * computes as a float remainder: 8 µs a call against 2).
 */
export function sampledZeros(x: Float32Array, length: number): number {
  const samples = Math.min(512, length);
  if (samples === length) {
    let zeros = 0;
    for (let at = 0; at < length; at++) if (x[at] === 0) zeros++;
    return zeros / samples;
  }
  const scale = length / 2 ** 32;
  let zeros = 0;
  for (let s = 0, word = 0; s < samples; s++) {
    word = (Math.imul(word, 1103515245) + 12345 + s) >>> 0;
    if (x[Math.floor(word * scale)] === 0) zeros++;
  }
  return zeros / samples;
}

/** The choice of a product that does not skip zeros. */
export const NO_SKIP: Readonly<SkipChoice> = { mode: SKIP.none, onB: false };

/**
 * Whether a product [m, k]·[k, n] of `flops` skips zeros, and of which operand: op(A) or op(B)
 * (`onB`), whichever has enough zeros for the columns it would be computed over ({@link minZeros})
 * and whose non-zeros cost less (those of op(B) {@link TRANSPOSED_COST} times more, and only those
 * met by the rows of op(A) that are not all zero, `rowsA`: skipping op(B) leaves the others out).
 * `zerosA` and `zerosB` give the fraction of zeros of each (sampled only when the product is large
 * enough), `rowsA` the fraction of op(A)'s rows left (asked only when both operands qualify).
 * 'always' skips whichever operand has a zero; 'off' never skips.
 */
export function chooseSkip(
  option: 'auto' | 'always' | 'off',
  d: { m: number; n: number; flops: number },
  zerosA: () => number,
  zerosB: () => number,
  rowsA: () => number = () => 1,
): SkipChoice {
  if (option === 'off' || (option === 'auto' && d.flops < SKIP_MIN_FLOPS)) return NO_SKIP;
  const [a, b] = [zerosA(), zerosB()];
  const canA = option === 'auto' ? a >= minZeros(d.n) : a > 0;
  const canB = option === 'auto' ? b >= minZeros(d.m) : b > 0;
  if (!canA && !canB) return NO_SKIP;
  return { mode: SKIP.rows, onB: canB && (!canA || (1 - b) * TRANSPOSED_COST * rowsA() < 1 - a) };
}
