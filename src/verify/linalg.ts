/**
 * Small dense linear algebra in plain float64 JavaScript, for the exact ground truths of
 * `elbo verify`. It deliberately uses nothing from the engine (no Tensor, no kernel), so the
 * closed forms it computes are an independent reference for what the engine computes.
 *
 * Matrices are arrays of rows (`m[i][j]`); vectors are plain arrays. Sizes here are tiny
 * (a data dimension of 10 to 20), so clarity wins over speed.
 */

/** A dense matrix as an array of rows. */
export type Matrix = number[][];
/** A dense vector. */
export type Vector = number[];

/** ln 2π. */
import { LOG_2PI } from '../autograd/ops.js';

/** The n × n identity matrix. */
export const identity = (n: number): Matrix => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

/** An r × c matrix of zeros. */
export const zerosMatrix = (r: number, c: number): Matrix => Array.from({ length: r }, () => new Array<number>(c).fill(0));

/** Aᵀ. */
export const transpose = (a: Matrix): Matrix => (a.length === 0 ? [] : a[0]!.map((_, j) => a.map((row) => row[j]!)));

/** The product A·B; throws when the inner sizes differ. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  const inner = b.length;
  if (a.some((row) => row.length !== inner)) throw new Error(`linalg.matmul: inner sizes differ (${a[0]?.length} vs ${inner})`);
  const cols = b[0]?.length ?? 0;
  return a.map((row) => {
    const out = new Array<number>(cols).fill(0);
    row.forEach((aik, k) => {
      const bk = b[k]!;
      for (let j = 0; j < cols; j++) out[j]! += aik * bk[j]!;
    });
    return out;
  });
}

/** A·v. */
export const matvec = (a: Matrix, v: Vector): Vector => a.map((row) => dot(row, v));

/** uᵀv. */
export function dot(u: Vector, v: Vector): number {
  if (u.length !== v.length) throw new Error(`linalg.dot: lengths differ (${u.length} vs ${v.length})`);
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i]! * v[i]!;
  return s;
}

/** A + B (same shape). */
export const addMatrices = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v + b[i]![j]!));

/** s·A. */
export const scaleMatrix = (a: Matrix, s: number): Matrix => a.map((row) => row.map((v) => v * s));

/** u − v. */
export const subVectors = (u: Vector, v: Vector): Vector => u.map((x, i) => x - v[i]!);

/** A + s·I (A square). */
export const addDiagonal = (a: Matrix, s: number): Matrix => a.map((row, i) => row.map((v, j) => (i === j ? v + s : v)));

/** tr A. */
export const trace = (a: Matrix): number => a.reduce((s, row, i) => s + row[i]!, 0);

/** The diagonal matrix with `d` on its diagonal. */
export const diag = (d: Vector): Matrix => d.map((v, i) => d.map((_, j) => (i === j ? v : 0)));

/**
 * The Cholesky factor L of a symmetric positive definite A: A = L·Lᵀ, L lower triangular with a
 * positive diagonal (the Cholesky–Banachiewicz order, row by row).
 *
 * @throws Error when A is not square or not positive definite (naming the failing pivot).
 * @example cholesky([[4, 2], [2, 3]]) // [[2, 0], [1, √2]]
 */
export function cholesky(a: Matrix): Matrix {
  const n = a.length;
  if (a.some((row) => row.length !== n)) throw new Error(`linalg.cholesky: matrix must be square, got ${n} rows of ${a[0]?.length}`);
  const l = zerosMatrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`linalg.cholesky: matrix is not positive definite (pivot ${i} is ${s})`);
        l[i]![i] = Math.sqrt(s);
      } else {
        l[i]![j] = s / l[j]![j]!;
      }
    }
  }
  return l;
}

/** Solves L·y = b for lower-triangular L (forward substitution). */
export function solveLower(l: Matrix, b: Vector): Vector {
  const y = new Array<number>(b.length);
  for (let i = 0; i < b.length; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * y[k]!;
    y[i] = s / l[i]![i]!;
  }
  return y;
}

/** Solves Lᵀ·x = y for lower-triangular L (back substitution). */
export function solveUpperT(l: Matrix, y: Vector): Vector {
  const n = y.length;
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** Solves A·x = b for symmetric positive definite A, given its Cholesky factor L. */
export const choleskySolve = (l: Matrix, b: Vector): Vector => solveUpperT(l, solveLower(l, b));

/** Solves A·x = b for symmetric positive definite A. */
export const solve = (a: Matrix, b: Vector): Vector => choleskySolve(cholesky(a), b);

/** A⁻¹ for symmetric positive definite A (column by column from its Cholesky factor). */
export function inverse(a: Matrix): Matrix {
  const l = cholesky(a);
  const columns = identity(a.length).map((e) => choleskySolve(l, e));
  return transpose(columns);
}

/** ln det A from A's Cholesky factor L: 2 Σᵢ ln Lᵢᵢ. */
export const logdetFromCholesky = (l: Matrix): number => 2 * l.reduce((s, row, i) => s + Math.log(row[i]!), 0);

/** ln det A for symmetric positive definite A. */
export const logdet = (a: Matrix): number => logdetFromCholesky(cholesky(a));

/**
 * The eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: A = V·diag(λ)·Vᵀ,
 * eigenvalues in descending order, `vectors[k]` the unit eigenvector of `values[k]`.
 * Converges quadratically; accurate to a few ulps of ‖A‖ for the sizes used here.
 */
export function symmetricEigen(a: Matrix, options: { maxSweeps?: number } = {}): { values: Vector; vectors: Matrix } {
  const n = a.length;
  const m = a.map((row) => [...row]);
  const v = identity(n);
  const offNorm = (): number => m.reduce((s, row, i) => s + row.reduce((t, x, j) => t + (i === j ? 0 : x * x), 0), 0);
  const scale = m.reduce((s, row) => s + row.reduce((t, x) => t + x * x, 0), 0);
  for (let sweep = 0; sweep < (options.maxSweeps ?? 100) && offNorm() > 1e-30 * scale; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p]![q]!;
        if (apq === 0) continue;
        // The rotation angle that zeroes m[p][q]: t = tan θ solves t² + 2τt − 1 = 0 (smaller root).
        const tau = (m[q]![q]! - m[p]![p]!) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = m.map((row, i) => [row[i]!, i] as const).sort((x, y) => y[0] - x[0]);
  return { values: order.map(([value]) => value), vectors: order.map(([, i]) => v.map((row) => row[i]!)) };
}

/** ln N(x; mean, cov) = −½[D ln 2π + ln det cov + (x − mean)ᵀ cov⁻¹ (x − mean)]. */
export function logNormalDensity(x: Vector, mean: Vector, cov: Matrix): number {
  const l = cholesky(cov);
  const r = solveLower(l, subVectors(x, mean));
  return -0.5 * (x.length * LOG_2PI + logdetFromCholesky(l) + dot(r, r));
}

/** ln Σᵢ exp(vᵢ), stably (−∞ for an empty list or all −∞). */
export function logSumExpArray(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]!);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i]! - m);
  return m + Math.log(s);
}
