/**
 * What the wasm backend asks of the JavaScript host it runs in, without importing any `node:`
 * module, so the same code runs in Node, a browser page and a worker:
 *
 * - how many cores there are;
 * - how to start a worker thread that shares the backend's memory (Node's `worker_threads`,
 *   reached through `process.getBuiltinModule`; a Web Worker in a cross-origin-isolated page);
 * - how to turn on an engine feature before the first compile (Node 20 keeps relaxed SIMD
 *   behind a V8 flag; browsers have it on).
 */
import { nodeBuiltin } from '../../node-builtin.js';

/** What a worker gets: the compiled modules, the shared memory and its slot in the pool. */
export interface WorkerData {
  modules: readonly WebAssembly.Module[];
  memory: WebAssembly.Memory;
  slot: number;
}

/** A started worker thread, seen the same way in every host. */
export interface WorkerHandle {
  /** Calls `ready` once the worker runs, or `failed` if it cannot start or dies. */
  watch(ready: () => void, failed: () => void): void;
  /** Lets the process exit while the worker idles (Node); no-op elsewhere. */
  unref(): void;
  /** Keeps the process alive while the worker runs (Node); no-op elsewhere. */
  ref(): void;
  terminate(): Promise<unknown>;
}

/** The host the wasm backend runs in. */
export interface WasmHost {
  /** 'node', 'web' (a page or a worker with Web Workers), or 'other'. */
  readonly kind: 'node' | 'web' | 'other';
  /** Logical cores (1 when the host does not say). */
  cores(): number;
  /**
   * Starts a worker thread running `body` (JavaScript that receives the {@link WorkerData} as
   * `workerData` and calls `ready()` once it has instantiated the modules); undefined when this
   * host cannot start threads, with the reason in {@link WasmHost.noThreads}.
   */
  startWorker?(body: string, data: WorkerData): WorkerHandle;
  /** Why this host runs one thread, when it does. */
  readonly noThreads?: string;
  /** Whether the calling thread may block in `Atomics.wait` (not a browser's main thread). */
  readonly canBlock: boolean;
  /** Turns on Node 20's relaxed-SIMD flag before the first compile; undefined elsewhere. */
  enableRelaxedSimd?(): void;
}

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
}
interface NodeWorker {
  once(event: string, listener: () => void): void;
  unref(): void;
  ref(): void;
  terminate(): Promise<number>;
}
type NodeWorkerClass = new (source: string, options: { eval: true; workerData: WorkerData }) => NodeWorker;

const nodeProcess = (globalThis as { process?: NodeProcess }).process;

/** Whether `Atomics.wait` may be called on this thread (browsers forbid it on the main thread). */
function blockingAllowed(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // returns 'not-equal' at once where allowed
    return true;
  } catch {
    return false;
  }
}

function nodeHost(process: NodeProcess): WasmHost {
  const threads = nodeBuiltin<{ Worker: NodeWorkerClass }>('node:worker_threads');
  const os = nodeBuiltin<{ availableParallelism(): number }>('node:os');
  const v8 = nodeBuiltin<{ setFlagsFromString(flag: string): void }>('node:v8');
  const host: WasmHost = {
    kind: 'node',
    cores: () => os?.availableParallelism() ?? 1,
    canBlock: true,
    ...(threads
      ? {
          startWorker(body: string, data: WorkerData): WorkerHandle {
            const source = `const { workerData, parentPort } = require('node:worker_threads');\nconst ready = () => parentPort.postMessage('ready');\n${body}`;
            const worker = new threads.Worker(source, { eval: true, workerData: data });
            return {
              watch(ready, failed) {
                worker.once('message', ready);
                worker.once('error', failed);
                worker.once('exit', ready); // only the boot's wait ends; the slot's state says the rest
              },
              unref: () => worker.unref(),
              ref: () => worker.ref(),
              terminate: () => worker.terminate(),
            };
          },
        }
      : { noThreads: 'this Node has no process.getBuiltinModule (Node >= 20.16 has it)' }),
    ...(v8 && process.env?.['ELBO_RELAXED_SIMD'] !== '0' ? { enableRelaxedSimd: () => v8.setFlagsFromString('--experimental-wasm-relaxed-simd') } : {}),
  };
  return host;
}

interface WebWorker {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  terminate(): void;
}
type WebWorkerClass = new (url: string) => WebWorker;

function webHost(): WasmHost {
  const scope = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    crossOriginIsolated?: boolean;
    Worker?: WebWorkerClass;
    Blob?: typeof Blob;
    URL?: typeof URL;
  };
  const cores = (): number => scope.navigator?.hardwareConcurrency ?? 1;
  const canBlock = blockingAllowed();
  const Worker = scope.Worker;
  const noThreads = !Worker
    ? 'this host has no Web Workers'
    : scope.crossOriginIsolated !== true
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so it cannot share memory with workers'
      : undefined;
  if (noThreads !== undefined || !Worker) return { kind: Worker ? 'web' : 'other', cores, canBlock, noThreads };
  return {
    kind: 'web',
    cores,
    canBlock,
    startWorker(body: string, data: WorkerData): WorkerHandle {
      const source = `self.onmessage = (event) => {\nself.onmessage = null;\nconst workerData = event.data;\nconst ready = () => self.postMessage('ready');\n${body}\n};`;
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const worker = new Worker(url);
      worker.postMessage(data);
      return {
        watch(ready, failed) {
          worker.addEventListener('message', ready);
          worker.addEventListener('error', failed);
        },
        unref: () => undefined,
        ref: () => undefined,
        terminate: async () => {
          worker.terminate();
          URL.revokeObjectURL(url);
        },
      };
    },
  };
}

let current: WasmHost | undefined;

/** The host this code runs in (detected once). */
export function wasmHost(): WasmHost {
  current ??= typeof nodeProcess?.versions?.node === 'string' ? nodeHost(nodeProcess) : webHost();
  return current;
}
