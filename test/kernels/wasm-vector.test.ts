import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type AdamStep, BINARY_OPS, type BinaryOp, type UnaryOp } from '../../src/kernels/backend.js';
import { broadcastStrides } from '../../src/autograd/primitives.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { setBackend } from '../../src/kernels/index.js';
import { createWasmBackend, initWasmBackend } from '../../src/kernels/wasm/index.js';
import { WasmMatmul } from '../../src/kernels/wasm/matmul.js';
import { PARALLEL_SUM_MIN } from '../../src/kernels/wasm/vector.js';
import { SCALAR_OPS, SIMD_OPS, vectorWat } from '../../src/kernels/wasm/vector.wat.js';
import { assembleWat } from '../../src/kernels/wasm/wat.js';
import { Linear } from '../../src/nn/linear.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectSameFloats, fcOptions } from '../helpers.js';

/**
 * The wasm backend's SIMD loops besides the matmul (`vector.wat.ts`): the linear layer's bias,
 * the sum over rows (bias gradients), and Adam's update in float32 arithmetic. The logistic and
 * ReLU loops are checked for bit equality with the reference in wasm-elementwise.test.ts.
 */
const backend = createWasmBackend({ threads: 1 });
afterAll(async () => {
  setBackend('cpu');
  await backend.dispose();
});

const U = 2 ** -24;
const floats = (n: number, scale = 1, seed = 1): Float32Array => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1) * scale);
};

