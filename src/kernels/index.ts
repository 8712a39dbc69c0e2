import type { DType } from '../tensor/dtype.js';
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu.js';

export type { AdamStep, Backend, BinaryOp, Fused, Kernels, MatmulDims, Memory, ReduceOp, UnaryOp } from './backend.js';
export { cpuBackend } from './cpu.js';

const registry = new Map<string, Backend>([['cpu', cpuBackend]]);
let active: Backend = cpuBackend;

/** Makes a backend available to {@link setBackend} under its name. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** The backend every op runs its float32 kernels on. float64 always runs on the cpu reference. */
export function getBackend(): Backend {
  return active;
}

/** The backend a tensor of `dtype` runs on: the active one for float32, the cpu reference for float64. */
export function backendFor(dtype: DType): Backend {
  return dtype === 'float64' ? cpuBackend : active;
}

/** Switches the active backend by name ('cpu', or one registered with {@link registerBackend}). */
export function setBackend(name: string): Backend {
  const backend = registry.get(name);
  if (!backend) {
    throw new Error(`setBackend: unknown backend '${name}' (available: ${[...registry.keys()].join(', ')})`);
  }
  active = backend;
  return backend;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}
