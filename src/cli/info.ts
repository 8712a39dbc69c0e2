import { availableParallelism, cpus } from 'node:os';
import { createGpujsBackend, probeGpujsMode } from '../kernels/gpujs.js';
import { wasmInfo } from '../kernels/wasm/index.js';
import { useBackend } from '../kernels/index.js';
import { parse } from './args.js';

export async function infoCommand(argv: string[]): Promise<void> {
  const { values } = parse('info', argv, {});
  if (values.help)
    return void process.stdout.write('elbo info: versions, cores and kernel backends\n\nUsage: elbo info\n\n  -h, --help            this help\n');
  const wasm = wasmInfo();
  const gpujs = createGpujsBackend();
  const gpuMode = probeGpujsMode(gpujs); // the mode gpu.js really runs in here
  gpujs.destroy();
  const lines = [
    `node ${process.version} (${process.platform}/${process.arch})`,
    `cores: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown cpu'})`,
    `wasm backend: ${wasm.simd ? `available, SIMD, ${wasm.threads} thread${wasm.threads === 1 ? '' : 's'}${wasm.relaxedSimd ? ', relaxed-SIMD FMA' : ''}` : 'unavailable (no WebAssembly SIMD)'}`,
    `gpujs backend: runs in gpu.js '${gpuMode}' mode here`,
    `cpu backend: the float32/float64 reference`,
    `default: ${useBackend().name} (float64 always runs on cpu)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
