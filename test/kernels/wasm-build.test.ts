import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wasmModules, writeWasmModules } from '../../src/kernels/wasm/build.js';
import { compileGemm } from '../../src/kernels/wasm/matmul.js';
import { assembleWat } from '../../src/kernels/wasm/wat.js';

/** `npm run build` writes the kernels the backend assembles at load time, as WAT and as bytes. */
describe('the wasm build (npm run build)', () => {
  it('writes a .wat and a .wasm per module; the bytes are the assembled text and validate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-wasm-'));
    const written = writeWasmModules(dir);
    const names = wasmModules().map((m) => m.name);
    expect(names).toEqual([
      'gemm-mul-add-shared',
      'gemm-fma-shared',
      'vector-shared',
      'conv-shared',
      'gemm-mul-add-unshared',
      'gemm-fma-unshared',
      'vector-unshared',
      'conv-unshared',
    ]);
    expect(readdirSync(dir).sort()).toEqual(names.flatMap((n) => [`${n}.wasm`, `${n}.wat`]).sort());
    expect(written).toHaveLength(16);
    const fma = compileGemm(true, true) !== undefined; // turns relaxed SIMD on where the engine can
    for (const name of names) {
      const bytes = readFileSync(join(dir, `${name}.wasm`));
      expect(Array.from(assembleWat(readFileSync(join(dir, `${name}.wat`), 'utf8')))).toEqual(Array.from(bytes));
      if (!name.includes('fma') || fma) expect(WebAssembly.validate(bytes), name).toBe(true);
    }
  });
});
