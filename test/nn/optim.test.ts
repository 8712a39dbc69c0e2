import { describe, expect, it } from 'vitest';
import { add, mul, sum } from '../../src/autograd/ops.js';
import { tensor } from '../../src/tensor/create.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { Adam, AdamW, SGD, type Optimizer, type Hyper } from '../../src/nn/optim/index.js';
import { setBackend } from '../../src/kernels/index.js';
import { initWasmBackend } from '../../src/kernels/wasm/index.js';

/**
 * Every expected value below is computed by hand in the test, step by step, from the published
 * update rules (PyTorch's documentation of SGD, Kingma & Ba's Algorithm 1, Loshchilov & Hutter),
 * never by calling the optimizer. Tolerance: 1e-12 in float64.
 */

const scalar = (v: number): Tensor => tensor([v], { dtype: 'float64', requiresGrad: true });

/** Takes `steps` optimizer steps on loss(); returns each parameter's value after each step. */
function trajectory<H extends Hyper>(opt: Optimizer<H>, params: Tensor[], loss: () => Tensor, steps = 3): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    out.push(params.map((p) => p.data[0]!));
  }
  return out;
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThan(1e-12)));
}

// f(θ) = θ², ∂f/∂θ = 2θ
const square1 = (theta: Tensor) => () => sum(mul(theta, theta));
// f(a, b) = a² + 3ab, ∂f/∂a = 2a + 3b, ∂f/∂b = 3a
const quad2 = (a: Tensor, b: Tensor) => () => sum(add(mul(a, a), mul(mul(a, b), 3)));

describe('SGD', () => {
  it('plain gradient descent: θ = θ − γg', () => {
    const theta = scalar(1);
    // γ = 0.1: θ₁ = 1 − 0.1·2 = 0.8, θ₂ = 0.8 − 0.1·1.6 = 0.64, θ₃ = 0.64 − 0.1·1.28 = 0.512
    expectClose(trajectory(new SGD([theta], { lr: 0.1 }), [theta], square1(theta)), [[0.8], [0.64], [0.512]]);
  });

  it('momentum: b = g on step 1, then μb + g; θ = θ − γb', () => {
    const theta = scalar(1);
    // γ = 0.1, μ = 0.9
    // 1: g = 2,    b = 2,                 θ = 1 − 0.2 = 0.8
    // 2: g = 1.6,  b = 0.9·2 + 1.6 = 3.4,  θ = 0.8 − 0.34 = 0.46
    // 3: g = 0.92, b = 0.9·3.4 + 0.92 = 3.98, θ = 0.46 − 0.398 = 0.062
    expectClose(trajectory(new SGD([theta], { lr: 0.1, momentum: 0.9 }), [theta], square1(theta)), [[0.8], [0.46], [0.062]]);
  });

  it('nesterov: d = g + μb; θ = θ − γd', () => {
    const theta = scalar(1);
    // γ = 0.1, μ = 0.9
    // 1: g = 2,      b = 2,                        d = 2 + 1.8 = 3.8,           θ = 1 − 0.38 = 0.62
    // 2: g = 1.24,   b = 1.8 + 1.24 = 3.04,        d = 1.24 + 2.736 = 3.976,    θ = 0.62 − 0.3976 = 0.2224
    // 3: g = 0.4448, b = 2.736 + 0.4448 = 3.1808,  d = 0.4448 + 2.86272 = 3.30752, θ = 0.2224 − 0.330752 = −0.108352
    expectClose(trajectory(new SGD([theta], { lr: 0.1, momentum: 0.9, nesterov: true }), [theta], square1(theta)), [[0.62], [0.2224], [-0.108352]]);
  });

  it('weight decay and dampening on two parameters: d = g + λθ, b = μb + (1 − τ)d', () => {
    const a = scalar(1.5);
    const b = scalar(-0.5);
    // γ = 0.05, μ = 0.9, τ = 0.5, λ = 0.1
    // 1: ga = 2·1.5 + 3·(−0.5) = 1.5, gb = 3·1.5 = 4.5
    //    da = 1.5 + 0.15 = 1.65, db = 4.5 − 0.05 = 4.45; buffers start as d (no dampening on step 1)
    //    a = 1.5 − 0.05·1.65 = 1.4175, b = −0.5 − 0.05·4.45 = −0.7225
    const a1 = 1.4175,
      b1 = -0.7225,
      bufA1 = 1.65,
      bufB1 = 4.45;
    // 2: ga = 2·1.4175 + 3·(−0.7225) = 0.6675, gb = 4.2525
    //    da = 0.6675 + 0.14175 = 0.80925, db = 4.2525 − 0.07225 = 4.18025
    //    bufA = 0.9·1.65 + 0.5·0.80925 = 1.889625, bufB = 0.9·4.45 + 0.5·4.18025 = 6.095125
    //    a = 1.4175 − 0.05·1.889625 = 1.32301875, b = −0.7225 − 0.05·6.095125 = −1.02725625
    const da2 = 2 * a1 + 3 * b1 + 0.1 * a1,
      db2 = 3 * a1 + 0.1 * b1;
    const bufA2 = 0.9 * bufA1 + 0.5 * da2,
      bufB2 = 0.9 * bufB1 + 0.5 * db2;
    const a2 = a1 - 0.05 * bufA2,
      b2 = b1 - 0.05 * bufB2;
    expect(a2).toBeCloseTo(1.32301875, 14);
    expect(b2).toBeCloseTo(-1.02725625, 14);
    // 3: the same rule once more
    const da3 = 2 * a2 + 3 * b2 + 0.1 * a2,
      db3 = 3 * a2 + 0.1 * b2;
    const a3 = a2 - 0.05 * (0.9 * bufA2 + 0.5 * da3),
      b3 = b2 - 0.05 * (0.9 * bufB2 + 0.5 * db3);
    const opt = new SGD([a, b], { lr: 0.05, momentum: 0.9, dampening: 0.5, weightDecay: 0.1 });
    expectClose(trajectory(opt, [a, b], quad2(a, b)), [
      [a1, b1],
      [a2, b2],
      [a3, b3],
    ]);
  });

  it('uses each parameter group’s own hyperparameters and skips parameters without a gradient', () => {
    const a = scalar(1);
    const b = scalar(1);
    const unused = scalar(5);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.2 }, { params: [unused] }], { lr: 0.1 });
    trajectory(opt, [a, b], () => sum(add(mul(a, a), mul(b, b))), 1);
    expect([a.data[0], b.data[0], unused.data[0]]).toEqual([0.8, 1 - 0.2 * 2, 5]);
    expect(opt.stateDict().state).toEqual({});
    opt.paramGroups[0]!.lr = 0; // schedules edit the groups directly
    trajectory(opt, [a], () => sum(mul(a, a)), 1);
    expect(a.data[0]).toBe(0.8);
  });

  it('rejects bad hyperparameters with a message', () => {
    const p = [scalar(1)];
    expect(() => new SGD(p, { lr: -1 })).toThrow('SGD: lr must be a finite number >= 0, got -1');
    expect(() => new SGD(p, { lr: Infinity })).toThrow('SGD: lr must be a finite number >= 0, got Infinity');
    expect(() => new Adam(p, { lr: Infinity })).toThrow('Adam: lr must be a finite number >= 0, got Infinity');
    expect(() => new Adam(p, { lr: NaN })).toThrow('Adam: lr must be a finite number >= 0, got NaN');
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum requires momentum > 0 and dampening = 0');
    expect(() => new SGD([p[0]!, p[0]!], { lr: 0.1 })).toThrow('SGD: a parameter appears more than once');
  });
});

