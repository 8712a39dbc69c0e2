import { listBackends, setBackend, type Backend } from './index.js';
import { initWasmBackend, wasmInfo } from './wasm/index.js';
import { registerGpujsBackend } from './gpujs.js';

/** The backends `useBackend` knows, in the order the default rule tries them. */
export const BACKEND_NAMES = ['wasm', 'gpujs', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * Activates a float32 backend by name, creating it on first use, and returns it.
 *
 * The default (`name` omitted) is the fastest available, by this rule: 'wasm' when the engine has
 * 128-bit WebAssembly SIMD (hand-written SIMD matmul on every core, measured 30-40 GFLOP/s per
 * core here), else 'cpu'. 'gpujs' is never chosen by default: in Node it runs in its webasm/cpu
 * modes at about 1 GFLOP/s; pick it explicitly (in a browser with a real GPU it is the one to use).
 * float64 tensors always run on the 'cpu' reference, whatever is active.
 */
export function useBackend(name?: BackendName): Backend {
  const chosen = name ?? (wasmInfo().simd ? 'wasm' : 'cpu');
  if (chosen === 'wasm') {
    if (!wasmInfo().simd) throw new Error('useBackend: this JavaScript engine has no WebAssembly SIMD, which the wasm backend needs');
    initWasmBackend();
  } else if (chosen === 'gpujs' && !listBackends().includes('gpujs')) {
    registerGpujsBackend();
  } else if (!BACKEND_NAMES.includes(chosen)) {
    throw new Error(`useBackend: unknown backend '${String(chosen)}' (choose ${BACKEND_NAMES.join(', ')})`);
  }
  return setBackend(chosen);
}

