import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conv2dDims } from '../../src/kernels/backend.js';
import { cpuBackend } from '../../src/kernels/cpu.js';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.js';
import { fcOptions } from '../helpers.js';
import { gamma, rng } from './seeded.js';

/**
 * The wasm conv2d and convTranspose2d kernels against the float64 cpu reference on the same
 * float32 inputs, on random configurations (groups, strides, paddings, dilations, odd sizes,
 * kernel = image), the shapes of the weight gradient (`convWeightGradient`: the batch as
 * channels, large windows, stride and dilation swapped) and the conv VAE's layers.
 *
 * Tolerance (as `wasm.test.ts`, Higham §3.1): every output is a float32 sum of at most
 * k = (in/groups)·kh·kw products (conv2d: one dot product in the GEMM; convTranspose2d: a dot
 * product over in/groups in the GEMM, then kh·kw float32 additions in col2im), so
 * |out − ref| ≤ γ_k·Σ|x||W| with γ_k = k·u/(1 − k·u), u = 2⁻²⁴; Σ|x||W| is the same kernel on
 * |x| and |W| in float64, and the float64 reference adds its own γ_k at u = 2⁻⁵³.
 */

/** float32 values in [-1, 1], one in eight exactly 0. */
const values = (next: () => number, n: number): Float32Array => Float32Array.from({ length: n }, () => (next() < 0.125 ? 0 : 2 * next() - 1));

type Kind = 'conv2d' | 'convTranspose2d';

/** The sizes of a call drawn as in PyTorch: x, weight and out lengths and the output size. */
function complete(kind: Kind, c: Omit<Conv2dDims, 'outHeight' | 'outWidth'> & { outputPadding?: [number, number] }): Conv2dDims {
  const { outputPadding = [0, 0], ...d } = c;
  const outHeight =
    kind === 'conv2d'
      ? Math.floor((d.height + 2 * d.padH - d.dilationH * (d.kernelHeight - 1) - 1) / d.strideH) + 1
      : (d.height - 1) * d.strideH - 2 * d.padH + d.dilationH * (d.kernelHeight - 1) + outputPadding[0] + 1;
  const outWidth =
    kind === 'conv2d'
      ? Math.floor((d.width + 2 * d.padW - d.dilationW * (d.kernelWidth - 1) - 1) / d.strideW) + 1
      : (d.width - 1) * d.strideW - 2 * d.padW + d.dilationW * (d.kernelWidth - 1) + outputPadding[1] + 1;
  return { ...d, outHeight, outWidth };
}

const weightLength = (kind: Kind, d: Conv2dDims): number =>
  (kind === 'conv2d' ? d.outChannels * (d.inChannels / d.groups) : d.inChannels * (d.outChannels / d.groups)) * d.kernelHeight * d.kernelWidth;

/**
 * Runs the wasm kernel on `d` and returns the worst |out − ref| / tol (≤ 1 passes) with where it
 * was; `resident`: x, weight and out kept in the wasm memory (read and written in place there).
 */
function check(backend: WasmBackend, kind: Kind, d: Conv2dDims, seed: number, resident: boolean): { worst: number; detail: string } {
  const next = rng(seed);
  const x = values(next, d.batch * d.inChannels * d.height * d.width);
  const weight = values(next, weightLength(kind, d));
  let out: Float32Array = new Float32Array(d.batch * d.outChannels * d.outHeight * d.outWidth).fill(NaN);
  const keep = (a: Float32Array): Float32Array => (resident ? (backend.memory.keep(a) as Float32Array) : a);
  out = keep(out);
  if (resident) expect(backend.memory.isKept(out)).toBe(true);
  backend[kind](keep(x), keep(weight), out, d);
  const ref = new Float64Array(out.length);
  cpuBackend[kind](Float64Array.from(x), Float64Array.from(weight), ref, d);
  const mass = new Float64Array(out.length);
  cpuBackend[kind](Float64Array.from(x, Math.abs), Float64Array.from(weight, Math.abs), mass, d);
  const k = (d.inChannels / d.groups) * d.kernelHeight * d.kernelWidth + (kind === 'convTranspose2d' ? d.kernelHeight * d.kernelWidth : 0);
  const c = gamma(k, 2 ** -24) + gamma(k, 2 ** -53);
  let worst = 0;
  let detail = 'exact';
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i]! - ref[i]!);
    const tol = c * mass[i]! * (1 + 1e-12);
    const ratio = err === 0 ? 0 : tol === 0 ? Infinity : err / tol;
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      detail = `[${i}] out ${out[i]} ref ${ref[i]} tol ${tol}`;
    }
  }
  return { worst, detail };
}

