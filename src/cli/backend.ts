import { getBackend, listBackends, setBackend } from '../kernels/index.js';
import { UsageError } from './args.js';

export const BACKEND_FLAG = `  --backend NAME        kernels for float32: cpu (reference), or the fastest available (default)`;

/** Activates the backend named by --backend, or the fastest available one; returns its name. */
export async function selectBackend(flag: string | boolean | undefined): Promise<string> {
  const available = listBackends();
  if (flag === undefined) return getBackend().name;
  if (typeof flag !== 'string' || !available.includes(flag)) throw new UsageError(`--backend must be one of ${available.join(', ')}, got '${String(flag)}'`);
  return setBackend(flag).name;
}
