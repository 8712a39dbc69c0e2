/**
 * A Node built-in module, fetched at run time through `process.getBuiltinModule` (Node >= 20.16),
 * or undefined outside Node. The platform-neutral core uses this, instead of a static `node:`
 * import, for the few things Node does better (worker threads, gunzip, engine flags), so one
 * module graph runs in Node, a browser page and a worker, and bundles with no stubs.
 */
export function nodeBuiltin<T>(id: `node:${string}`): T | undefined {
  const process = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?(id: string): unknown } }).process;
  if (typeof process?.versions?.node !== 'string') return undefined;
  return process.getBuiltinModule?.(id) as T | undefined;
}