const passes = (backend: WasmBackend, kind: Kind, d: Conv2dDims, seed: number, resident = false): void => {
  const { worst, detail } = check(backend, kind, d, seed, resident);
  expect(worst, `${kind} ${JSON.stringify(d)}${resident ? ' (resident)' : ''}: ${detail}`).toBeLessThanOrEqual(1);
};

const pair = (min: number, max: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

/** Random configurations: groups 1-3, 1-4 channels a group, images 1-9, kernels 1-4 or the whole image; only valid ones. */
const arbDims = (kind: Kind): fc.Arbitrary<Conv2dDims> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: 4 }),
      groups: fc.integer({ min: 1, max: 3 }),
      inPerGroup: fc.integer({ min: 1, max: 4 }),
      outPerGroup: fc.integer({ min: 1, max: 4 }),
      size: pair(1, 9),
      kernelDraw: pair(0, 4),
      stride: pair(1, 3),
      padding: pair(0, 2),
      dilation: pair(1, 3),
      extra: pair(0, 2),
    })
    .map(({ batch, groups, inPerGroup, outPerGroup, size, kernelDraw, stride, padding, dilation, extra }) =>
      complete(kind, {
        batch,
        groups,
        inChannels: groups * inPerGroup,
        outChannels: groups * outPerGroup,
        height: size[0],
        width: size[1],
        kernelHeight: kernelDraw[0] || size[0], // 0 draws kernel = image
        kernelWidth: kernelDraw[1] || size[1],
        strideH: stride[0],
        strideW: stride[1],
        padH: padding[0],
        padW: padding[1],
        dilationH: dilation[0],
        dilationW: dilation[1],
        outputPadding: kind === 'convTranspose2d' ? [extra[0] % Math.max(stride[0], dilation[0]), extra[1] % Math.max(stride[1], dilation[1])] : [0, 0],
      }),
    )
    .filter((d) => d.outHeight >= 1 && d.outWidth >= 1);

/**
 * The conv2d call of `convWeightGradient` for a conv2d with these options: x [batch, groups·a, size, size]
 * and its output gradient [batch, groups·b, outSize, outSize] become images [a, groups·batch, size, size]
 * and a weight [groups·b, batch, outSize, outSize], with stride and dilation swapped.
 */
function weightGradientDims(
  batch: number,
  groups: number,
  a: number,
  b: number,
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
): Conv2dDims {
  const outSize = Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
  return complete('conv2d', {
    batch: a,
    groups,
    inChannels: groups * batch,
    outChannels: groups * b,
    height: size,
    width: size,
    kernelHeight: outSize,
    kernelWidth: outSize,
    strideH: dilation,
    strideW: dilation,
    padH: padding,
    padW: padding,
    dilationH: stride,
    dilationW: stride,
  });
}

/** A conv VAE layer (4×4 kernels, stride 2, padding 1) at `batch`, `inChannels` → `outChannels`, on `size`² images. */
const vaeLayer = (kind: Kind, batch: number, inChannels: number, outChannels: number, size: number): Conv2dDims =>
  complete(kind, {
    batch,
    groups: 1,
    inChannels,
    outChannels,
    height: size,
    width: size,
    kernelHeight: 4,
    kernelWidth: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
    dilationH: 1,
    dilationW: 1,
  });

describe.each([
  ['one thread', { threads: 1 }],
  ['threads (every product split, 2 workers)', { threads: 3, minParallelFlops: 0 }],
])('wasm conv kernels, %s', (_, options) => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = createWasmBackend(options);
    await backend.ready();
  });
  afterAll(() => backend.dispose());

  it.each(['conv2d', 'convTranspose2d'] as const)(
    '%s matches the float64 reference within γ_k·Σ|x||W| on random configurations, arrays resident or not',
    (kind) => {
      fc.assert(
        fc.property(arbDims(kind), fc.nat(), fc.boolean(), (d, seed, resident) => passes(backend, kind, d, seed, resident)),
        fcOptions(),
      );
    },
  );

  it('conv2d matches on the weight-gradient shapes (batch as channels, large windows, stride and dilation swapped)', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 6 }),
          groups: fc.integer({ min: 1, max: 3 }),
          a: fc.integer({ min: 1, max: 3 }),
          b: fc.integer({ min: 1, max: 3 }),
          size: fc.integer({ min: 4, max: 16 }),
          kernel: fc.integer({ min: 1, max: 4 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padding: fc.integer({ min: 0, max: 2 }),
          dilation: fc.integer({ min: 1, max: 2 }),
        }),
        fc.nat(),
        fc.boolean(),
        (c, seed, resident) =>
          passes(backend, 'conv2d', weightGradientDims(c.batch, c.groups, c.a, c.b, c.size, c.kernel, c.stride, c.padding, c.dilation), seed, resident),
      ),
      fcOptions(),
    );
  });

  it("matches on the conv VAE's layers at batch 4 (forward, transposed, and both weight gradients)", () => {
    passes(backend, 'conv2d', vaeLayer('conv2d', 4, 1, 32, 28), 1);
    passes(backend, 'conv2d', vaeLayer('conv2d', 4, 32, 64, 14), 2);
    passes(backend, 'convTranspose2d', vaeLayer('convTranspose2d', 4, 64, 32, 7), 3);
    passes(backend, 'convTranspose2d', vaeLayer('convTranspose2d', 4, 32, 1, 14), 4);
    passes(backend, 'conv2d', weightGradientDims(4, 1, 1, 32, 28, 4, 2, 1, 1), 5); // ∂W of 1 → 32: 14×14 windows
    passes(backend, 'conv2d', weightGradientDims(4, 1, 32, 64, 14, 4, 2, 1, 1), 6); // ∂W of 32 → 64: 7×7 windows
    passes(backend, 'conv2d', vaeLayer('conv2d', 4, 32, 64, 14), 7, true);
    passes(backend, 'convTranspose2d', vaeLayer('convTranspose2d', 4, 64, 32, 7), 8, true);
  });
});

