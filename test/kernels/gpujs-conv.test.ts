import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { batchTensor, batches } from '../../src/data/batches.js';
import type { Conv2dDims } from '../../src/kernels/backend.js';
import { createGpujsBackend, registerGpujsBackend } from '../../src/kernels/gpujs.js';
import { setBackend } from '../../src/kernels/index.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { Generator } from '../../src/tensor/random.js';
import { VAE } from '../../src/vae/model.js';
import { trainStep } from '../../src/vae/train-step.js';
import { SEED } from '../helpers.js';
import { smallMnist } from '../vae/fixtures.js';
import { type Check, checkConv, type ConvKind, convDims, GROUPED_CONV } from './gpujs-checks.js';

/**
 * The gpu.js conv2d and convTranspose2d kernels in Node (gpu.js's webasm engine, and its cpu
 * mode) against the float64 cpu reference, within the float32 bound of gpujs-checks.ts, on
 * random configurations: groups, strides, paddings, dilations, odd sizes, 1×1 kernels, kernels
 * as large as the padded input, and the weight-gradient shapes (batch as channels, large kernels).
 */
const backend = createGpujsBackend();
afterAll(() => backend.destroy());

const params = (runs: number): fc.Parameters<unknown> => ({ numRuns: runs, seed: SEED });
function passes(check: Check): void {
  expect(check.worst, `${check.name}: ${check.detail}`).toBeLessThanOrEqual(1);
}

/** A valid configuration of either convolution: sizes drawn small and odd-friendly, invalid draws mapped to the nearest valid one. */
const configuration = fc
  .record({
    kind: fc.constantFrom<ConvKind>('conv2d', 'convTranspose2d'),
    batch: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    inPerGroup: fc.integer({ min: 1, max: 3 }),
    outPerGroup: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 1, max: 9 }),
    width: fc.integer({ min: 1, max: 9 }),
    kernelHeight: fc.integer({ min: 1, max: 4 }),
    kernelWidth: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 2 }),
    padW: fc.integer({ min: 0, max: 2 }),
    dilationH: fc.integer({ min: 1, max: 3 }),
    dilationW: fc.integer({ min: 1, max: 3 }),
    outputPaddingH: fc.nat(2),
    outputPaddingW: fc.nat(2),
    seed: fc.nat(),
  })
  .map(({ kind, inPerGroup, outPerGroup, outputPaddingH, outputPaddingW, seed, ...c }) => {
    const base = { ...c, inChannels: c.groups * inPerGroup, outChannels: c.groups * outPerGroup };
    if (kind === 'conv2d') {
      // the dilated kernel must fit the padded input: widen the input where it does not
      const height = Math.max(c.height, c.dilationH * (c.kernelHeight - 1) + 1 - 2 * c.padH);
      const width = Math.max(c.width, c.dilationW * (c.kernelWidth - 1) + 1 - 2 * c.padW);
      return { kind, seed, dims: convDims(kind, { ...base, height, width }) };
    }
    // outputPadding < max(stride, dilation); the output must keep at least one row and column
    const outputPadding: [number, number] = [outputPaddingH % Math.max(c.strideH, c.dilationH), outputPaddingW % Math.max(c.strideW, c.dilationW)];
    let dims = convDims(kind, base, outputPadding);
    if (dims.outHeight < 1 || dims.outWidth < 1) dims = convDims(kind, { ...base, padH: 0, padW: 0 }, outputPadding);
    return { kind, seed, dims };
  });

/**
 * The conv2d that convWeightGradient runs for a conv2d of `d` (autograd/conv.ts): the input's
 * channels as the batch, the batch as input channels, the output gradient as a weight of
 * `groups` groups, stride and dilation swapped; its output is at least the kernel's size.
 */
function weightGradientDims(d: Conv2dDims): Conv2dDims {
  const inPerGroup = d.inChannels / d.groups;
  return convDims('conv2d', {
    batch: inPerGroup,
    inChannels: d.groups * d.batch,
    height: d.height,
    width: d.width,
    outChannels: d.outChannels,
    kernelHeight: d.outHeight,
    kernelWidth: d.outWidth,
    strideH: d.dilationH,
    strideW: d.dilationW,
    padH: d.padH,
    padW: d.padW,
    dilationH: d.strideH,
    dilationW: d.strideW,
    groups: d.groups,
  });
}

