import { afterAll, describe, expect, it } from 'vitest';
import { batchTensor, batches } from '../../src/data/batches.js';
import { setBackend, useBackend } from '../../src/kernels/index.js';
import { initWasmBackend } from '../../src/kernels/wasm/index.js';
import { randn } from '../../src/tensor/create.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { elbo } from '../../src/vae/elbo.js';
import { VAE } from '../../src/vae/model.js';
import { smallMnist } from '../vae/fixtures.js';

/**
 * The conv VAE end to end on the wasm backend: its loss and every parameter's gradient, in
 * float32 through the wasm conv kernels (forward, both input gradients, both weight gradients),
 * against the same model in float64 on the cpu reference. float32 rounding (u = 2⁻²⁴) of sums
 * of up to ~6,000 products keeps each gradient's relative error near 1e-7 (measured: at most
 * 3e-7), well below the 1e-5 asked; a wrong index anywhere gives errors of order 1.
 */
describe('the conv VAE on wasm', () => {
  afterAll(() => setBackend('cpu'));

  it('has the float64 reference loss and gradients (relative error < 1e-5 per parameter)', async () => {
    await initWasmBackend().ready();
    const digits = batchTensor(batches(smallMnist().train, { batchSize: 8 }).next().value!);
    const x64 = new Tensor(Float64Array.from(digits.data), digits.shape);
    const eps64 = randn([8, 20], { rng: new Generator(5), dtype: 'float64' });
    const run = (dtype: 'float32' | 'float64'): { loss: number; grads: Map<string, Float64Array> } => {
      const model = new VAE({ inputDim: 784, arch: 'conv', seed: 3, dtype: 'float64' });
      const cast = (t: Tensor): Tensor => (dtype === 'float64' ? t : new Tensor(Float32Array.from(t.data), t.shape));
      const params = [...model.namedParameters()];
      if (dtype === 'float32') {
        // The same initial values, rounded once to float32.
        const model32 = new VAE({ inputDim: 784, arch: 'conv', seed: 3, dtype: 'float32' });
        for (const [[, p32], [, p64]] of [...model32.namedParameters()].map((e, i) => [e, params[i]!] as const)) p32.data.set(Float32Array.from(p64.data));
        return grads(model32, cast(x64), cast(eps64));
      }
      return grads(model, x64, eps64);
    };
    const grads = (model: VAE, x: Tensor, eps: Tensor): { loss: number; grads: Map<string, Float64Array> } => {
      const { loss } = elbo(model, x, { eps });
      loss.backward();
      return { loss: loss.item(), grads: new Map([...model.namedParameters()].map(([name, p]) => [name, Float64Array.from(p.grad!.data)])) };
    };
    setBackend('cpu');
    const reference = run('float64');
    useBackend('wasm');
    const got = run('float32');
    setBackend('cpu');
    expect(Math.abs(got.loss - reference.loss) / Math.abs(reference.loss)).toBeLessThan(1e-5);
    for (const [name, want] of reference.grads) {
      const have = got.grads.get(name)!;
      let diff = 0;
      let norm = 0;
      want.forEach((w, i) => {
        diff += (have[i]! - w) ** 2;
        norm += w * w;
      });
      expect(Math.sqrt(diff / norm), name).toBeLessThan(1e-5);
    }
  });
});
