import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BINARY_OPS, UNARY_OPS } from '../../src/kernels/backend.js';
import { createGpujsBackend } from '../../src/kernels/gpujs.js';
import { SEED } from '../helpers.js';
import { type Check, checkBinary, checkMatmul, checkReduce, checkUnary } from './gpujs-checks.js';

/**
 * The gpu.js backend in Node (gpu.js runs its webasm engine here, or cpu), against the float64
 * cpu reference with the float32 tolerances stated in gpujs-checks.ts. Shapes are drawn to hit
 * the edges: sizes 1, odd sizes, k above gpu.js's default loop cap (1000), batch strides 0.
 * Every distinct shape compiles a kernel, so the run counts are kept small.
 */
const backend = createGpujsBackend();
afterAll(() => backend.destroy());

const params = (runs: number): fc.Parameters<unknown> => ({ numRuns: runs, seed: SEED });
function passes(check: Check): void {
  expect(check.worst, `${check.name}: ${check.detail}`).toBeLessThanOrEqual(1);
}
/** Sizes 1, small odd, or past gpu.js's default 1000-iteration loop cap. */
const size = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 1, max: 9 }).map((n) => 2 * n + 1),
  fc.integer({ min: 1001, max: 1500 }),
);

describe('gpujs backend in Node', () => {
  it('runs on the engine gpu.js picks in Node (webasm, or cpu where WebAssembly is missing) and reports it', () => {
    checkMatmul(backend, { batch: 1, m: 2, k: 3, n: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 }, 1);
    const info = backend.info();
    expect(['webasm', 'cpu']).toContain(info.mode);
    expect(info.modesSeen).toEqual([info.mode]);
    expect(info.requested).toBe('gpu');
  });

  it('matmul matches the reference for every transpose, batch stride 0 (repeat) and k past the loop cap', () => {
    const dims = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 9 }),
      k: size,
      n: fc.integer({ min: 1, max: 9 }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      aShared: fc.boolean(),
      bShared: fc.boolean(),
    });
    fc.assert(
      fc.property(dims, fc.nat(), ({ aShared, bShared, ...d }, seed) => {
        passes(checkMatmul(backend, { ...d, aBatchStride: aShared ? 0 : d.m * d.k, bBatchStride: bShared ? 0 : d.k * d.n }, seed));
      }),
      params(30),
    );
    expect(backend.info().fallbacks).toBe(0);
  });

  it('matmul handles the VAE encoder layer, [128, 784]·[400, 784]ᵀ', () => {
    passes(checkMatmul(backend, { batch: 1, m: 128, k: 784, n: 400, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 }, 2));
  });

  it.each(UNARY_OPS.filter((op) => op !== 'pow'))('unary %s matches the reference within C_UNARY·u·(|f| + |x·f′|)', (op) => {
    const p = op === 'clamp' ? -1 : op === 'elu' ? 1.5 : 0.1;
    fc.assert(
      fc.property(size, fc.nat(), (n, seed) => passes(checkUnary(backend, op, n, seed, p, 2))),
      params(4),
    );
  });

  it.each([0, 0.5, 2, 3, -1, -2, 1.7, -0.3, 5, 9, 10])('pow with exponent %s matches the reference', (p) => {
    passes(checkUnary(backend, 'pow', 301, 7, p));
  });

  it.each(BINARY_OPS)('binary %s matches the reference, same shape or with a scalar side', (op) => {
    fc.assert(
      fc.property(size, fc.constantFrom([false, false], [true, false], [false, true]), fc.nat(), (n, [aScalar, bScalar], seed) => {
        passes(checkBinary(backend, op, n, aScalar, bScalar, seed));
      }),
      params(4),
    );
  });

  it('broadcast binaries are delegated to the cpu reference and stay exact', () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i + 1);
    const b = Float32Array.from([10, 20, 30]);
    const out = new Float32Array(6);
    backend.binary('add', a, [3, 1], b, [0, 1], [2, 3], out);
    expect(Array.from(out)).toEqual([11, 22, 33, 14, 25, 36]);
  });

  it('sum and max reduce any contiguous block of axes (others delegate) within C_REDUCE·r·u·Σ|x|', () => {
    const arb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.subarray(
          shape.map((_, i) => i),
          { minLength: 1 },
        ),
        fc.constantFrom('sum' as const, 'max' as const),
        fc.nat(),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, axes, op, seed]) => passes(checkReduce(backend, op, shape, axes, seed))),
      params(25),
    );
    passes(checkReduce(backend, 'sum', [2, 1203, 3], [1], 3)); // r past the loop cap
    passes(checkReduce(backend, 'max', [3, 1100], [1], 4));
  });

  it('max propagates NaN like the reference', () => {
    const out = new Float32Array(2);
    backend.reduce('max', Float32Array.from([1, NaN, 3, 4, 5, 6]), [2, 3], [1], out);
    expect(Array.from(out)).toEqual([NaN, 6]);
  });

  it("writes each result into the caller's array: a later call with the same kernel leaves earlier outputs alone", () => {
    const first = new Float32Array(5);
    const second = new Float32Array(5);
    backend.unary('exp', Float32Array.from([0, 0, 0, 0, 0]), first, 0, 0);
    backend.unary('exp', Float32Array.from([1, 1, 1, 1, 1]), second, 0, 0);
    expect(Array.from(first)).toEqual([1, 1, 1, 1, 1]);
    expect(second[0]).toBeCloseTo(Math.E, 6);
  });

  it("reads typed-array views that start past their buffer's beginning", () => {
    const buffer = Float32Array.from([9, 9, 1, 2, 3, 4]);
    const out = new Float32Array(4);
    backend.unary('neg', buffer.subarray(2), out, 0, 0);
    expect(Array.from(out)).toEqual([-1, -2, -3, -4]);
  });

  it('keeps at most maxKernels compiled kernels, destroying the oldest', () => {
    const small = createGpujsBackend({ maxKernels: 2 });
    for (const n of [3, 5, 7]) small.unary('abs', new Float32Array(n), new Float32Array(n), 0, 0);
    expect(small.info().kernels).toBe(2);
    small.destroy();
    expect(small.info().kernels).toBe(0);
  });

  it('runs only the kernel families named in `ops` on gpu.js', () => {
    const matmulOnly = createGpujsBackend({ ops: ['matmul'] });
    passes(checkUnary(matmulOnly, 'tanh', 33, 1));
    passes(checkReduce(matmulOnly, 'sum', [4, 5], [1], 2));
    expect(matmulOnly.info().kernels).toBe(0);
    passes(checkMatmul(matmulOnly, { batch: 1, m: 3, k: 4, n: 5, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 }, 3));
    expect(matmulOnly.info().kernels).toBe(1);
    matmulOnly.destroy();
  });

  it('throws, naming the mode, when asked for an engine this platform lacks', () => {
    const webgl = createGpujsBackend({ mode: 'webgl2' });
    expect(() => webgl.unary('neg', new Float32Array(2), new Float32Array(2), 0, 0)).toThrow(/webgl2/);
  });

  it("runs in gpu.js's cpu mode too", () => {
    const cpuMode = createGpujsBackend({ mode: 'cpu' });
    passes(checkMatmul(cpuMode, { batch: 2, m: 3, k: 1100, n: 4, transA: true, transB: false, aBatchStride: 0, bBatchStride: 4400 }, 5));
    passes(checkUnary(cpuMode, 'softplus', 101, 6));
    expect(cpuMode.info().mode).toBe('cpu');
    cpuMode.destroy();
  });

  it('does not keep the Node process alive', () => {
    const fixture = fileURLToPath(new URL('./gpujs-exit.fixture.ts', import.meta.url));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', fixture], { timeout: 20_000, encoding: 'utf8' });
    const { mode, out } = JSON.parse(stdout) as { mode: string; out: number[] };
    expect(['webasm', 'cpu']).toContain(mode);
    expect(out[2]).toBe(43);
  });
});
