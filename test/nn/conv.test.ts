import { describe, expect, it } from 'vitest';
import { conv2d, convTranspose2d } from '../../src/autograd/conv.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { mean, square, sub } from '../../src/autograd/ops.js';
import { Conv2d, ConvTranspose2d, ReLU, Sequential } from '../../src/nn/index.js';
import { Adam } from '../../src/nn/optim/index.js';
import { randn } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';

type Pair = [number, number];
const both = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/** PyTorch's nn.Conv2d output size per axis: ⌊(h + 2p − d(k − 1) − 1)/s⌋ + 1. */
const convSize = (h: number, k: number, s: number, p: number, d: number): number => Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;
/** PyTorch's nn.ConvTranspose2d output size per axis: (h − 1)s − 2p + d(k − 1) + op + 1. */
const transposeSize = (h: number, k: number, s: number, p: number, op: number, d: number): number => (h - 1) * s - 2 * p + d * (k - 1) + op + 1;

const normal = (shape: number[], rng: Generator, requiresGrad = false): Tensor => randn(shape, { rng, dtype: 'float64', requiresGrad });

/** The sample variance of every number in `values`. */
function variance(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const m = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - m) ** 2;
  return squares / (values.length - 1);
}

interface Config {
  inC: number;
  outC: number;
  kernel: number | Pair;
  stride?: number | Pair;
  padding?: number | Pair;
  dilation?: number | Pair;
  groups?: number;
  outputPadding?: number | Pair;
  size: Pair;
}

const CONV_CONFIGS: Config[] = [
  { inC: 1, outC: 8, kernel: 3, size: [28, 28] },
  { inC: 1, outC: 8, kernel: 3, padding: 1, size: [28, 28] },
  { inC: 3, outC: 4, kernel: 4, stride: 2, padding: 1, size: [28, 28] },
  { inC: 4, outC: 6, kernel: [3, 2], stride: [2, 3], padding: [1, 0], dilation: [1, 2], groups: 2, size: [9, 11] },
  { inC: 6, outC: 6, kernel: 1, groups: 6, size: [5, 7] },
  { inC: 2, outC: 3, kernel: [5, 4], size: [5, 4] }, // kernel = input: 1x1 output
  { inC: 2, outC: 2, kernel: 3, stride: 3, dilation: 2, padding: 2, size: [10, 13] },
];

const TRANSPOSE_CONFIGS: Config[] = [
  { inC: 8, outC: 1, kernel: 4, stride: 2, padding: 1, size: [14, 14] },
  { inC: 2, outC: 3, kernel: 3, size: [5, 5] },
  { inC: 4, outC: 6, kernel: [3, 2], stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2], groups: 2, size: [4, 5] },
  { inC: 3, outC: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1, groups: 3, size: [7, 7] },
  { inC: 2, outC: 2, kernel: 2, dilation: 3, outputPadding: 2, size: [3, 6] }, // outputPadding < dilation
];

