/**
 * GFLOP/s of the gpu.js backend's matmul and conv kernels against the cpu reference, in Node
 * (gpu.js picks webasm there; the conv kernels also in its cpu mode) and in headless Chromium
 * (WebGL2 on SwiftShader without a GPU), on 256² and 512² squares, the VAE's first layer,
 * [128, 784]·[400, 784]ᵀ, and the conv VAE's convolutions at batch 128 (convVaeLayers); with
 * --step, also the conv VAE's training step in Chromium (gpu.js running matmul and conv, as the lab does).
 *
 *   npx tsx bench/gpujs.bench.ts            # both
 *   npx tsx bench/gpujs.bench.ts --node     # Node only
 *   npx tsx bench/gpujs.bench.ts --step     # and the conv VAE step in Chromium (minutes on SwiftShader)
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuBackend } from '../src/kernels/cpu.js';
import { createGpujsBackend } from '../src/kernels/gpujs.js';
import { bundle, CHROMIUM, openInChromium } from '../test/browser/harness.js';
import { convGflops, convVaeLayers, matmulGflops } from '../test/kernels/gpujs-checks.js';

type Row = { gpujs: number; cpu: number; mode: string };
const SHAPES: [string, number, number, number, boolean][] = [
  ['256x256x256', 256, 256, 256, false],
  ['512x512x512', 512, 512, 512, false],
  ['[128,784]x[400,784]T', 128, 784, 400, true],
];

function print(where: string, rows: Record<string, Row>): void {
  for (const [shape, r] of Object.entries(rows)) {
    console.log(
      `${where.padEnd(8)} ${r.mode.padEnd(7)} ${shape.padEnd(28)} gpujs ${r.gpujs.toFixed(2).padStart(6)} GFLOP/s   cpu reference ${r.cpu.toFixed(2).padStart(6)} GFLOP/s`,
    );
  }
}

console.log(`${new Date().toISOString()}  node ${process.version}  ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
const backend = createGpujsBackend();
const node: Record<string, Row> = {};
for (const [name, m, k, n, transB] of SHAPES) {
  node[name] = { gpujs: matmulGflops(backend, m, k, n, transB, 1000), cpu: matmulGflops(cpuBackend, m, k, n, transB, 1000), mode: backend.info().mode };
}
// The conv kernels on gpu.js's default engine here (webasm) and on its plain-JavaScript cpu mode.
const cpuMode = createGpujsBackend({ mode: 'cpu' });
const nodeCpuMode: Record<string, Row> = {};
for (const [name, [kind, layer]] of Object.entries(convVaeLayers(128))) {
  const cpu = convGflops(cpuBackend, kind, layer, 1000);
  node[name] = { gpujs: convGflops(backend, kind, layer, 1000), cpu, mode: backend.info().mode };
  nodeCpuMode[name] = { gpujs: convGflops(cpuMode, kind, layer, 1000), cpu, mode: cpuMode.info().mode };
}
backend.destroy();
cpuMode.destroy();
print('node', node);
print('node', nodeCpuMode);

if (!process.argv.includes('--node')) {
  if (!existsSync(CHROMIUM)) console.log(`chromium: skipped, ${CHROMIUM} is absent`);
  else {
    const browser = await openInChromium(await bundle('./gpujs-entry.ts'));
    try {
      await browser.page.waitForFunction(() => 'elboGpujs' in globalThis);
      type Page = {
        benchmark(): Record<string, Row>;
        convBenchmark(): Record<string, Row>;
        convVaeStep(steps: number): { msPerStep: number; warmupMs: number; mode: string };
      };
      const rows = await browser.page.evaluate(() => {
        const page = (globalThis as unknown as { elboGpujs: Page }).elboGpujs;
        return { ...page.benchmark(), ...page.convBenchmark() };
      });
      print('chromium', rows);
      if (process.argv.includes('--step')) {
        const step = await browser.page.evaluate(() => (globalThis as unknown as { elboGpujs: Page }).elboGpujs.convVaeStep(2));
        console.log(
          `chromium ${step.mode.padEnd(7)} conv VAE step, batch 128: ${(step.msPerStep / 1000).toFixed(1)} s (median of 2 after a ${(step.warmupMs / 1000).toFixed(1)} s first step)`,
        );
      }
    } finally {
      await browser.close();
    }
  }
}