describe('wasm vector loops', () => {
  it('assemble to valid modules, shared and unshared', () => {
    for (const shared of [false, true]) expect(WebAssembly.validate(assembleWat(vectorWat({ shared })))).toBe(true);
  });

  it('linear: x·Wᵀ + b with b added in wasm memory equals the reference within the matmul bound, odd sizes and k = 0 included', () => {
    for (const [m, k, n] of [
      [1, 1, 1],
      [5, 3, 7],
      [13, 0, 9],
      [128, 20, 400],
      [37, 29, 21],
      [128, 400, 20],
      [16, 7, 12],
    ] as const) {
      // the last two computed transposed
      const x = floats(m * k, 1, 1);
      const w = floats(n * k, 1, 2);
      const b = floats(n, 1, 3);
      const out = new Float32Array(m * n).fill(NaN);
      const ref = new Float64Array(m * n);
      backend.linear!(x, w, b, out, m, k, n);
      cpuBackend.linear(Float64Array.from(x), Float64Array.from(w), Float64Array.from(b), ref, m, k, n);
      // k products and k additions, then the bias: (k + 1)·u relative to Σ|x||w| + |b| (Higham §3.1).
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let mass = Math.abs(b[j]!);
          for (let p = 0; p < k; p++) mass += Math.abs(x[i * k + p]! * w[j * k + p]!);
          expect(Math.abs(out[i * n + j]! - ref[i * n + j]!)).toBeLessThanOrEqual(2 * (k + 1) * U * mass + 1e-30);
        }
      }
    }
  });

  it('colSum: the sum over leading axes equals the reference bit for bit (float64 sums in the same order), any width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 4, max: 37 }), fc.integer(), (rows, n, seed) => {
        const x = floats(rows * n, 1000, seed);
        if (rows * n < 64) return;
        x[seed % x.length] = seed % 3 === 0 ? NaN : seed % 3 === 1 ? Infinity : 3e38;
        const out = new Float32Array(n);
        const ref = new Float32Array(n);
        backend.reduce('sum', x, [rows, n], [0], out);
        cpuBackend.reduce('sum', x, [rows, n], [0], ref);
        out.forEach((v, j) => expect(Object.is(v, ref[j])).toBe(true));
      }),
      fcOptions(),
    );
  });

  it('rowSum: the sum over trailing axes equals the reference bit for bit (float64 sums in the same order), any row count and length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 41 }), fc.integer({ min: 1, max: 37 }), fc.integer(), (lead, rows, n, seed) => {
        const x = floats(lead * rows * n, 1000, seed);
        if (x.length < 64) return;
        x[seed % x.length] = seed % 3 === 0 ? NaN : seed % 3 === 1 ? -Infinity : 3e38;
        // Reduce the last axis of [lead·rows, n], and the last two of [lead, rows, n].
        for (const [shape, axes] of [
          [[lead * rows, n], [1]],
          [
            [lead, rows, n],
            [1, 2],
          ],
        ] as const) {
          const size = axes.length === 1 ? lead * rows : lead;
          const out = new Float32Array(size);
          const ref = new Float32Array(size);
          backend.reduce('sum', x, shape, axes, out);
          cpuBackend.reduce('sum', x, shape, axes, ref);
          out.forEach((v, o) => expect(Object.is(v, ref[o]), `${shape} sum over ${axes}, out[${o}]`).toBe(true));
        }
      }),
      fcOptions(),
    );
  });

  it('on 2 threads, row sums, column sums and bias adds of PARALLEL_SUM_MIN floats or more are shared with the pool, with the bits of 1 thread', async () => {
    const threaded = createWasmBackend({ threads: 2 });
    await threaded.ready();
    try {
      // the pool's task split of each loop runs (whichever thread takes each task)
      const shared = vi.spyOn(WasmMatmul.prototype, 'shareLoop');
      const sharedOps = (): string[] => shared.mock.calls.map(([op]) => op);
      // odd widths and row counts (partial last chunks: rows mod 8 for the row sums, columns mod 4);
      // a training step's [128, 784] stays on the calling thread
      for (const [rows, n] of [
        [128, 784],
        [601, 449],
        [32771, 9],
      ] as const) {
        const x = floats(rows * n, 1000, rows + n);
        x[(rows * n) >> 1] = Infinity;
        for (const axes of [[0], [1]] as const) {
          const size = axes[0] === 0 ? n : rows;
          const [out, ref] = [new Float32Array(size), new Float32Array(size)];
          shared.mockClear();
          threaded.reduce('sum', x, [rows, n], axes, out);
          expect(sharedOps()).toEqual(rows * n < PARALLEL_SUM_MIN ? [] : [axes[0] === 0 ? 'colSum' : 'rowSum']);
          cpuBackend.reduce('sum', x, [rows, n], axes, ref);
          expectSameFloats(out, ref, `[${rows}, ${n}] sum over ${axes}`);
        }
      }
      for (const [m, k, n] of [
        [128, 30, 101],
        [2600, 20, 101],
        [7001, 20, 37],
      ] as const) {
        const [x, w, b] = [floats(m * k, 1, 31), floats(n * k, 1, 32), floats(n, 1, 33)];
        const [onTwo, onOne] = [new Float32Array(m * n), new Float32Array(m * n)];
        shared.mockClear();
        threaded.linear!(x, w, b, onTwo, m, k, n);
        expect(sharedOps()).toEqual(m === 128 ? [] : ['addRows']);
        backend.linear!(x, w, b, onOne, m, k, n);
        expectSameFloats(onTwo, onOne, `${m}x${k}x${n}`);
      }
      shared.mockRestore();
    } finally {
      void threaded.dispose();
    }
  });

  it('adam: the float32 SIMD update tracks the float64 reference loop to float32 rounding, moments resident in wasm memory', () => {
    const n = 1003; // not a multiple of 4: the padded tail must not leak
    // θ and the gradient of one sign, so that g = ∇ + λθ never cancels (cancellation would make
    // any rounding of θ a large relative error of g, in both loops alike).
    const theta = floats(n, 1, 4).map(Math.abs);
    const grad = floats(n, 1e-2, 5).map(Math.abs);
    const m = backend.memory.keep(new Float32Array(n)) as Float32Array;
    const v = backend.memory.keep(new Float32Array(n)) as Float32Array;
    expect(backend.memory.keep(m)).toBe(m); // already resident: kept as it is
    const theta64 = Float64Array.from(theta);
    const m64 = new Float64Array(n);
    const v64 = new Float64Array(n);
    for (let t = 1; t <= 5; t++) {
      const step: AdamStep = {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        stepSize: 1e-3 / (1 - 0.9 ** t),
        sqrtBc2: Math.sqrt(1 - 0.999 ** t),
        decay: 1 - 1e-5,
        l2: 0.01,
      };
      backend.fused.adam!(theta, grad, m, v, step);
      cpuBackend.fused.adam(theta64, Float64Array.from(grad), m64, v64, step);
    }
    // Each step rounds m and v about four times in float32 (u each, as the float64 loop rounds
    // them once when stored), and carries the earlier error scaled by β < 1: after T = 5 steps
    // at most 4T·u relative. θ moves by at most T·lr = 5e-3, each update costing a few more u.
    for (let i = 0; i < n; i++) {
      expect(Math.abs(m[i]! - m64[i]!)).toBeLessThanOrEqual(20 * U * Math.abs(m64[i]!) + 1e-30);
      expect(Math.abs(v[i]! - v64[i]!)).toBeLessThanOrEqual(20 * U * Math.abs(v64[i]!) + 1e-30);
      expect(Math.abs(theta[i]! - theta64[i]!)).toBeLessThanOrEqual(8 * U * Math.abs(theta64[i]!) + 40 * U * 5e-3);
    }
  });

  it('long loops shared with the thread pool (every SIMD loop, the scalar-operand ones, and Adam) give the same numbers as one thread, chunk by chunk', async () => {
    const threaded = createWasmBackend({ threads: 3 });
    await threaded.ready();
    try {
      const n = 50001;
      const x = floats(n, 20, 11);
      const y = floats(n, 1, 12).map(Math.abs);
      for (const op of SIMD_OPS) {
        const out = new Float32Array(n);
        const ref = new Float32Array(n);
        if ((BINARY_OPS as readonly string[]).includes(op)) {
          threaded.binary(op as BinaryOp, x, [1], y, [1], [n], out);
          cpuBackend.binary(op as BinaryOp, x, [1], y, [1], [n], ref);
        } else {
          threaded.unary(op as UnaryOp, x, out, 0, 0);
          cpuBackend.unary(op as UnaryOp, x, ref, 0, 0);
        }
        expectSameFloats(out, ref, op);
      }
      // The scalar-operand loops (every chunk reads the one float), and a scalar first operand.
      const s = Float32Array.of(-1.75);
      for (const op of Object.keys(SCALAR_OPS) as BinaryOp[]) {
        for (const [a, aStrides, b, bStrides] of [
          [x, [1], s, [0]],
          [s, [0], x, [1]],
        ] as const) {
          const out = new Float32Array(n);
          const ref = new Float32Array(n);
          threaded.binary(op, a, aStrides, b, bStrides, [n], out);
          cpuBackend.binary(op, a, aStrides, b, bStrides, [n], ref);
          expectSameFloats(out, ref, op);
        }
      }
      const step: AdamStep = { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-3, sqrtBc2: 0.03, decay: 1, l2: 0 };
      const [one, many] = [backend, threaded].map((b) => {
        const theta = floats(n, 1, 13);
        const m = b.memory.keep(new Float32Array(n)) as Float32Array;
        const v = b.memory.keep(new Float32Array(n)) as Float32Array;
        for (let t = 0; t < 3; t++) b.fused.adam!(theta, floats(n, 0.1, 14 + t), m, v, step);
        return [theta, m, v];
      });
      one!.forEach((a, k) => expect(Array.from(many![k]!)).toEqual(Array.from(a)));
    } finally {
      await threaded.dispose();
    }
  });

  it('Adam on the wasm backend keeps its moments resident, survives a state load, and matches the cpu run', () => {
    const run = (name: 'cpu' | 'wasm'): { params: Float32Array[]; opt: Adam } => {
      const params = [new Tensor(floats(700, 1, 7), [700], { requiresGrad: true }), new Tensor(floats(3, 1, 8), [3], { requiresGrad: true })];
      const opt = new Adam(params, { lr: 1e-2 });
      if (name === 'wasm') initWasmBackend();
      setBackend(name);
      for (let t = 0; t < 4; t++) {
        params.forEach((p, i) => (p.grad = new Tensor(floats(p.numel(), 0.1, 10 + t + i), p.shape)));
        opt.step();
        if (t === 1) opt.loadStateDict(opt.stateDict()); // plain copies come back: moved into wasm memory again
      }
      setBackend('cpu');
      return { params: params.map((p) => p.data as Float32Array), opt };
    };
    const cpu = run('cpu');
    const wasm = run('wasm');
    wasm.params.forEach((p, k) => p.forEach((v, i) => expect(Math.abs(v - cpu.params[k]![i]!)).toBeLessThanOrEqual(8 * U * (Math.abs(v) + 4e-2))));
    const state = wasm.opt.stateDict().state['0']!;
    expect(state.step).toBe(4);
    expect((state.expAvg as Tensor).shape).toEqual([700]);
  });

  it('allFinite: finds one NaN or ±∞ at any index (SIMD body and scalar tail; chunks shared with a worker when long), in resident memory and out of it', async () => {
    const threaded = createWasmBackend({ threads: 2 });
    await threaded.ready();
    try {
      for (const n of [1, 3, 4, 7, 64, 1001, 50003]) {
        const clean = floats(n, 3e38, n);
        const resident = threaded.memory.keep(clean) as Float32Array;
        expect(resident).not.toBe(clean); // copied into wasm memory (shared, so kept)
        expect(threaded.fused.allFinite!(resident)).toBe(true);
        expect(threaded.fused.allFinite!(clean)).toBe(true);
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const i of new Set([0, n >> 1, n - 5, n - 1].filter((i) => i >= 0))) {
            for (const x of [resident, clean]) {
              const keep = x[i]!;
              x[i] = bad;
              expect(threaded.fused.allFinite!(x), `n=${n} i=${i} ${bad}`).toBe(false);
              expect(cpuBackend.fused.allFinite(x)).toBe(false);
              x[i] = keep;
            }
          }
        }
      }
    } finally {
      void threaded.dispose();
    }
  });

  it('a product reads resident operands in place, writes a resident result in place, and gives the same bits as with copies', () => {
    const threaded = createWasmBackend({ threads: 2, minParallelFlops: 0 });
    try {
      for (const [m, k, n, transA, transB] of [
        [128, 784, 400, false, true],
        [400, 128, 784, true, false],
        [37, 29, 21, true, false],
        [5, 3, 7, false, false],
      ] as const) {
        const a = floats(m * k, 1, 21);
        const b = floats(k * n, 1, 22);
        const dims = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
        const copied = new Float32Array(m * n);
        const inPlace = new Float32Array(m * n);
        const half = new Float32Array(m * n);
        threaded.matmul(a, b, copied, dims);
        threaded.matmul(threaded.memory.keep(a), threaded.memory.keep(b), inPlace, dims);
        threaded.matmul(a, threaded.memory.keep(b), half, dims);
        const residentOut = threaded.memory.keep(new Float32Array(m * n).fill(NaN)) as Float32Array; // written where it is when unpadded
        threaded.matmul(threaded.memory.keep(a), b, residentOut, dims);
        expect(Array.from(inPlace)).toEqual(Array.from(copied));
        expect(Array.from(half)).toEqual(Array.from(copied));
        expect(Array.from(residentOut)).toEqual(Array.from(copied));
      }
    } finally {
      void threaded.dispose();
    }
  });

  it("a module's parameters move into wasm memory when registered on the wasm backend, values unchanged; set_ checks sizes", () => {
    initWasmBackend();
    const onCpu = new Linear(30, 7, { rng: new Generator(3) });
    setBackend('wasm');
    const onWasm = new Linear(30, 7, { rng: new Generator(3) });
    setBackend('cpu');
    const wasm = initWasmBackend();
    for (const name of ['weight', 'bias'] as const) {
      expect(Array.from(onWasm[name]!.data)).toEqual(Array.from(onCpu[name]!.data));
      expect(wasm.memory.keep(onWasm[name]!.data)).toBe(onWasm[name]!.data); // already resident
      expect(cpuBackend.memory.keep(onCpu[name]!.data)).toBe(onCpu[name]!.data);
    }
    expect(() => onWasm.weight.set_(new Float32Array(3))).toThrow('set_: new storage (float32, 3 elements) does not match this tensor (float32, 210 elements)');
    expect(() => onWasm.weight.set_(new Float64Array(210))).toThrow(
      'set_: new storage (float64, 210 elements) does not match this tensor (float32, 210 elements)',
    );
  });

  it('a binary op whose second operand repeats along leading axes (IWAE: [k, batch, 784] against [batch, 784]) gives the reference bits', () => {
    const wasm = initWasmBackend();
    // [4, 8, 784]: long enough to be shared with the thread pool, a repeat per task.
    for (const [shape, bShape] of [
      [
        [3, 5, 16],
        [5, 16],
      ],
      [
        [4, 1, 8],
        [1, 8],
      ],
      [[2, 3, 40], [40]],
      [
        [4, 8, 784],
        [8, 784],
      ],
      [
        [6, 5, 8],
        [6, 1, 8],
      ],
      [
        [3, 4, 12],
        [4, 12],
      ],
    ] as const) {
      const n = (shape as readonly number[]).reduce((p, d) => p * d, 1);
      const m = (bShape as readonly number[]).reduce((p, d) => p * d, 1);
      const a = floats(n, 12, n);
      const b = floats(m, 1, m).map((v) => (v > 0 ? 1 : 0));
      const aStrides = broadcastStrides(shape, shape);
      const bStrides = broadcastStrides(bShape, shape); // the last two cases: not a leading repeat, or not 8-aligned (the reference's loop)
      for (const op of ['bceWithLogits', 'sigmoidSub', 'mul', 'sub'] as const) {
        const out = new Float32Array(n).fill(NaN);
        const ref = new Float32Array(n);
        wasm.binary(op, a, aStrides, b, bStrides, shape, out);
        cpuBackend.binary(op, a, aStrides, b, bStrides, shape, ref);
        expect(Array.from(out), `${op} ${shape} with ${bShape}`).toEqual(Array.from(ref));
      }
    }
  });
});
