import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mean, square, sub } from '../../src/autograd/ops.js';
import { randn, tensor } from '../../src/tensor/create.js';
import type { DType } from '../../src/tensor/dtype.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Linear, Sequential, Tanh } from '../../src/nn/index.js';
import { Adam, AdamW, SGD, type OptimizerStateDict } from '../../src/nn/optim/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint-file.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors-file.js';
import { loadTrainedModel } from '../../src/vae/train.js';

const dir = mkdtempSync(join(tmpdir(), 'elbo-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const makeModel = (seed: number, dtype: DType) => {
  const rng = new Generator(seed);
  return new Sequential(new Linear(3, 8, { rng, dtype }), new Tanh(), new Linear(8, 2, { rng, dtype }));
};

type Model = ReturnType<typeof makeModel>;
type Opt = { zeroGrad(): void; step(): void; stateDict(): OptimizerStateDict; loadStateDict(dict: OptimizerStateDict): void };

/** A fixed regression data set of 32 rows. */
function dataset(dtype: DType): { x: Tensor; y: Tensor } {
  const rng = new Generator(123);
  return { x: randn([32, 3], { rng, dtype }), y: randn([32, 2], { rng, dtype }) };
}

/** `steps` minibatch steps; the batch rows are drawn from `rng`, so its state matters for resuming. */
function train(model: Model, opt: Opt, rng: Generator, data: { x: Tensor; y: Tensor }, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const rows = rng.permutation(32).slice(0, 8);
    const pick = (t: Tensor) => {
      const width = t.shape[1]!;
      const out = new Tensor(t.dtype === 'float64' ? new Float64Array(8 * width) : new Float32Array(8 * width), [8, width]);
      rows.forEach((r, i) => out.data.set(t.data.subarray(r * width, (r + 1) * width), i * width));
      return out;
    };
    opt.zeroGrad();
    mean(square(sub(model.call(pick(data.x)), pick(data.y)))).backward();
    opt.step();
  }
}

const bits = (t: Tensor): number[] => [...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)];
const paramBits = (model: Model): number[][] => model.parameters().map(bits);

