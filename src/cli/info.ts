import { availableParallelism, cpus } from 'node:os';
import { createGpujsBackend } from '../kernels/gpujs.js';
import { wasmInfo } from '../kernels/wasm/index.js';
import { useBackend } from '../kernels/index.js';
import { parse } from './args.js';

export async function infoCommand(argv: string[]): Promise<void> {
  const { values } = parse('info', argv, {});
  if (values.help)
    return void process.stdout.write('elbo info: versions, cores and kernel backends\n\nUsage: elbo info\n\n  -h, --help            this help\n');
  const wasm = wasmInfo();
  // Build and run one tiny gpu.js kernel so the mode reported is the one gpu.js really runs in.
  const gpujs = createGpujsBackend();
  const out = new Float32Array(4);
  gpujs.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), out, {
    batch: 1,
    m: 2,
    k: 2,
    n: 2,
    transA: false,
    transB: false,
    aBatchStride: 0,
    bBatchStride: 0,
  });
  const gpuMode = gpujs.info().mode;
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
