import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend, MatmulDims } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { getBackend, listBackends, setBackend } from '../../src/kernels/index.js';
import { TILE } from '../../src/kernels/wasm/gemm.wat.js';
import { createWasmBackend, initWasmBackend, wasmInfo, type WasmBackend } from '../../src/kernels/wasm/index.js';
import { matmulPrim } from '../../src/autograd/ops.js';
import { loadMnist } from '../../src/data/mnist.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectSameFloats, fcOptions, SEED } from '../helpers.js';
import { gamma, rng } from './seeded.js';
import { skippingAndDense } from './skipping-pair.js';

/**
 * The wasm matmul against the float64 cpu reference on the same float32 inputs.
 *
 * Tolerance, from float32 precision (u = 2⁻²⁴): each output is a sum of k products computed in
 * float32 (each product rounded, the k − 1 additions in any order: lanes accumulate in order of p,
 * and K blocks are summed into C), so |out − ref| ≤ γ_k·Σₚ|A[i,p]|·|B[p,j]| with
 * γ_k = k·u / (1 − k·u) (Higham, Accuracy and Stability, §3.1 and §4.2). That is
 * c·k·u·Σ|a||b| with c = 1/(1 − k·u) ≈ 1, not a fitted constant; the float64 reference adds its
 * own γ_k at u = 2⁻⁵³. A fused multiply-add (relaxed SIMD) rounds less and stays inside the bound.
 */
const U32 = 2 ** -24;
const U64 = 2 ** -53;

/** float32 values in [-1, 1], one in eight exactly 0 and one in eight of size ~10⁻³ (cancellation, sparsity). */
function values(next: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = next();
    return r < 0.125 ? 0 : r < 0.25 ? (next() - 0.5) * 2e-3 : 2 * next() - 1;
  });
}

/** Runs `backend.matmul` on `d` and returns the worst |out − ref| / tol (≤ 1 passes) with where it was. */
function check(backend: Backend, d: MatmulDims, seed: number): { worst: number; detail: string } {
  const next = rng(seed);
  const a = values(next, Math.max(1, (d.batch - 1) * d.aBatchStride + d.m * d.k));
  const b = values(next, Math.max(1, (d.batch - 1) * d.bBatchStride + d.k * d.n));
  const out = new Float32Array(d.batch * d.m * d.n).fill(NaN);
  backend.matmul(a, b, out, d);
  const ref = new Float64Array(out.length);
  cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
  const mass = new Float64Array(out.length); // Σₚ |A[i,p]|·|B[p,j]|
  cpuBackend.matmul(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), mass, d);
  const c = gamma(d.k, U32) + gamma(d.k, U64);
  let worst = 0;
  let detail = 'exact';
  for (let i = 0; i < out.length; i++) {
    const tol = c * mass[i]! * (1 + 1e-12);
    const err = Math.abs(out[i]! - ref[i]!);
    const ratio = err === 0 ? 0 : tol === 0 ? Infinity : err / tol;
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      detail = `[${i}] out ${out[i]} ref ${ref[i]} tol ${tol}`;
    }
  }
  return { worst, detail };
}

const passes = (backend: Backend, d: MatmulDims, seed: number): void => {
  const { worst, detail } = check(backend, d, seed);
  const name = `b${d.batch} ${d.m}x${d.k}x${d.n} ${d.transA ? 'T' : 'N'}${d.transB ? 'T' : 'N'} strides ${d.aBatchStride},${d.bBatchStride}`;
  expect(worst, `${name}: ${detail}`).toBeLessThanOrEqual(1);
};

/** Sizes that hit the edges: 1, small odd, around the register tile and the cache blocks. */
const { MR, NR, MC, KC } = TILE;
const edge = [1, 2, 3, MR - 1, MR + 1, NR - 1, NR + 1, 2 * NR + 3, MC - 1, MC + 1, KC + 1];
const size = fc.oneof(fc.constantFrom(...edge), fc.integer({ min: 1, max: 40 }));
const dimsArb = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    m: size,
    k: fc.oneof({ arbitrary: size, weight: 9 }, { arbitrary: fc.constant(0), weight: 1 }),
    n: size,
    transA: fc.boolean(),
    transB: fc.boolean(),
    aShared: fc.boolean(),
    bShared: fc.boolean(),
  })
  .map(({ aShared, bShared, ...d }): MatmulDims => ({ ...d, aBatchStride: aShared ? 0 : d.m * d.k, bBatchStride: bShared ? 0 : d.k * d.n }));