describe('gpujs conv kernels in Node', () => {
  it('conv2d and convTranspose2d match the float64 reference on random configurations (groups, stride, padding, dilation, odd sizes)', () => {
    fc.assert(
      fc.property(configuration, ({ kind, dims, seed }) => passes(checkConv(backend, kind, dims, seed))),
      params(60),
    );
    expect(backend.info().fallbacks).toBe(0);
  });

  it('conv2d matches on the weight-gradient shapes of random configurations (batch as channels, large kernels)', () => {
    const conv2dOnly = configuration.filter(({ kind }) => kind === 'conv2d');
    fc.assert(
      fc.property(conv2dOnly, ({ dims, seed }) => passes(checkConv(backend, 'conv2d', weightGradientDims(dims), seed))),
      params(15),
    );
  });

  it('1×1 kernels and a kernel as large as the padded input', () => {
    const one = { batch: 2, inChannels: 6, height: 5, width: 3, outChannels: 4, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, groups: 2 };
    passes(checkConv(backend, 'conv2d', convDims('conv2d', { ...one, kernelHeight: 1, kernelWidth: 1, padH: 0, padW: 0 }), 1));
    passes(checkConv(backend, 'convTranspose2d', convDims('convTranspose2d', { ...one, kernelHeight: 1, kernelWidth: 1, padH: 0, padW: 0 }), 2));
    const whole = convDims('conv2d', { ...one, kernelHeight: 7, kernelWidth: 5, padH: 1, padW: 1 });
    expect([whole.outHeight, whole.outWidth]).toEqual([1, 1]);
    passes(checkConv(backend, 'conv2d', whole, 3));
  });

  it("the conv VAE's layers and their weight gradients at batch 16, past gpu.js's 1000-iteration loop cap", () => {
    const layer = { kernelHeight: 4, kernelWidth: 4, strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
    const first = convDims('conv2d', { batch: 16, inChannels: 1, height: 28, width: 28, outChannels: 32, ...layer });
    const second = convDims('conv2d', { batch: 16, inChannels: 32, height: 14, width: 14, outChannels: 64, ...layer });
    for (const [i, d] of [first, second].entries()) {
      passes(checkConv(backend, 'conv2d', d, 10 + i));
      passes(checkConv(backend, 'conv2d', weightGradientDims(d), 20 + i)); // 16·14·14 = 3136 taps for the first
    }
    passes(
      checkConv(backend, 'convTranspose2d', convDims('convTranspose2d', { batch: 16, inChannels: 64, height: 7, width: 7, outChannels: 32, ...layer }), 30),
    );
    passes(
      checkConv(backend, 'convTranspose2d', convDims('convTranspose2d', { batch: 16, inChannels: 32, height: 14, width: 14, outChannels: 1, ...layer }), 31),
    );
    expect(backend.info().fallbacks).toBe(0);
  });

  it('leaves a convolution with batch·outChannels past 2²¹ (where its index split would be inexact) to the cpu reference', () => {
    const wide = createGpujsBackend();
    const d = convDims('conv2d', {
      batch: 2 ** 21 + 1,
      inChannels: 1,
      height: 1,
      width: 1,
      outChannels: 1,
      kernelHeight: 1,
      kernelWidth: 1,
      strideH: 1,
      strideW: 1,
      padH: 0,
      padW: 0,
      dilationH: 1,
      dilationW: 1,
      groups: 1,
    });
    const x = Float32Array.from({ length: d.batch }, (_, i) => i % 7);
    const out = new Float32Array(d.batch);
    wide.conv2d!(x, Float32Array.of(3), out, d);
    expect(out[d.batch - 1]).toBe(3 * ((d.batch - 1) % 7));
    expect(wide.info().kernels).toBe(0);
    wide.destroy();
  });

  it("runs in gpu.js's cpu mode too, and only when `ops` names conv", () => {
    const cpuMode = createGpujsBackend({ mode: 'cpu' });
    const d = convDims('conv2d', GROUPED_CONV);
    passes(checkConv(cpuMode, 'conv2d', d, 4));
    passes(checkConv(cpuMode, 'convTranspose2d', convDims('convTranspose2d', { ...d, outChannels: 6 }, [1, 0]), 5));
    expect(cpuMode.info()).toMatchObject({ mode: 'cpu', kernels: 2, fallbacks: 0 });
    cpuMode.destroy();
    const matmulOnly = createGpujsBackend({ ops: ['matmul'] });
    passes(checkConv(matmulOnly, 'conv2d', d, 6));
    expect(matmulOnly.info().kernels).toBe(0);
    matmulOnly.destroy();
  });
});

describe('a conv VAE training step on gpujs', () => {
  it('gives the losses of the same steps on the cpu reference, within float32 tolerance', () => {
    const data = smallMnist(48, 8);
    const run = (backendName: string): { losses: number[]; gradients: Float32Array[] } => {
      setBackend(backendName);
      try {
        const model = new VAE({ inputDim: 784, arch: 'conv', seed: 3 });
        const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
        const rng = new Generator(4);
        const losses: number[] = [];
        let gradients: Float32Array[] = [];
        for (const batch of batches(data.train, { batchSize: 16, shuffle: true, binarize: 'static', rng })) {
          const { loss, failure } = trainStep(model, optimizer, batchTensor(batch), { beta: 1, rng });
          expect(failure).toBeUndefined();
          if (losses.length === 0) gradients = model.parameters().map((p) => Float32Array.from(p.grad!.data));
          losses.push(loss);
        }
        return { losses, gradients };
      } finally {
        setBackend('cpu');
      }
    };
    const convOnly = registerGpujsBackend({ ops: ['conv'] }); // every other kernel as on cpu: the convolutions make any difference
    const gpujs = run('gpujs');
    expect(convOnly.info()).toMatchObject({ fallbacks: 0 });
    // A step's conv shapes, each compiled once: the two encoder convolutions, the two decoder
    // transposes, and two weight gradients (a layer's ∂x has the shape of its mirror's forward,
    // and mirrored layers share the ∂W correlation's shape).
    expect(convOnly.info().kernels).toBe(6);
    const cpu = run('cpu');
    expect(gpujs.losses).toHaveLength(3);
    // Each loss is a float32 sum over 16·784 pixels of terms made by float32 dot products of up to
    // 512 taps: 1e-5 relative is ~170 u, far above the rounding either order of summation leaves.
    gpujs.losses.forEach((loss, i) =>
      expect(Math.abs(loss - cpu.losses[i]!) / Math.abs(cpu.losses[i]!), `step ${i}: ${loss} vs ${cpu.losses[i]}`).toBeLessThan(1e-5),
    );
    // The first step's gradients, each tensor relative to its largest entry.
    gpujs.gradients.forEach((g, t) => {
      const want = cpu.gradients[t]!;
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const worst = g.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
      expect(worst / scale, `parameter ${t}`).toBeLessThan(1e-4);
    });
  });
});