describe('Conv2d', () => {
  it('gives the output shape of PyTorch’s formula for each configuration', () => {
    const rng = new Generator(1);
    for (const c of CONV_CONFIGS) {
      const layer = new Conv2d(c.inC, c.outC, c.kernel, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, rng });
      const [k, s, p, d] = [both(c.kernel), both(c.stride ?? 1), both(c.padding ?? 0), both(c.dilation ?? 1)];
      const expected = [2, c.outC, convSize(c.size[0], k[0], s[0], p[0], d[0]), convSize(c.size[1], k[1], s[1], p[1], d[1])];
      expect(layer.call(randn([2, c.inC, ...c.size], { rng })).shape, JSON.stringify(c)).toEqual(expected);
      expect(layer.call(randn([c.inC, ...c.size], { rng })).shape, `unbatched ${JSON.stringify(c)}`).toEqual(expected.slice(1));
    }
  });

  it('registers weight [out, in/groups, kh, kw] then bias [out], in the requested dtype', () => {
    const layer = new Conv2d(4, 6, [3, 2], { groups: 2, dtype: 'float64' });
    expect([...layer.namedParameters()].map(([name, p]) => [name, p.shape, p.dtype, p.requiresGrad])).toEqual([
      ['weight', [6, 2, 3, 2], 'float64', true],
      ['bias', [6], 'float64', true],
    ]);
    expect(new Conv2d(1, 2, 3).weight.dtype).toBe('float32');
    const noBias = new Conv2d(1, 2, 3, { bias: false });
    expect(noBias.bias).toBeNull();
    expect([...noBias.namedParameters()].map(([name]) => name)).toEqual(['weight']);
    expect(layer.toString()).toBe(
      'Conv2d(inChannels=4, outChannels=6, kernelSize=[3, 2], stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=2, bias=true)',
    );
  });

  it('computes the conv2d op with its weight and bias, batched or not', () => {
    const rng = new Generator(2);
    const options = { stride: [2, 1] as Pair, padding: 1, dilation: [1, 2] as Pair, groups: 2 };
    const layer = new Conv2d(4, 6, 3, { ...options, rng, dtype: 'float64' });
    const x = normal([3, 4, 7, 8], rng);
    expect(layer.call(x).toArray()).toEqual(conv2d(x, layer.weight, layer.bias, options).toArray());
    const first = normal([4, 7, 8], rng);
    expect(layer.call(first).toArray()).toEqual((conv2d(first.reshape([1, 4, 7, 8]), layer.weight, layer.bias, options).toArray() as number[][])[0]);
  });

  it('draws weight then bias from U(−1/√fanIn, 1/√fanIn), fanIn = (in/groups)·kh·kw, in order from rng', () => {
    const layer = new Conv2d(6, 6, [3, 2], { groups: 3, rng: new Generator(5), dtype: 'float64' }); // weight [6, 2, 3, 2]
    const bound = 1 / Math.sqrt(2 * 3 * 2); // fanIn = 12
    const rng = new Generator(5);
    const expected = Array.from({ length: 6 * 2 * 3 * 2 + 6 }, () => -bound + 2 * bound * rng.uniform());
    expect([...layer.weight.data, ...layer.bias!.data]).toEqual(expected);
  });

  it('init: every entry within ±1/√fanIn, the range used, variance (1/3)/fanIn on a large layer', () => {
    const layer = new Conv2d(64, 64, 3, { rng: new Generator(11), dtype: 'float64' });
    const fanIn = 64 * 9;
    const bound = 1 / Math.sqrt(fanIn);
    for (const p of [layer.weight, layer.bias!]) {
      const values = [...p.data];
      expect(values.every((v) => Math.abs(v) <= bound)).toBe(true);
      expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    }
    const expected = 1 / (3 * fanIn); // Var U(−b, b) = b²/3
    expect(Math.abs(variance(layer.weight.data) / expected - 1)).toBeLessThan(0.03); // 36864 draws: relative sd ≈ 0.5%
    expect(new Conv2d(4, 3, 2, { rng: new Generator(1) }).stateDict()).toEqual(new Conv2d(4, 3, 2, { rng: new Generator(1) }).stateDict());
  });

  it('passes gradcheck on the input, weight and bias (float64, stride, padding, dilation, groups)', () => {
    const rng = new Generator(7);
    const layer = new Conv2d(4, 2, [2, 3], { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2, rng, dtype: 'float64' });
    const x = normal([2, 4, 5, 6], rng, true);
    const report = gradcheck((input) => layer.call(input!), [x, ...layer.parameters()]);
    expect(report.ok).toBe(true);
    expect(report.checked).toBeGreaterThan(0);
  });

  it('names the layer and the value for bad arguments and inputs', () => {
    expect(() => new Conv2d(0, 2, 3)).toThrow('Conv2d: inChannels must be a positive integer, got 0');
    expect(() => new Conv2d(2, -1, 3)).toThrow('Conv2d: outChannels must be a positive integer, got -1');
    expect(() => new Conv2d(2, 2.5, 3)).toThrow('Conv2d: outChannels must be a positive integer, got 2.5');
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: inChannels 3 must be divisible by groups 2');
    expect(() => new Conv2d(4, 3, 3, { groups: 2 })).toThrow('Conv2d: outChannels 3 must be divisible by groups 2');
    expect(() => new Conv2d(4, 4, 3, { groups: 0 })).toThrow('Conv2d: groups must be a positive integer, got 0');
    expect(() => new Conv2d(1, 1, 0)).toThrow('Conv2d: kernelSize must be a positive integer or a pair of them, got 0');
    expect(() => new Conv2d(1, 1, [3, 0])).toThrow('Conv2d: kernelSize must be a positive integer or a pair of them, got [3,0]');
    expect(() => new Conv2d(1, 1, 3, { stride: 0 })).toThrow('Conv2d: stride must be a positive integer or a pair of them, got 0');
    expect(() => new Conv2d(1, 1, 3, { padding: -1 })).toThrow('Conv2d: padding must be a non-negative integer or a pair of them, got -1');
    expect(() => new Conv2d(1, 1, 3, { dilation: [1, 0] })).toThrow('Conv2d: dilation must be a positive integer or a pair of them, got [1,0]');
    expect(() => new Conv2d(1, 1, 3, { outputPadding: 1 } as object)).toThrow(
      "Conv2d: unknown option 'outputPadding' (options: stride, padding, dilation, groups, bias, rng, dtype)",
    );
    const layer = new Conv2d(3, 2, 3);
    expect(() => layer.call(randn([1, 2, 5, 5]))).toThrow(
      'Conv2d: input must be [batch, 3, height, width] or [3, height, width], got input shape [1, 2, 5, 5]',
    );
    expect(() => layer.call(randn([3, 5]))).toThrow('Conv2d: input must be [batch, 3, height, width] or [3, height, width], got input shape [3, 5]');
    expect(() => layer.call(randn([1, 3, 2, 5]))).toThrow('conv2d: kernel [3, 3]'); // too small an input: the op's own error
  });
});

