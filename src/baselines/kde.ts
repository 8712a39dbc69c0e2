import { LOG_2PI } from '../autograd/ops.js';
import type { Vector } from '../verify/linalg.js';
import type { BinaryData } from './bernoulli-mixture.js';
import { rowLogSumExp } from './em.js';

/**
 * Kernel density estimation, p(x) = (1/N) Σₙ κ(x | xₙ), with the kernel matched to the data:
 *
 * - binary pixels: the Bernoulli-product kernel κ(x | xₙ) = Πᵈ λ^{[xᵈ = xₙᵈ]} (1 − λ)^{[xᵈ ≠ xₙᵈ]},
 *   λ ∈ (½, 1), a probability mass function on {0, 1}ᵈ. It depends on x only through the
 *   Hamming distance h = |x ⊕ xₙ|: ln κ = d ln λ + h ln((1 − λ)/λ). So each query keeps the
 *   histogram of its distances to the N centres, and any λ then costs d + 1 terms:
 *   ln p(x) = ln Σₕ cₕ e^{d ln λ + h ln((1−λ)/λ)} − ln N.
 * - continuous data: the Gaussian kernel κ = N(x; xₙ, σ² I).
 *
 * The bandwidth (λ or σ) is the one of a grid that maximizes the mean ln p of held-out data.
 */

/** Bit-packed rows (32 pixels per word) and their popcounts. */
interface Packed {
  words: Uint32Array;
  perRow: number;
  n: number;
}

function pack(data: BinaryData): Packed {
  const perRow = Math.ceil(data.d / 32);
  const words = new Uint32Array(data.n * perRow);
  for (let i = 0; i < data.n; i++) {
    for (let a = data.offsets[i]!; a < data.offsets[i + 1]!; a++) {
      const j = data.active[a]!;
      words[i * perRow + (j >>> 5)]! |= 1 << (j & 31);
    }
  }
  return { words, perRow, n: data.n };
}

const popcount = (v: number): number => {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
};

/** For each query row, how many centres lie at Hamming distance h, h = 0..d: [queries, d + 1]. */
export interface HammingHistograms {
  counts: Float64Array;
  queries: number;
  d: number;
  centres: number;
}

/** The Hamming-distance histograms of every query row against every centre (bit-packed XOR and popcount). */
export function hammingHistograms(queries: BinaryData, centres: BinaryData): HammingHistograms {
  if (queries.d !== centres.d) throw new RangeError(`hammingHistograms: queries have ${queries.d} columns, centres ${centres.d}`);
  const q = pack(queries);
  const c = pack(centres);
  const d = queries.d;
  const counts = new Float64Array(queries.n * (d + 1));
  const w = q.perRow;
  for (let i = 0; i < q.n; i++) {
    const qi = q.words.subarray(i * w, (i + 1) * w);
    const row = counts.subarray(i * (d + 1), (i + 1) * (d + 1));
    for (let n = 0; n < c.n; n++) {
      let h = 0;
      const off = n * w;
      for (let a = 0; a < w; a++) h += popcount(qi[a]! ^ c.words[off + a]!);
      row[h]! += 1;
    }
  }
  return { counts, queries: queries.n, d, centres: centres.n };
}

/** ln p(x) of every query under the Bernoulli-product KDE with parameter λ, from its histogram. */
export function bernoulliKdeLogProb(histograms: HammingHistograms, lambda: number): Float64Array {
  if (!(lambda > 0.5 && lambda < 1)) throw new RangeError(`bernoulliKdeLogProb: lambda must be in (0.5, 1), got ${lambda}`);
  const { d, queries, counts, centres } = histograms;
  const terms = new Float64Array(d + 1);
  const out = new Float64Array(queries);
  const slope = Math.log1p(-lambda) - Math.log(lambda);
  for (let i = 0; i < queries; i++) {
    for (let h = 0; h <= d; h++) {
      const c = counts[i * (d + 1) + h]!;
      terms[h] = c > 0 ? Math.log(c) + d * Math.log(lambda) + h * slope : -Infinity;
    }
    out[i] = rowLogSumExp(terms, 0, d + 1) - Math.log(centres);
  }
  return out;
}

const mean = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
};

/** The default λ grid: λ = 1 − ε for 60 values of ε spaced evenly in ln ε from 1e-4 to 0.45. */
export const LAMBDA_GRID: readonly number[] = Array.from({ length: 60 }, (_, i) => 1 - Math.exp(Math.log(1e-4) + (i / 59) * (Math.log(0.45) - Math.log(1e-4))));

/** The bandwidth search: each candidate's mean held-out ln p, and the best one. */
export interface BandwidthChoice {
  best: number;
  bestHeldOut: number;
  grid: Array<{ bandwidth: number; heldOut: number }>;
}

/** Picks λ for the Bernoulli-product kernel by the mean held-out ln p(x) of `heldOut` under centres `centres`. */
export function chooseBernoulliBandwidth(centres: BinaryData, heldOut: BinaryData, grid: readonly number[] = LAMBDA_GRID): BandwidthChoice {
  const histograms = hammingHistograms(heldOut, centres);
  return pickBest(grid.map((bandwidth) => ({ bandwidth, heldOut: mean(bernoulliKdeLogProb(histograms, bandwidth)) })));
}

function pickBest(grid: Array<{ bandwidth: number; heldOut: number }>): BandwidthChoice {
  const best = grid.reduce((a, b) => (b.heldOut > a.heldOut ? b : a));
  return { best: best.bandwidth, bestHeldOut: best.heldOut, grid };
}

/** ln p(x) per query under the Gaussian KDE: ln (1/N) Σₙ N(x; xₙ, σ² I). */
export function gaussianKdeLogProb(centres: readonly Vector[], queries: readonly Vector[], sigma: number): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`gaussianKdeLogProb: sigma must be positive, got ${sigma}`);
  const d = centres[0]!.length;
  const terms = new Float64Array(centres.length);
  const constant = -0.5 * d * (LOG_2PI + 2 * Math.log(sigma)) - Math.log(centres.length);
  return Float64Array.from(queries, (x) => {
    centres.forEach((c, n) => {
      let s = 0;
      for (let a = 0; a < d; a++) s += (x[a]! - c[a]!) ** 2;
      terms[n] = -s / (2 * sigma * sigma);
    });
    return rowLogSumExp(terms, 0, centres.length) + constant;
  });
}

/** Picks σ of the Gaussian kernel from `grid` by the mean held-out ln p(x). */
export function chooseGaussianBandwidth(centres: readonly Vector[], heldOut: readonly Vector[], grid: readonly number[]): BandwidthChoice {
  return pickBest(grid.map((bandwidth) => ({ bandwidth, heldOut: mean(gaussianKdeLogProb(centres, heldOut, bandwidth)) })));
}
