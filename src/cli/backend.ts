import { gpujsInfo, registerGpujsBackend } from '../kernels/gpujs.js';
import { BACKEND_NAMES, type BackendName, useBackend } from '../kernels/index.js';
import { wasmInfo } from '../kernels/wasm/index.js';
import { choice } from './args.js';

export const BACKEND_FLAG = `  --backend NAME        float32 kernels: wasm (SIMD, all cores; the default where available), gpujs, cpu (reference)`;

/** Activates the backend named by --backend (or the default rule's) and describes it in one phrase. */
export async function selectBackend(flag: string | boolean | undefined): Promise<string> {
  const name = flag === undefined ? undefined : choice<BackendName>('backend', flag, 'wasm', BACKEND_NAMES);
  if (name === 'gpujs') registerGpujsBackend();
  return describeBackend(useBackend(name).name);
}

/** e.g. "wasm (SIMD, 2 threads)", "gpujs (webasm mode)", "cpu". */
export function describeBackend(name: string): string {
  if (name === 'wasm') {
    const info = wasmInfo();
    return `wasm (SIMD${info.relaxedSimd ? ' + relaxed FMA' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
  }
  if (name === 'gpujs') return `gpujs (${gpujsInfo().mode} mode)`;
  return name;
}
