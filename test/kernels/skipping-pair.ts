import { afterAll, beforeAll } from 'vitest';
import { createWasmBackend, type WasmBackend, type WasmBackendOptions } from '../../src/kernels/wasm/index.js';

/** Two wasm backends with the same options, one skipping zeros in every product and one never. */
export interface SkippingPair {
  skipping: WasmBackend;
  dense: WasmBackend;
}

/**
 * Registers, in the calling `describe`, the creation of a {@link SkippingPair} before its tests
 * and their disposal after; the returned object holds them once the tests run.
 */
export function skippingAndDense(options: WasmBackendOptions): SkippingPair {
  const pair = {} as SkippingPair;
  beforeAll(async () => {
    pair.skipping = createWasmBackend({ ...options, skipZeros: 'always' });
    pair.dense = createWasmBackend({ ...options, skipZeros: 'off' });
    await Promise.all([pair.skipping.ready(), pair.dense.ready()]);
  });
  afterAll(async () => {
    await pair.skipping.dispose();
    await pair.dense.dispose();
  });
  return pair;
}