const optimizers: Array<[string, (m: Model) => Opt]> = [
  ['Adam', (m) => new Adam(m.parameters(), { lr: 0.01 })],
  ['AdamW', (m) => new AdamW(m.parameters(), { lr: 0.01, weightDecay: 0.1 })],
  ['SGD with nesterov momentum', (m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
];
const dtypes: DType[] = ['float32', 'float64'];

describe('checkpoints', () => {
  for (const [name, makeOpt] of optimizers) {
    for (const dtype of dtypes) {
      it(`${name}, ${dtype}: N steps, save, reload into fresh objects, M steps = N + M steps uninterrupted, bit for bit`, () => {
        const data = dataset(dtype);
        const N = 6;
        const M = 5;
        // uninterrupted run
        const straight = makeModel(1, dtype);
        const straightRng = new Generator(77);
        train(straight, makeOpt(straight), straightRng, data, N + M);
        // interrupted run
        const model = makeModel(1, dtype);
        const opt = makeOpt(model);
        const rng = new Generator(77);
        train(model, opt, rng, data, N);
        const path = join(dir, `${name}-${dtype}.safetensors`);
        saveCheckpoint(path, { model, optimizer: opt, step: N, epoch: 2, rng, config: { hidden: 8, lr: 0.01, name: 'mlp', tags: ['a'] } });
        const freshModel = makeModel(999, dtype); // different initial weights
        const freshOpt = makeOpt(freshModel);
        const freshRng = new Generator(0);
        const loaded = loadCheckpoint(path, { model: freshModel, optimizer: freshOpt, rng: freshRng });
        expect(loaded).toEqual({ step: N, epoch: 2, config: { hidden: 8, lr: 0.01, name: 'mlp', tags: ['a'] } });
        // the reload itself is bit-identical
        expect(paramBits(freshModel)).toEqual(paramBits(model));
        expect(freshRng.getState()).toEqual(rng.getState());
        const saved = opt.stateDict();
        const restored = freshOpt.stateDict();
        expect(restored.paramGroups).toEqual(saved.paramGroups);
        expect(Object.keys(restored.state)).toEqual(Object.keys(saved.state));
        for (const [i, s] of Object.entries(saved.state)) {
          for (const [k, v] of Object.entries(s)) {
            const w = restored.state[i]![k]!;
            if (v instanceof Tensor) expect(bits(w as Tensor)).toEqual(bits(v));
            else expect(w).toBe(v);
          }
        }
        // and so is the continued training
        train(freshModel, freshOpt, freshRng, data, M);
        expect(paramBits(freshModel)).toEqual(paramBits(straight));
        expect(paramBits(freshModel)).not.toEqual(paramBits(model)); // it did train on
      });
    }
  }

  it('lays the file out as model.<name>, optim.state.<i>.<key> and JSON metadata', () => {
    const model = makeModel(1, 'float32');
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    train(model, opt, new Generator(5), dataset('float32'), 1);
    const rng = new Generator(5);
    const path = join(dir, 'layout.safetensors');
    saveCheckpoint(path, { model, optimizer: opt, step: 1, rng });
    const { tensors, metadata } = loadSafetensors(path);
    expect(Object.keys(tensors).sort()).toEqual(
      [
        'model.0.weight',
        'model.0.bias',
        'model.2.weight',
        'model.2.bias',
        ...[0, 1, 2, 3].flatMap((i) => [`optim.state.${i}.expAvg`, `optim.state.${i}.expAvgSq`]),
      ].sort(),
    );
    expect(metadata.format).toBe('elbo.checkpoint');
    expect(metadata.version).toBe('1');
    expect(JSON.parse(metadata.step!)).toBe(1);
    expect(JSON.parse(metadata.rng!)).toEqual(rng.getState());
    expect(JSON.parse(metadata.optimizer!)).toEqual({
      paramGroups: [{ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0, 1, 2, 3] }],
      state: { 0: { step: 1 }, 1: { step: 1 }, 2: { step: 1 }, 3: { step: 1 } },
    });
    expect('epoch' in metadata || 'config' in metadata).toBe(false);
  });

  it('model-only checkpoints work without an optimizer or generator', () => {
    const model = makeModel(3, 'float64');
    const path = join(dir, 'model-only.safetensors');
    saveCheckpoint(path, { model, step: 0 });
    const other = makeModel(4, 'float64');
    expect(loadCheckpoint(path, { model: other })).toEqual({ step: 0 });
    expect(paramBits(other)).toEqual(paramBits(model));
    expect(() => loadCheckpoint(path, { model: other, optimizer: new SGD(other.parameters(), { lr: 1 }) })).toThrow(
      "loadCheckpoint: the checkpoint has no 'optimizer'",
    );
  });

  it('names what does not fit', () => {
    const path = join(dir, 'mismatch.safetensors');
    saveCheckpoint(path, { model: makeModel(3, 'float32'), step: 0 });
    const wider = new Sequential(new Linear(3, 9), new Tanh(), new Linear(9, 2));
    expect(() => loadCheckpoint(path, { model: wider })).toThrow("loadStateDict: size mismatch for '0.weight': expected shape [9, 3], got [8, 3]");
    const plain = join(dir, 'plain.safetensors');
    saveSafetensors(plain, { w: tensor([1]) });
    expect(() => loadCheckpoint(plain, { model: wider })).toThrow(`loadCheckpoint: ${plain} is not an elbo checkpoint (metadata format is null)`);
    expect(() => saveCheckpoint(path, { model: wider, step: 1.5 })).toThrow('encodeCheckpoint: step must be a non-negative integer, got 1.5');
  });
});

describe('loading from a path that is not a regular file', () => {
  it('refuses a FIFO or a folder before reading, instead of blocking on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-fifo-'));
    const fifo = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const model = new Sequential(new Linear(2, 1));
    expect(() => loadSafetensors(fifo)).toThrow(`${fifo} is a FIFO (named pipe), not a regular file; nothing was read`);
    expect(() => loadCheckpoint(fifo, { model })).toThrow(`${fifo} is a FIFO (named pipe), not a regular file`);
    expect(() => loadTrainedModel(fifo)).toThrow(`${fifo} is a FIFO (named pipe), not a regular file`);
    expect(() => loadSafetensors(dir)).toThrow(`${dir} is a folder, not a regular file`);
    rmSync(dir, { recursive: true });
  });
});