describe('ConvTranspose2d', () => {
  it('gives the output shape of PyTorch’s formula for each configuration', () => {
    const rng = new Generator(3);
    for (const c of TRANSPOSE_CONFIGS) {
      const layer = new ConvTranspose2d(c.inC, c.outC, c.kernel, {
        stride: c.stride,
        padding: c.padding,
        outputPadding: c.outputPadding,
        dilation: c.dilation,
        groups: c.groups,
        rng,
      });
      const [k, s, p, op, d] = [both(c.kernel), both(c.stride ?? 1), both(c.padding ?? 0), both(c.outputPadding ?? 0), both(c.dilation ?? 1)];
      const expected = [2, c.outC, transposeSize(c.size[0], k[0], s[0], p[0], op[0], d[0]), transposeSize(c.size[1], k[1], s[1], p[1], op[1], d[1])];
      expect(layer.call(randn([2, c.inC, ...c.size], { rng })).shape, JSON.stringify(c)).toEqual(expected);
      expect(layer.call(randn([c.inC, ...c.size], { rng })).shape, `unbatched ${JSON.stringify(c)}`).toEqual(expected.slice(1));
    }
  });

  it('registers weight [in, out/groups, kh, kw] then bias [out]', () => {
    const layer = new ConvTranspose2d(4, 6, [3, 2], { groups: 2, dtype: 'float64' });
    expect([...layer.namedParameters()].map(([name, p]) => [name, p.shape, p.dtype, p.requiresGrad])).toEqual([
      ['weight', [4, 3, 3, 2], 'float64', true],
      ['bias', [6], 'float64', true],
    ]);
    expect(new ConvTranspose2d(1, 2, 3, { bias: false }).bias).toBeNull();
    expect(new ConvTranspose2d(2, 1, 4, { stride: 2, padding: 1, outputPadding: 1 }).toString()).toBe(
      'ConvTranspose2d(inChannels=2, outChannels=1, kernelSize=[4, 4], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1], dilation=[1, 1], groups=1, bias=true)',
    );
  });

  it('computes the convTranspose2d op with its weight and bias', () => {
    const rng = new Generator(4);
    const options = { stride: 2, padding: [1, 0] as Pair, outputPadding: [1, 0] as Pair, dilation: [1, 2] as Pair, groups: 2 };
    const layer = new ConvTranspose2d(4, 6, 3, { ...options, rng, dtype: 'float64' });
    const x = normal([2, 4, 3, 4], rng);
    expect(layer.call(x).toArray()).toEqual(convTranspose2d(x, layer.weight, layer.bias, options).toArray());
  });

  it('draws weight then bias from U(−1/√fanIn, 1/√fanIn), fanIn = (out/groups)·kh·kw as PyTorch computes it', () => {
    const layer = new ConvTranspose2d(6, 4, [3, 2], { groups: 2, rng: new Generator(6), dtype: 'float64' });
    const bound = 1 / Math.sqrt(2 * 3 * 2); // weight [6, 2, 3, 2]: fanIn = weight.shape[1]·kh·kw = 12
    const rng = new Generator(6);
    const expected = Array.from({ length: 6 * 2 * 3 * 2 + 4 }, () => -bound + 2 * bound * rng.uniform());
    expect([...layer.weight.data, ...layer.bias!.data]).toEqual(expected);
  });

  it('init: every entry within ±1/√fanIn (from out, not in), variance (1/3)/fanIn on a large layer', () => {
    const layer = new ConvTranspose2d(64, 64, 3, { groups: 2, rng: new Generator(12), dtype: 'float64' });
    const fanIn = 32 * 9; // weight [64, 32, 3, 3]
    const bound = 1 / Math.sqrt(fanIn); // 0.0589; the in-channel fan 64·9 would give 0.0417
    for (const p of [layer.weight, layer.bias!]) {
      const values = [...p.data];
      expect(values.every((v) => Math.abs(v) <= bound)).toBe(true);
    }
    expect(Math.max(...[...layer.weight.data].map(Math.abs))).toBeGreaterThan(0.95 * bound);
    const expected = 1 / (3 * fanIn);
    expect(Math.abs(variance(layer.weight.data) / expected - 1)).toBeLessThan(0.04); // 18432 draws: relative sd ≈ 0.7%
  });

  it('passes gradcheck on the input, weight and bias (float64, stride, padding, outputPadding, dilation, groups)', () => {
    const rng = new Generator(8);
    const layer = new ConvTranspose2d(4, 2, [3, 2], { stride: 2, padding: [1, 0], outputPadding: [1, 0], dilation: [1, 2], groups: 2, rng, dtype: 'float64' });
    const x = normal([2, 4, 3, 3], rng, true);
    const report = gradcheck((input) => layer.call(input!), [x, ...layer.parameters()]);
    expect(report.ok).toBe(true);
    expect(report.checked).toBeGreaterThan(0);
  });

  it('names the layer and the value for bad arguments and inputs', () => {
    expect(() => new ConvTranspose2d(2, 0, 3)).toThrow('ConvTranspose2d: outChannels must be a positive integer, got 0');
    expect(() => new ConvTranspose2d(3, 4, 3, { groups: 2 })).toThrow('ConvTranspose2d: inChannels 3 must be divisible by groups 2');
    expect(() => new ConvTranspose2d(4, 6, 3, { groups: 4 })).toThrow('ConvTranspose2d: outChannels 6 must be divisible by groups 4');
    expect(() => new ConvTranspose2d(1, 1, 3, { outputPadding: -1 })).toThrow(
      'ConvTranspose2d: outputPadding must be a non-negative integer or a pair of them, got -1',
    );
    expect(() => new ConvTranspose2d(1, 1, 3, { stride: 2, outputPadding: [1, 2] })).toThrow(
      'ConvTranspose2d: outputPadding 1x2 must be smaller than stride 2x2 or dilation 1x1',
    );
    const layer = new ConvTranspose2d(3, 2, 3);
    expect(() => layer.call(randn([1, 2, 5, 5]))).toThrow(
      'ConvTranspose2d: input must be [batch, 3, height, width] or [3, height, width], got input shape [1, 2, 5, 5]',
    );
  });
});