const variants = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe.each([
  ['one thread', { threads: 1 }],
  ['threads (every product split, 2 workers)', { threads: 3, minParallelFlops: 0 }],
  ['one thread, zeros skipped wherever the other operand is finite', { threads: 1, skipZeros: 'always' as const }],
])('wasm matmul, %s', (_, options) => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = createWasmBackend(options);
    await backend.ready();
  });
  afterAll(() => backend.dispose());

  it('matches the float64 reference within γ_k·Σ|a||b| on random shapes, transposes and batch strides (0 = repeated)', () => {
    fc.assert(
      fc.property(dimsArb, fc.nat(), (d, seed) => passes(backend, d, seed)),
      fcOptions(),
    );
  });

  it.each(variants)('crosses every cache block (m > MC, k > 2·KC, n > NC), transA=%s transB=%s', (transA, transB) => {
    passes(backend, { batch: 1, m: MC + 2, k: 2 * KC + 1, n: NR + 1, transA, transB, aBatchStride: 0, bBatchStride: 0 }, 11);
    passes(backend, { batch: 2, m: MR + 1, k: KC + 3, n: TILE.NC + 6, transA, transB, aBatchStride: 0, bBatchStride: (KC + 3) * (TILE.NC + 6) }, 12);
  });

  it.each(variants)('handles the VAE encoder sizes, [128, 784]·[400, 784], transA=%s transB=%s', (transA, transB) => {
    passes(backend, { batch: 1, m: 128, k: 784, n: 400, transA, transB, aBatchStride: 0, bBatchStride: 0 }, 5);
  });

  it.each(variants)('computes narrow results transposed (n % NR ≠ 0, n % MR = 0, m % NR = 0): the VAE latent layer, transA=%s transB=%s', (transA, transB) => {
    for (const [m, k, n] of [
      [128, 400, 20],
      [400, 128, 20],
      [2 * NR, 3, MR],
      [3 * NR, KC + 5, NR + MR],
    ] as const) {
      passes(backend, { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 }, m + n);
    }
  });

  it('k = 0 gives zeros, and an empty product writes nothing', () => {
    const out = new Float32Array(6).fill(7);
    backend.matmul(new Float32Array(0), new Float32Array(0), out, {
      batch: 2,
      m: 1,
      k: 0,
      n: 3,
      transA: false,
      transB: false,
      aBatchStride: 0,
      bBatchStride: 0,
    });
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
    backend.matmul(new Float32Array(0), new Float32Array(6), out, {
      batch: 1,
      m: 0,
      k: 2,
      n: 3,
      transA: false,
      transB: false,
      aBatchStride: 0,
      bBatchStride: 6,
    });
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('propagates NaN and ∞ like the reference: 0·NaN = NaN, ∞ − ∞ = NaN, nothing is skipped', () => {
    const d: MatmulDims = { batch: 1, m: 5, k: 6, n: 9, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
    const a = new Float32Array(5 * 6); // all zero except row 1: [∞, -∞, 0, ...]
    a[6] = Infinity;
    a[7] = -Infinity;
    const b = Float32Array.from({ length: 9 * 6 }, (_, i) => (i % 7) - 3);
    b[2 * 6 + 4] = NaN; // column 2 of Bᵀ carries a NaN: every output in column 2 is NaN
    b[5 * 6 + 0] = 1;
    b[5 * 6 + 1] = 1; // row 1 · column 5 = ∞ − ∞ = NaN
    const out = new Float32Array(5 * 9);
    const ref = new Float64Array(5 * 9);
    backend.matmul(a, b, out, d);
    cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
    expect(Array.from(out, (v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(Array.from(ref, (v) => (Number.isNaN(v) ? 'NaN' : v)));
    expect(Number.isNaN(out[0 * 9 + 2]!) && Number.isNaN(out[1 * 9 + 5]!)).toBe(true);
  });

  it('passes float64 operands to the cpu reference unchanged', () => {
    const a = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const d: MatmulDims = { batch: 1, m: 2, k: 3, n: 2, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
    const out = new Float64Array(4);
    const ref = new Float64Array(4);
    const before = backend.stats().matmuls;
    backend.matmul(a, b, out, d);
    cpuBackend.matmul(a, b, ref, d);
    expect(out).toEqual(ref);
    expect(backend.stats().matmuls).toBe(before);
  });
});

/**
 * An operand with the zero patterns the skipping meets: `pattern` 0 dense random (no zeros),
 * 1 all ones, 2 two rows of zeros after each dense row, 3 about 80% zeros scattered, 4 all
 * zeros, 5 two columns of zeros after each column with 30% zeros, 6 a digit batch (the first
 * bundled training digits, cycled).
 */
function patterned(next: () => number, rows: number, cols: number, pattern: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => {
    const [row, col] = [Math.floor(i / cols), i % cols];
    if (pattern === 1) return 1;
    if (pattern === 6) return digits[i % digits.length]!;
    if (pattern === 4 || (pattern === 2 && row % 3 !== 1) || (pattern === 5 && col % 3 !== 1)) return 0;
    if ((pattern === 3 && next() < 0.8) || (pattern === 5 && next() < 0.3)) return 0;
    return 2 * next() - 1;
  });
}
const digits = loadMnist().train.images.subarray(0, 128 * 784);

describe.each([
  ['one thread', { threads: 1 }],
  ['threads (every product split, 2 workers)', { threads: 3, minParallelFlops: 0 }],
])('wasm matmul zero skipping, %s', (_, options) => {
  const backends = skippingAndDense(options);

  const patternDims = fc.record({
    m: size,
    k: fc.oneof(size, fc.constantFrom(KC, KC + 7, 2 * KC + 1)),
    n: size,
    transA: fc.boolean(),
    transB: fc.boolean(),
    patternA: fc.integer({ min: 0, max: 6 }),
    patternB: fc.integer({ min: 0, max: 6 }),
  });

  it('gives the bits of the product without skipping (a skipped term adds an exact 0), for every zero pattern of A and B', () => {
    fc.assert(
      fc.property(patternDims, fc.nat(), ({ m, k, n, transA, transB, patternA, patternB }, seed) => {
        const next = rng(seed);
        const a = patterned(next, transA ? k : m, transA ? m : k, patternA);
        const b = patterned(next, transB ? n : k, transB ? k : n, patternB);
        const d: MatmulDims = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
        const out = new Float32Array(m * n).fill(NaN);
        const want = new Float32Array(m * n).fill(NaN);
        backends.skipping.matmul(a, b, out, d);
        backends.dense.matmul(a, b, want, d);
        for (let i = 0; i < out.length; i++) if (out[i] !== want[i]) expect(`[${i}] ${out[i]}`).toBe(`[${i}] ${want[i]}`);
        const ref = new Float64Array(m * n);
        cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
        for (let i = 0; i < out.length; i++) expect(Math.abs(out[i]! - ref[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(ref[i]!)) * Math.sqrt(k));
      }),
      fcOptions(),
    );
  });

  it.each([
    ['a digit batch times a weight (x·Wᵀ, A skipped)', 128, 784, 400, false, true, 6, 0],
    ['a weight gradient from a digit batch (gᵀ·x, B skipped)', 96, 128, 784, true, false, 0, 6],
    ['all-zero rows between dense ones (B skipped)', 40, 300, 64, false, false, 0, 2],
    ['all-zero columns between dense ones (A skipped)', 64, 300, 40, false, false, 5, 0],
    ['an all-zero operand', 64, 300, 40, false, false, 4, 0],
    ['an all-ones operand beside a sparse one', 64, 300, 40, false, false, 1, 3],
  ] as const)('matches the float64 reference on %s', (_name, m, k, n, transA, transB, patternA, patternB) => {
    const next = rng(m + k + n);
    const a = patterned(next, transA ? k : m, transA ? m : k, patternA);
    const b = patterned(next, transB ? n : k, transB ? k : n, patternB);
    const d: MatmulDims = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
    const out = new Float32Array(m * n).fill(NaN);
    const before = backends.skipping.stats().zeroSkipping;
    backends.skipping.matmul(a, b, out, d);
    expect(backends.skipping.stats().zeroSkipping).toBe(before + 1);
    const ref = new Float64Array(m * n);
    const mass = new Float64Array(m * n);
    cpuBackend.matmul(Float64Array.from(a), Float64Array.from(b), ref, d);
    cpuBackend.matmul(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), mass, d);
    const tol = gamma(k, U32) + gamma(k, U64);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i]! - ref[i]!)).toBeLessThanOrEqual(tol * mass[i]! * (1 + 1e-12));
  });

  it('gives the NaN of 0·∞ when the other operand holds ∞, and does not skip on dense input by default', async () => {
    const d: MatmulDims = { batch: 1, m: 128, k: 784, n: 400, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
    const next = rng(3);
    const a = patterned(next, 128, 784, 6);
    const b = patterned(next, 400, 784, 0);
    b[17 * 784 + 5] = Infinity;
    a.fill(0, 0, 784); // row 0 is all zero: 0·∞ = NaN in column 17
    const out = new Float32Array(128 * 400);
    const want = new Float32Array(128 * 400);
    backends.skipping.matmul(a, b, out, d);
    backends.dense.matmul(a, b, want, d);
    expect(Number.isNaN(out[17]!)).toBe(true);
    expectSameFloats(out, want);
    const auto = createWasmBackend({ ...options });
    await auto.ready();
    auto.matmul(patterned(next, 128, 784, 0), patterned(next, 400, 784, 0), out, d);
    expect(auto.stats().zeroSkipping).toBe(0);
    auto.matmul(patterned(next, 128, 784, 6), patterned(next, 400, 784, 0), out, d);
    expect(auto.stats().zeroSkipping).toBe(1);
    await auto.dispose();
  });
});

describe('wasm thread pool', () => {
  it('splits a large product across the workers, and keeps small ones on the calling thread', async () => {
    const backend = createWasmBackend({ threads: 2, minParallelFlops: 1e6 });
    await backend.ready();
    expect(backend.info.threads).toBe(2);
    passes(backend, { batch: 1, m: 8, k: 8, n: 8, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 }, 1);
    expect(backend.stats()).toEqual({ matmuls: 1, threaded: 0, workerTasks: 0, zeroSkipping: 0, zeroRowsLeftOut: 0 });
    // The worker claims a task unless the calling thread finished all first; a few tries make that certain.
    for (let i = 0; i < 20 && backend.stats().workerTasks === 0; i++) {
      passes(backend, { batch: 1, m: 256, k: 300, n: 520, transA: i % 2 === 0, transB: true, aBatchStride: 0, bBatchStride: 0 }, i);
    }
    expect(backend.stats().threaded).toBeGreaterThan(0);
    expect(backend.stats().workerTasks).toBeGreaterThan(0);
    await backend.dispose();
  });

  it('falls back to one thread without SharedArrayBuffer', () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const backend = createWasmBackend({ threads: 4, minParallelFlops: 0 });
      expect(backend.info.threads).toBe(1);
      passes(backend, { batch: 2, m: 33, k: 17, n: 9, transA: true, transB: false, aBatchStride: 33 * 17, bBatchStride: 0 }, 3);
      expect(backend.stats().threaded).toBe(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('does not keep a process alive: a script that used the threaded backend exits by itself', () => {
    const fixture = fileURLToPath(new URL('./wasm-exit.fixture.ts', import.meta.url));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', fixture], { timeout: 30_000, encoding: 'utf8' });
    const report = JSON.parse(stdout) as { threads: number; threaded: number; out: number };
    expect(report.threads).toBe(2);
    expect(report.threaded).toBe(1);
    expect(report.out).toBe(64);
  });
});

describe('wasm backend registration', () => {
  it("registers as 'wasm', reports threads and SIMD, and runs tensor matmuls when active", () => {
    const backend = initWasmBackend({ threads: 2 });
    expect(initWasmBackend()).toBe(backend);
    expect(listBackends()).toContain('wasm');
    const info = wasmInfo();
    expect(info).toEqual(backend.info);
    expect(info.simd).toBe(true);
    expect(typeof info.relaxedSimd).toBe('boolean');
    const next = rng(SEED);
    const a = new Tensor(values(next, 5 * 7), [5, 7]);
    const b = new Tensor(values(next, 3 * 7), [3, 7]);
    try {
      expect(setBackend('wasm')).toBe(backend);
      const viaWasm = matmulPrim(a, b, false, true);
      setBackend('cpu');
      const viaCpu = matmulPrim(a, b, false, true);
      expect(viaWasm.shape).toEqual([5, 3]);
      Array.from(viaWasm.data).forEach((v, i) => expect(Math.abs(v - viaCpu.data[i]!)).toBeLessThanOrEqual(gamma(7, U32) * 7 * 2));
      expect(backend.stats().matmuls).toBe(1);
    } finally {
      setBackend('cpu');
    }
    expect(getBackend()).toBe(cpuBackend);
  });
});
