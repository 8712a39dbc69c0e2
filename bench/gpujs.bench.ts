/**
 * GFLOP/s of the gpu.js backend's matmul against the cpu reference, in Node (gpu.js picks
 * webasm there) and in headless Chromium (WebGL2 on SwiftShader without a GPU), on 256² and
 * 512² squares and the VAE's first layer, [128, 784]·[400, 784]ᵀ.
 *
 *   npx tsx bench/gpujs.bench.ts            # both
 *   npx tsx bench/gpujs.bench.ts --node     # Node only
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuBackend } from '../src/kernels/cpu.js';
import { createGpujsBackend } from '../src/kernels/gpujs.js';
import { bundle, CHROMIUM, openInChromium } from '../test/browser/harness.js';
import { matmulGflops } from '../test/kernels/gpujs-checks.js';

type Row = { gpujs: number; cpu: number; mode: string };
const SHAPES: [string, number, number, number, boolean][] = [
  ['256x256x256', 256, 256, 256, false],
  ['512x512x512', 512, 512, 512, false],
  ['[128,784]x[400,784]T', 128, 784, 400, true],
];

function print(where: string, rows: Record<string, Row>): void {
  for (const [shape, r] of Object.entries(rows)) {
    console.log(
      `${where.padEnd(8)} ${r.mode.padEnd(7)} ${shape.padEnd(22)} gpujs ${r.gpujs.toFixed(2).padStart(6)} GFLOP/s   cpu reference ${r.cpu.toFixed(2).padStart(6)} GFLOP/s`,
    );
  }
}

console.log(`${new Date().toISOString()}  node ${process.version}  ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
const backend = createGpujsBackend();
const node: Record<string, Row> = {};
for (const [name, m, k, n, transB] of SHAPES) {
  node[name] = { gpujs: matmulGflops(backend, m, k, n, transB, 1000), cpu: matmulGflops(cpuBackend, m, k, n, transB, 1000), mode: backend.info().mode };
}
backend.destroy();
print('node', node);

if (!process.argv.includes('--node')) {
  if (!existsSync(CHROMIUM)) console.log(`chromium: skipped, ${CHROMIUM} is absent`);
  else {
    const browser = await openInChromium(await bundle('./gpujs-entry.ts'));
    try {
      await browser.page.waitForFunction(() => 'elboGpujs' in globalThis);
      const rows = await browser.page.evaluate(() => (globalThis as unknown as { elboGpujs: { benchmark(): Record<string, Row> } }).elboGpujs.benchmark());
      print('chromium', rows);
    } finally {
      await browser.close();
    }
  }
}