describe('Adam', () => {
  it('f(θ) = θ², θ₀ = 1: three steps of Algorithm 1 with bias correction', () => {
    const theta = scalar(1);
    // α = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8
    // 1: g = 2, m = 0.1·2 = 0.2, v = 0.001·4 = 0.004, m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4
    const t1 = 1 - (0.1 * 2) / (Math.sqrt(4) + 1e-8); // ≈ 0.9000000005
    // 2: g = 2θ₁, m = 0.9·0.2 + 0.1g, v = 0.999·0.004 + 0.001g², 1 − β₁² = 0.19, 1 − β₂² = 0.001999
    const g2 = 2 * t1,
      m2 = 0.9 * 0.2 + 0.1 * g2,
      v2 = 0.999 * 0.004 + 0.001 * g2 * g2;
    const t2 = t1 - (0.1 * (m2 / 0.19)) / (Math.sqrt(v2 / 0.001999) + 1e-8);
    // 3: 1 − β₁³ = 0.271, 1 − β₂³ = 0.002997001
    const g3 = 2 * t2,
      m3 = 0.9 * m2 + 0.1 * g3,
      v3 = 0.999 * v2 + 0.001 * g3 * g3;
    const t3 = t2 - (0.1 * (m3 / 0.271)) / (Math.sqrt(v3 / 0.002997001) + 1e-8);
    expect(t1).toBeCloseTo(0.9000000005, 12);
    expectClose(trajectory(new Adam([theta], { lr: 0.1 }), [theta], square1(theta)), [[t1], [t2], [t3]]);
  });

  it('two parameters with L2 weight decay and non-default betas and eps', () => {
    const a = scalar(1.5);
    const b = scalar(-0.5);
    // α = 0.01, β₁ = 0.8, β₂ = 0.99, ε = 1e-6, λ = 0.1 (g = ∇f + λθ)
    // 1: ga = 1.5 + 0.15 = 1.65, gb = 4.5 − 0.05 = 4.45; m̂ = g, v̂ = g², so each moves by α·g/(|g| + ε)
    const a1 = 1.5 - (0.01 * 1.65) / (1.65 + 1e-6);
    const b1 = -0.5 - (0.01 * 4.45) / (4.45 + 1e-6);
    const ma1 = 0.2 * 1.65,
      va1 = 0.01 * 1.65 * 1.65,
      mb1 = 0.2 * 4.45,
      vb1 = 0.01 * 4.45 * 4.45;
    // 2: 1 − 0.8² = 0.36, 1 − 0.99² = 0.0199
    const ga2 = 2 * a1 + 3 * b1 + 0.1 * a1,
      gb2 = 3 * a1 + 0.1 * b1;
    const ma2 = 0.8 * ma1 + 0.2 * ga2,
      va2 = 0.99 * va1 + 0.01 * ga2 * ga2;
    const mb2 = 0.8 * mb1 + 0.2 * gb2,
      vb2 = 0.99 * vb1 + 0.01 * gb2 * gb2;
    const a2 = a1 - (0.01 * (ma2 / 0.36)) / (Math.sqrt(va2 / 0.0199) + 1e-6);
    const b2 = b1 - (0.01 * (mb2 / 0.36)) / (Math.sqrt(vb2 / 0.0199) + 1e-6);
    // 3: 1 − 0.8³ = 0.488, 1 − 0.99³ = 0.029701
    const ga3 = 2 * a2 + 3 * b2 + 0.1 * a2,
      gb3 = 3 * a2 + 0.1 * b2;
    const ma3 = 0.8 * ma2 + 0.2 * ga3,
      va3 = 0.99 * va2 + 0.01 * ga3 * ga3;
    const mb3 = 0.8 * mb2 + 0.2 * gb3,
      vb3 = 0.99 * vb2 + 0.01 * gb3 * gb3;
    const a3 = a2 - (0.01 * (ma3 / 0.488)) / (Math.sqrt(va3 / 0.029701) + 1e-6);
    const b3 = b2 - (0.01 * (mb3 / 0.488)) / (Math.sqrt(vb3 / 0.029701) + 1e-6);
    const opt = new Adam([a, b], { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 });
    expectClose(trajectory(opt, [a, b], quad2(a, b)), [
      [a1, b1],
      [a2, b2],
      [a3, b3],
    ]);
  });

  it('AdamW decays θ by (1 − αλ) before the update and keeps λθ out of the moments', () => {
    const theta = scalar(1);
    // α = 0.1, λ = 0.5, so θ is first scaled by 1 − 0.05 = 0.95; g is ∇f at the current θ
    // 1: g = 2, m̂ = 2, v̂ = 4
    const t1 = 1 * 0.95 - (0.1 * 2) / (2 + 1e-8);
    // 2: g = 2θ₁, m = 0.9·0.2 + 0.1g, v = 0.999·0.004 + 0.001g²
    const g2 = 2 * t1,
      m2 = 0.18 + 0.1 * g2,
      v2 = 0.999 * 0.004 + 0.001 * g2 * g2;
    const t2 = t1 * 0.95 - (0.1 * (m2 / 0.19)) / (Math.sqrt(v2 / 0.001999) + 1e-8);
    // 3
    const g3 = 2 * t2,
      m3 = 0.9 * m2 + 0.1 * g3,
      v3 = 0.999 * v2 + 0.001 * g3 * g3;
    const t3 = t2 * 0.95 - (0.1 * (m3 / 0.271)) / (Math.sqrt(v3 / 0.002997001) + 1e-8);
    expectClose(trajectory(new AdamW([theta], { lr: 0.1, weightDecay: 0.5 }), [theta], square1(theta)), [[t1], [t2], [t3]]);
    expect(new AdamW([scalar(1)]).paramGroups[0]!.weightDecay).toBe(0.01); // PyTorch's default
  });

  it('stateDict() holds step, expAvg and expAvgSq; loading it resumes bit-identically', () => {
    const make = () => [scalar(1.5), scalar(-0.5)] as const;
    const [a, b] = make();
    const opt = new Adam([a, b], { lr: 0.05 });
    trajectory(opt, [a, b], quad2(a, b), 2);
    const dict = opt.stateDict();
    expect(Object.keys(dict.state)).toEqual(['0', '1']);
    expect(dict.state['0']!.step).toBe(2);
    expect(dict.paramGroups).toEqual([{ lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0, 1] }]);
    const [c, d] = make();
    c.data.set(a.data);
    d.data.set(b.data);
    const resumed = new Adam([c, d], { lr: 123 });
    resumed.loadStateDict(dict);
    expect(resumed.paramGroups[0]!.lr).toBe(0.05);
    const left = trajectory(opt, [a, b], quad2(a, b), 3);
    const right = trajectory(resumed, [c, d], quad2(c, d), 3);
    expect(right).toEqual(left); // exact, not approximate
  });

  it('loadStateDict() names what does not fit', () => {
    const opt = new Adam([scalar(1)]);
    trajectory(opt, [opt.paramGroups[0]!.params[0]!], () => sum(mul(opt.paramGroups[0]!.params[0]!, 3)), 1);
    const dict = opt.stateDict();
    const wider = new Adam([tensor([1, 2], { dtype: 'float64', requiresGrad: true })]);
    expect(() => wider.loadStateDict(dict)).toThrow("Adam.loadStateDict: state 'expAvg' of parameter 0 is float64 [1], expected float64 [2]");
    expect(() => new Adam([scalar(1), scalar(2)]).loadStateDict(dict)).toThrow("Adam.loadStateDict: group 0 has 2 parameters, the state dict's has 1");
    expect(() => new Adam([{ params: [scalar(1)] }, { params: [scalar(2)] }]).loadStateDict(dict)).toThrow(
      'Adam.loadStateDict: expected 2 parameter groups, got 1',
    );
    expect(() => new Adam([scalar(1)], { betas: [0.9, 1] })).toThrow('Adam: betas must be two numbers in [0, 1), got [0.9,1]');
  });

  it('keeps float32 parameters and state in float32', () => {
    const p = tensor([1, -2], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    trajectory(opt, [p], () => sum(mul(p, p)), 2);
    expect(p.dtype).toBe('float32');
    expect((opt.stateDict().state['0']!.expAvg as Tensor).dtype).toBe('float32');
    expect(Math.abs(p.data[0]! - 0.8)).toBeLessThan(0.01); // two steps of ≈ α each toward 0
  });
});

