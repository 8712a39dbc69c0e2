/**
 * `npm run build` (after tsc): writes every wasm module the backend assembles at load time to
 * `dist/wasm/`, as the WAT text it is assembled from (`.wat`, the kernels' parameters filled in)
 * and as module bytes (`.wasm`), for reading and for tools such as `wasm-objdump -d`. The backend
 * itself never reads these files: it assembles the same text in memory, so a fresh clone needs no
 * build step.
 *
 *   npx tsx src/kernels/wasm/build.ts [outDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convWat } from './conv.wat.js';
import { gemmWat, TILE } from './gemm.wat.js';
import { vectorWat } from './vector.wat.js';
import { assembleWat } from './wat.js';

/** Every module the backend can assemble, by file name: the matmul with and without FMA, the SIMD loops, the convolutions' moves; shared-memory variants. */
export function wasmModules(): Array<{ name: string; wat: string }> {
  const modules: Array<{ name: string; wat: string }> = [];
  for (const shared of [true, false]) {
    const memory = shared ? 'shared' : 'unshared';
    for (const fma of [false, true]) modules.push({ name: `gemm-${fma ? 'fma' : 'mul-add'}-${memory}`, wat: gemmWat({ shared, fma, tile: TILE }) });
    modules.push({ name: `vector-${memory}`, wat: vectorWat({ shared }) });
    modules.push({ name: `conv-${memory}`, wat: convWat({ shared }) });
  }
  return modules;
}

/** Writes each module's `.wat` and `.wasm` into `outDir`; returns the files written. */
export function writeWasmModules(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return wasmModules().flatMap(({ name, wat }) => {
    const files = [join(outDir, `${name}.wat`), join(outDir, `${name}.wasm`)];
    writeFileSync(files[0]!, wat);
    writeFileSync(files[1]!, assembleWat(wat));
    return files;
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const written = writeWasmModules(process.argv[2] ?? 'dist/wasm');
  process.stdout.write(`wrote ${written.length} files: ${written.join(', ')}\n`);
}
