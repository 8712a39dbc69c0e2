import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/engine.js';
import * as ops from '../../src/autograd/ops.js';
import { type BackendName, setBackend, useBackend } from '../../src/kernels/index.js';
import { registerGpujsBackend } from '../../src/kernels/gpujs.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { cases } from '../autograd/cases.js';
import { RUNS, SEED } from '../helpers.js';

/**
 * The same op suite on every backend: each primitive's float32 forward, run on the backend,
 * against the float64 reference on the cpu. The tolerance is derived, not guessed: to first
 * order, rounding the inputs to float32 and rounding each of the n operations that produce
 * output j perturb it by at most
 *
 *   |y32ⱼ − y64ⱼ| ≤ c · (nⱼ + 1) · u · (|yⱼ| + Σᵢ |∂yⱼ/∂xᵢ| · |xᵢ|),   u = 2⁻²⁴,
 *
 * where nⱼ counts the inputs yⱼ depends on (the terms a sum or dot product accumulates) and the
 * Jacobian comes from backward in float64. c = 2 for correctly rounded JS/WASM arithmetic;
 * c = 16 for gpu.js, whose transcendental functions are approximations (not correctly rounded).
 */
const U = 2 ** -24;
const SAFETY: Record<BackendName, number> = { cpu: 2, wasm: 2, gpujs: 16 };
const RUNS_PER_BACKEND: Record<BackendName, number> = { cpu: Math.ceil(RUNS / 2), wasm: Math.ceil(RUNS / 2), gpujs: Math.ceil(RUNS / 4) };

/** Per output element: Σᵢ |∂yⱼ/∂xᵢ|·|xᵢ| and the number of inputs yⱼ depends on. */
function sensitivity(fn: (...t: Tensor[]) => Tensor, inputs: Tensor[]): { out: Tensor; scale: Float64Array; count: Float64Array } {
  const out = fn(...inputs);
  const m = out.numel();
  const scale = new Float64Array(m);
  const count = new Float64Array(m);
  if (!out.requiresGrad) return { out, scale, count };
  for (let j = 0; j < m; j++) {
    inputs.forEach((t) => (t.grad = null));
    const seed = new Tensor(new Float64Array(m), out.shape);
    seed.data[j] = 1;
    out.backward(seed);
    for (const t of inputs) {
      if (!t.grad) continue;
      t.grad.data.forEach((g, i) => {
        scale[j]! += Math.abs(g) * Math.abs(t.data[i]!);
        if (g !== 0) count[j]!++;
      });
    }
  }
  inputs.forEach((t) => (t.grad = null));
  return { out, scale, count };
}

registerGpujsBackend();
afterAll(() => setBackend('cpu'));

for (const backend of ['cpu', 'wasm', 'gpujs'] as const) {
  describe(`${backend} backend: every primitive's float32 forward matches the float64 reference`, () => {
    for (const [name, opCase] of Object.entries(cases)) {
      it(`${name}`, () => {
        fc.assert(
          fc.property(opCase.arb, ({ inputs, fn }) => {
            setBackend('cpu');
            const { out: reference, scale, count } = sensitivity(fn, inputs);
            const inputs32 = inputs.map((t) => new Tensor(Float32Array.from(t.data), t.shape));
            useBackend(backend);
            const out = noGrad(() => fn(...inputs32));
            setBackend('cpu');
            expect(out.dtype).toBe('float32');
            expect(out.shape).toEqual(reference.shape);
            out.data.forEach((v, j) => {
              const tolerance = SAFETY[backend] * (count[j]! + 1) * U * (Math.abs(reference.data[j]!) + scale[j]!) + 1e-30;
              if (!(Math.abs(v - reference.data[j]!) <= tolerance)) {
                throw new Error(
                  `${name} on ${backend}: element ${j} is ${v}, float64 reference ${reference.data[j]} (|diff| ${Math.abs(v - reference.data[j]!)} > ${tolerance})`,
                );
              }
            });
          }),
          { numRuns: RUNS_PER_BACKEND[backend], seed: SEED },
        );
      });
    }

    it('the gradient-free masks (eq, sign, step) agree exactly', () => {
      const x = new Tensor(Float32Array.from([-2, -0, 0, 0.5, 3, NaN]), [6]);
      useBackend(backend);
      const got = [ops.eq(x, 0.5), ops.sign(x), ops.step(x)].map((t) => Array.from(t.data));
      setBackend('cpu');
      const want = [ops.eq(x, 0.5), ops.sign(x), ops.step(x)].map((t) => Array.from(t.data));
      expect(got).toEqual(want);
    });
  });
}