describe('stepIfFinite', () => {
  /** Gives every parameter a gradient (float32, from `seed`). */
  const setGrads = (params: Tensor[], seed: number): void => {
    params.forEach((p, k) => {
      const g = Float32Array.from({ length: p.numel() }, (_, i) => Math.sin(seed + 7 * k + i));
      p.grad = tensor(g, { shape: p.shape });
    });
  };
  const fresh = (): Tensor[] => [
    tensor(
      Array.from({ length: 1003 }, (_, i) => Math.cos(i)),
      { requiresGrad: true },
    ),
    tensor([0.5, -1, 2], { requiresGrad: true }),
  ];

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: with finite gradients it is step(), bit for bit; with one NaN or ±∞ it changes nothing and returns false`, () => {
      if (backend === 'wasm') initWasmBackend();
      setBackend(backend);
      try {
        for (const kind of ['Adam', 'AdamW', 'SGD'] as const) {
          const build = (ps: Tensor[]): Optimizer<Hyper> =>
            (kind === 'SGD'
              ? new SGD(ps, { lr: 0.1, momentum: 0.9 })
              : kind === 'Adam'
                ? new Adam(ps, { lr: 0.01 })
                : new AdamW(ps, { lr: 0.01 })) as unknown as Optimizer<Hyper>;
          const [left, right] = [fresh(), fresh()];
          const [stepper, checker] = [build(left), build(right)];
          for (let t = 0; t < 3; t++) {
            setGrads(left, t);
            setGrads(right, t);
            stepper.step();
            expect(checker.stepIfFinite()).toBe(true);
            right.forEach((p, k) => expect(Array.from(p.data)).toEqual(Array.from(left[k]!.data)));
          }
          for (const bad of [NaN, Infinity, -Infinity]) {
            for (const at of [0, 501, 1002]) {
              setGrads(right, 9);
              right[0]!.grad!.data[at] = bad;
              const before = JSON.stringify([right.map((p) => Array.from(p.data)), checker.stateDict()], (_, v) =>
                ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v,
              );
              expect(checker.stepIfFinite(), `${kind} ${bad} at ${at}`).toBe(false);
              const after = JSON.stringify([right.map((p) => Array.from(p.data)), checker.stateDict()], (_, v) =>
                ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v,
              );
              expect(after).toBe(before);
            }
          }
        }
      } finally {
        setBackend('cpu');
      }
    });
  }
});
