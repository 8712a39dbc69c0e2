import type { DType } from '../tensor/dtype.js';
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu.js';
import { initWasmBackend, wasmInfo } from './wasm/index.js';

export type { AdamStep, Backend, BinaryOp, Conv2dDims, Fused, Kernels, MatmulDims, Memory, ReduceOp, UnaryOp } from './backend.js';
export { cpuBackend, type CpuBackend } from './cpu.js';

/** The backends {@link useBackend} knows by name, in the order the default rule prefers them. */
export const BACKEND_NAMES = ['wasm', 'gpujs', 'cpu'] as const;
/** A name {@link useBackend} knows. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Whether a backend can run here, and why not when it cannot. */
export interface BackendAvailability {
  name: string;
  available: boolean;
  /** Why it is not available (absent when it is). */
  reason?: string;
}

const registry = new Map<string, Backend>([['cpu', cpuBackend]]);
/** The backend float32 ops run on; chosen by the default rule at the first op when nobody chose. */
let active: Backend | undefined;

/** Makes a backend available to {@link useBackend} under its name. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/**
 * The backend every float32 op runs its kernels on. Unless {@link useBackend} chose one, the
 * first call picks the fastest available (see {@link useBackend}).
 */
export function getBackend(): Backend {
  active ??= useBackend();
  return active;
}

/** The backend a tensor of `dtype` runs on: the active one for float32, the cpu reference for float64. */
export function backendFor(dtype: DType): Backend {
  return dtype === 'float64' ? cpuBackend : (active ?? getBackend());
}

/** Each backend {@link useBackend} knows or was given, whether it can run here, and why not. */
export function availableBackends(): BackendAvailability[] {
  const wasm = wasmInfo();
  const known: BackendAvailability[] = [
    wasm.simd || registry.has('wasm')
      ? { name: 'wasm', available: true }
      : { name: 'wasm', available: false, reason: 'wasm needs WebAssembly SIMD, which this JavaScript engine lacks' },
    registry.has('gpujs')
      ? { name: 'gpujs', available: true }
      : { name: 'gpujs', available: false, reason: "gpujs is registered by registerGpujsBackend() from 'elbo/gpujs'" },
    { name: 'cpu', available: true },
  ];
  const custom = [...registry.keys()].filter((name) => !known.some((k) => k.name === name)).map((name) => ({ name, available: true }));
  return [...known, ...custom];
}

/**
 * Activates a float32 backend by name, creating it on first use, and returns it.
 *
 * Without a name (and at the first op, when nobody chose), the fastest available is picked:
 * 'wasm' when the engine has 128-bit WebAssembly SIMD (hand-written SIMD products, on every core
 * where threads can share memory: Node, or a cross-origin-isolated page), else 'cpu'. 'gpujs'
 * is never picked by default (in Node it runs in software); register it from 'elbo/gpujs' and
 * choose it by name. float64 tensors always run on the 'cpu' reference, whatever is active.
 *
 * @example
 * useBackend('cpu');  // the plain-JavaScript reference
 * useBackend();       // back to the fastest available
 */
export function useBackend(name?: string): Backend {
  const all = availableBackends();
  const chosen = name ?? (all[0]!.available ? 'wasm' : 'cpu');
  const entry = all.find((b) => b.name === chosen);
  const listing = all.map((b) => (b.available ? b.name : `${b.name} (no: ${b.reason})`)).join('; ');
  if (!entry) throw new Error(`useBackend: unknown backend '${chosen}' (backends: ${listing})`);
  if (!entry.available) throw new Error(`useBackend: '${chosen}' is not available here: ${entry.reason} (backends: ${listing})`);
  if (!registry.has(chosen) && chosen === 'wasm') initWasmBackend(); // registers itself
  active = registry.get(chosen)!;
  return active;
}

/** Switches the active backend by name; the same as {@link useBackend}. */
export const setBackend = (name: string): Backend => useBackend(name);

/** Names of the registered backends (those created so far, and those given to {@link registerBackend}). */
export function listBackends(): string[] {
  return [...registry.keys()];
}
