import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDiagonal,
  cholesky,
  choleskySolve,
  diag,
  dot,
  identity,
  inverse,
  logdet,
  logNormalDensity,
  logSumExpArray,
  matmul,
  matvec,
  type Matrix,
  solve,
  symmetricEigen,
  transpose,
} from '../../src/verify/linalg.js';
import { fcOptions } from '../helpers.js';

const maxAbs = (a: Matrix, b: Matrix): number => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
/** A random symmetric positive definite n × n matrix A Aᵀ + 0.1 I. */
const arbSpd = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n * n, maxLength: n * n }).map((v) => {
    const a = Array.from({ length: n }, (_, i) => v.slice(i * n, (i + 1) * n));
    return addDiagonal(matmul(a, transpose(a)), 0.1);
  }),
);

describe('dense float64 linear algebra', () => {
  it('cholesky of a known matrix: [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, √2]]', () => {
    expect(
      maxAbs(
        cholesky([
          [4, 2],
          [2, 3],
        ]),
        [
          [2, 0],
          [1, Math.SQRT2],
        ],
      ),
    ).toBeLessThan(1e-15);
  });

  it('cholesky rebuilds A = L Lᵀ, L lower triangular with a positive diagonal', () => {
    fc.assert(
      fc.property(arbSpd, (a) => {
        const l = cholesky(a);
        l.forEach((row, i) => row.forEach((v, j) => (j > i ? expect(v).toBe(0) : undefined)));
        l.forEach((row, i) => expect(row[i]!).toBeGreaterThan(0));
        expect(maxAbs(matmul(l, transpose(l)), a)).toBeLessThan(1e-12 * Math.max(1, ...a.map((r) => Math.abs(r[0]!))) + 1e-12);
      }),
      fcOptions(),
    );
  });

  it('cholesky rejects a matrix that is not positive definite, naming the pivot', () => {
    expect(() =>
      cholesky([
        [1, 2],
        [2, 1],
      ]),
    ).toThrow(/not positive definite \(pivot 1/);
    expect(() => cholesky([[1, 2]])).toThrow(/square/);
  });

  it('solve gives A x = b, and inverse gives A A⁻¹ = I', () => {
    fc.assert(
      fc.property(arbSpd, (a) => {
        const b = a.map((_, i) => i - 1.5);
        const x = solve(a, b);
        matvec(a, x).forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 8));
        expect(maxAbs(matmul(a, inverse(a)), identity(a.length))).toBeLessThan(1e-8);
        expect(choleskySolve(cholesky(a), b)).toEqual(x);
      }),
      fcOptions(),
    );
  });

  it('logdet = Σ ln λ over the eigenvalues, and = ln Π dᵢ for a diagonal matrix', () => {
    expect(logdet(diag([2, 3, 0.5]))).toBeCloseTo(Math.log(3), 14);
    fc.assert(
      fc.property(arbSpd, (a) => {
        const { values } = symmetricEigen(a);
        expect(logdet(a)).toBeCloseTo(
          values.reduce((s, v) => s + Math.log(v), 0),
          9,
        );
      }),
      fcOptions(),
    );
  });

  it('symmetricEigen: A = V diag(λ) Vᵀ, V orthonormal, λ descending', () => {
    fc.assert(
      fc.property(arbSpd, (a) => {
        const { values, vectors } = symmetricEigen(a);
        const v = transpose(vectors); // columns are eigenvectors
        expect(maxAbs(matmul(matmul(v, diag(values)), vectors), a)).toBeLessThan(1e-10);
        expect(maxAbs(matmul(vectors, v), identity(a.length))).toBeLessThan(1e-12);
        for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
      }),
      fcOptions(),
    );
  });

  it('logNormalDensity matches the product of 1-D densities for a diagonal covariance', () => {
    const x = [0.3, -1.2];
    const oneD = (v: number, m: number, s2: number): number => -0.5 * (Math.log(2 * Math.PI * s2) + (v - m) ** 2 / s2);
    expect(logNormalDensity(x, [0, 1], diag([2, 0.5]))).toBeCloseTo(oneD(0.3, 0, 2) + oneD(-1.2, 1, 0.5), 14);
  });

  it('logSumExpArray is stable for large and −∞ entries', () => {
    expect(logSumExpArray([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExpArray([-Infinity, 0])).toBe(0);
    expect(logSumExpArray([])).toBe(-Infinity);
    expect(dot([1, 2], [3, 4])).toBe(11);
  });
});