describe('wasm conv kernels on threads', () => {
  it('split the products of a conv VAE layer across the workers', async () => {
    const backend = createWasmBackend({ threads: 3, minParallelFlops: 0 });
    await backend.ready();
    try {
      // A worker that the OS has not woken by the time the caller finished every task is taken
      // back, and a busy one is not asked: on a loaded machine one pass may run alone. So up to
      // five passes, of which one must have spread both products over the workers.
      const spread: string[] = [];
      for (let attempt = 0; attempt < 5 && !spread.includes('both'); attempt++) {
        const before = backend.stats();
        passes(backend, 'conv2d', vaeLayer('conv2d', 8, 32, 64, 14), 7, true);
        passes(backend, 'convTranspose2d', vaeLayer('convTranspose2d', 8, 64, 32, 7), 8, true);
        const after = backend.stats();
        const both = after.threaded - before.threaded === 2 && after.workerTasks > before.workerTasks;
        spread.push(both ? 'both' : `threaded ${after.threaded - before.threaded}, worker tasks ${after.workerTasks - before.workerTasks}`);
      }
      expect(spread, spread.join('; ')).toContain('both');
    } finally {
      await backend.dispose();
    }
  });
});

describe("the wasm backend's strided copy (on merged axes)", () => {
  const backend = createWasmBackend({ threads: 1 });
  afterAll(() => backend.dispose());

  it('equals the reference on random permutes and broadcasts, size-1 axes included', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 })
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }),
              fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            ),
          ),
        ([shape, perm, broadcast]) => {
          // src is x of `shape` read through the permutation (broadcast axes read with stride 0), into a contiguous dst.
          const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
          const viewShape = perm.map((p) => shape[p]!);
          const srcStrides = perm.map((p) => (broadcast[p] ? 0 : strides[p]!));
          const dstStrides = viewShape.map((_, i) => viewShape.slice(i + 1).reduce((a, b) => a * b, 1));
          const size = viewShape.reduce((a, b) => a * b, 1);
          const src = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1);
          const [got, want] = [new Float32Array(size), new Float32Array(size)];
          backend.copy(src, 0, srcStrides, viewShape, got, 0, dstStrides);
          cpuBackend.copy(src, 0, srcStrides, viewShape, want, 0, dstStrides);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
      fcOptions(),
    );
  });
});

describe("the wasm backend's sums around kept axes (a convolution's bias gradient)", () => {
  const backend = createWasmBackend({ threads: 1 });
  afterAll(() => backend.dispose());

  it('equal the reference bit for bit on random shapes and axes', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
          .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray([...shape.keys()], { minLength: 1 }), fc.nat())),
        ([shape, axes, seed]) => {
          const next = rng(seed);
          const x = values(
            next,
            shape.reduce((a, b) => a * b, 1),
          );
          const size = shape.reduce((a, b, i) => (axes.includes(i) ? a : a * b), 1);
          const [got, want] = [new Float32Array(size), new Float32Array(size)];
          backend.reduce('sum', x, shape, axes, got);
          cpuBackend.reduce('sum', x, shape, axes, want);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
      fcOptions(),
    );
  });

  it("equals the reference on the conv VAE's bias gradient, [128, 32, 14, 14] over (0, 2, 3)", () => {
    const x = values(rng(3), 128 * 32 * 14 * 14);
    const [got, want] = [new Float32Array(32), new Float32Array(32)];
    backend.reduce('sum', x, [128, 32, 14, 14], [0, 2, 3], got);
    cpuBackend.reduce('sum', x, [128, 32, 14, 14], [0, 2, 3], want);
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
