import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abs, add, binaryCrossEntropyWithLogits, matmul, matmulPrim, sum } from '../../src/autograd/ops.js';
import { noGrad } from '../../src/autograd/engine.js';
import { getBackend, setBackend } from '../../src/kernels/index.js';
import { gpujsInfo, registerGpujsBackend } from '../../src/kernels/gpujs.js';
import { Linear } from '../../src/nn/linear.js';
import { rand } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { C_MATMUL, C_REDUCE, C_UNARY, U } from './gpujs-checks.js';

/**
 * Real ops through the engine with setBackend('gpujs'): float32 results (forward and gradients)
 * against the same computation in float64, which always runs on the cpu reference. Each bound
 * is the float32 one of the kernel that produced the value (see gpujs-checks.ts), evaluated on
 * the float64 magnitudes: a product over k terms is within C_MATMUL·k·u·(|A|·|B|).
 */
beforeAll(() => {
  registerGpujsBackend();
  setBackend('gpujs');
});
afterAll(() => {
  setBackend('cpu');
});

const f64 = (t: Tensor, requiresGrad = false): Tensor => new Tensor(Float64Array.from(t.data), t.shape, { requiresGrad });

/** Asserts |got − want| ≤ bound elementwise (got float32 from gpujs, want and bound float64). */
function within(what: string, got: Tensor, want: Tensor, bound: Tensor): void {
  expect(got.shape, what).toEqual(want.shape);
  let worst = 0;
  let at = -1;
  got.data.forEach((g, i) => {
    const ratio = Math.abs(g - want.data[i]!) / Math.max(bound.data[i]!, 2 ** -126);
    if (!(ratio <= worst)) [worst, at] = [ratio, i];
  });
  expect(worst, `${what}: worst at [${at}]: ${got.data[at]} vs ${want.data[at]}, bound ${bound.data[at]}`).toBeLessThanOrEqual(1);
}

const scaled = (t: Tensor, c: number): Tensor =>
  new Tensor(
    t.data.map((v) => v * c),
    t.shape,
  );

describe('the engine on the gpujs backend', () => {
  it('is the active float32 backend, and float64 still runs on the cpu reference', () => {
    expect(getBackend().name).toBe('gpujs');
    const before = gpujsInfo().kernels;
    matmul(rand([3, 4], { dtype: 'float64' }), rand([4, 2], { dtype: 'float64' }));
    expect(gpujsInfo().kernels).toBe(before);
  });

  it('matmul of a batch by one shared matrix (batch stride 0, k past the loop cap) matches float64', () => {
    const rng = new Generator(11);
    const a = rand([2, 3, 5, 1100], { low: -1, high: 1, rng });
    const b = rand([1100, 4], { low: -1, high: 1, rng });
    const got = matmul(a, b);
    const want = matmul(f64(a), f64(b));
    const bound = noGrad(() => matmul(abs(f64(a)), abs(f64(b))));
    within('a @ b', got, want, scaled(bound, C_MATMUL * 1100 * U));
    expect(gpujsInfo().fallbacks).toBe(0);
  });

  it('a Linear(784 → 400) layer: forward and all gradients match float64', () => {
    const rng = new Generator(12);
    const layer = new Linear(784, 400, { rng });
    const x = rand([64, 784], { low: 0, high: 1, rng, requiresGrad: true });
    const g = rand([64, 400], { low: -1, high: 1, rng });
    const y = layer.call(x);
    y.backward(g);

    const [x64, w64, b64, g64] = [f64(x, true), f64(layer.weight, true), f64(layer.bias!, true), f64(g)];
    const y64 = add(matmulPrim(x64, w64, false, true), b64);
    y64.backward(g64);

    noGrad(() => {
      const [ax, aw, ab, ag] = [abs(x64), abs(w64), abs(b64), abs(g64)];
      within('y = x·Wᵀ + b', y, y64, scaled(add(matmulPrim(ax, aw, false, true), ab), C_MATMUL * 785 * U));
      within('∂W = gᵀ·x', layer.weight.grad!, w64.grad!, scaled(matmulPrim(ag, ax, true, false), C_MATMUL * 64 * U));
      within('∂b = Σ g', layer.bias!.grad!, b64.grad!, scaled(sum(ag, 0), C_REDUCE * 64 * U));
      within('∂x = g·W', x.grad!, x64.grad!, scaled(matmulPrim(ag, aw, false, false), C_MATMUL * 400 * U));
    });
  });

  it('binary cross-entropy with logits, summed: loss and gradient σ(x) − y match float64', () => {
    const rng = new Generator(13);
    const logits = rand([32, 49], { low: -12, high: 12, rng, requiresGrad: true });
    const targets = rand([32, 49], { low: 0, high: 1, rng });
    const loss = binaryCrossEntropyWithLogits(logits, targets, { reduction: 'sum' });
    loss.backward();
    const logits64 = f64(logits, true);
    const loss64 = binaryCrossEntropyWithLogits(logits64, f64(targets), { reduction: 'sum' });
    loss64.backward();
    noGrad(() => {
      // each term within C_UNARY·u·(|f| + |x·σ(x)| + |x·y|) ≤ C_UNARY·u·(|f| + 2|x|), then summed over n
      const n = logits.numel();
      const terms = binaryCrossEntropyWithLogits(logits64, f64(targets), { reduction: 'none' });
      const mass = sum(add(abs(terms), scaled(abs(logits64), 2))).item();
      within('loss', loss, loss64, new Tensor(Float64Array.of((C_UNARY + C_REDUCE * n) * U * mass), []));
      // σ(x) − y: a few roundings of values in [−1, 1]
      within('∂logits', logits.grad!, logits64.grad!, new Tensor(new Float64Array(n).fill(4 * C_UNARY * U), logits.shape));
    });
  });
});
