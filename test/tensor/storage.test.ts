import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/kernels/index.js';
import { initWasmBackend } from '../../src/kernels/wasm/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Storage } from '../../src/tensor/storage.js';
import { scratchScope } from '../../src/tensor/device.js';

describe('Storage: the memory behind a tensor', () => {
  it('zero() makes it read as zeros in the same memory, filled at the first read', () => {
    const array = Float32Array.of(1, 2, 3);
    const storage = new Storage(array);
    storage.zero();
    expect(storage.zeroed).toBe(true);
    expect(array[0]).toBe(1); // not filled yet: nothing read it
    expect(Array.from(storage.array)).toEqual([0, 0, 0]);
    expect(storage.array).toBe(array);
    expect(storage.zeroed).toBe(true); // still logically zero: the next gradient may be written straight in
  });

  it('write() sets the values (no copy when they are this memory) and ends the zeroed state', () => {
    const storage = new Storage(new Float64Array(2));
    storage.zero();
    storage.write(Float64Array.of(4, 5));
    expect(storage.zeroed).toBe(false);
    expect(Array.from(storage.array)).toEqual([4, 5]);
  });

  it('writeInto offers the memory to the computation; until write() a reader still sees zeros (a backward that failed half way)', () => {
    const array = Float64Array.of(7, 7);
    const storage = new Storage(array);
    storage.zero();
    void storage.array; // filled
    const result = storage.writeInto(
      (target, fn) => cpuBackend.memory.into(target, fn),
      () => {
        const out = cpuBackend.memory.empty('float64', 2);
        out.set([8, 9]);
        return out;
      },
    );
    expect(result).toBe(array); // the computation wrote straight into this memory
    expect(Array.from(storage.array)).toEqual([0, 0]); // not written: zeros again
    storage.write(Float64Array.of(8, 9));
    expect(Array.from(storage.array)).toEqual([8, 9]);
  });
});

describe('Tensor.zero_', () => {
  it('zeroes in place: whoever holds the tensor sees zeros; numel() does not force the fill', () => {
    const t = new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2]);
    const held = t;
    t.zero_();
    expect(t.numel()).toBe(4);
    expect(Array.from(held.data)).toEqual([0, 0, 0, 0]);
  });

  it('refuses a tensor that requires a gradient, naming the op and the shape', () => {
    const w = new Tensor(Float32Array.of(1, 2), [2], { requiresGrad: true });
    expect(() => w.zero_()).toThrow('zero_: cannot change a tensor that requires a gradient in place (shape [2])');
  });
});

describe('scratch scopes', () => {
  it('scratchScope runs fn and returns its result; on wasm, long float32 results inside a scope are scratch memory, which keep() copies out', () => {
    expect(scratchScope('float64', () => 42)).toBe(42);
    const wasm = initWasmBackend();
    const inside = wasm.memory.scope(() => wasm.memory.empty('float32', 8192));
    expect(wasm.memory.isKept(inside)).toBe(true);
    expect(wasm.memory.keep(inside)).not.toBe(inside); // kept arrays live on: a scratch array is copied out
    expect(wasm.memory.persist(inside)).not.toBe(inside); // and a gradient made in a scope is copied to ordinary memory
    const ordinary = new Float32Array(8192);
    expect(wasm.memory.persist(ordinary)).toBe(ordinary);
  });
});