describe('a conv → relu → convTranspose network', () => {
  it('learns with Adam: the MSE after 40 steps is under half the initial (seed 9, float64)', () => {
    const rng = new Generator(9);
    const dtype = 'float64';
    const model = new Sequential(
      new Conv2d(1, 6, 3, { stride: 2, padding: 1, rng, dtype }), // [4, 1, 8, 8] → [4, 6, 4, 4]
      new ReLU(),
      new ConvTranspose2d(6, 1, 4, { stride: 2, padding: 1, rng, dtype }), // → [4, 1, 8, 8]
    );
    expect([...model.namedParameters()].map(([name, p]) => `${name} ${p.shape.join('x')}`)).toEqual([
      '0.weight 6x1x3x3',
      '0.bias 6',
      '2.weight 6x1x4x4',
      '2.bias 1',
    ]);
    const x = normal([4, 1, 8, 8], rng);
    const target = normal([4, 1, 8, 8], rng);
    const mse = (): Tensor => mean(square(sub(model.call(x), target)));
    const before = mse().item();
    const optimizer = new Adam(model.parameters(), { lr: 0.03 });
    for (let step = 0; step < 40; step++) {
      optimizer.zeroGrad();
      mse().backward();
      optimizer.step();
    }
    const after = mse().item();
    expect(after).toBeLessThan(0.5 * before);
  });
});
