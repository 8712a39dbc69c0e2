import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { packDigits } from './build/digits.js';

/**
 * The VAE lab: a static app built from web/ into dist-web/ (`npm run build:web`), served by
 * `elbo serve`. The page and its workers import the engine's modules from src/ directly.
 */

/**
 * A few engine modules import Node built-ins at the top (safetensors.ts: node:fs for
 * loadSafetensors; the wasm backend: node:os and node:worker_threads for its thread pool) although
 * the functions the lab calls never reach them. In the browser bundle each such import resolves
 * to a stub whose functions throw a clear error if one were ever called.
 */
const NODE_EXPORTS: Record<string, string[]> = {
  fs: ['readFileSync', 'writeFileSync', 'existsSync', 'mkdirSync', 'statSync', 'readdirSync', 'openSync', 'closeSync', 'fsyncSync', 'renameSync', 'unlinkSync', 'writeSync'],
  path: ['join', 'dirname', 'basename', 'resolve'],
  os: ['availableParallelism', 'cpus'],
  worker_threads: ['Worker'],
  zlib: ['gzipSync', 'gunzipSync', 'deflateSync', 'inflateSync'],
  crypto: ['randomBytes'],
  module: ['createRequire'],
  url: ['fileURLToPath'],
  v8: ['setFlagsFromString'],
};
const STUB = '\0node-stub:';

function nodeStubs(): Plugin {
  return {
    name: 'elbo-node-stubs',
    enforce: 'pre',
    resolveId: (source) => (source.startsWith('node:') ? STUB + source.slice(5) : null),
    load(id) {
      if (!id.startsWith(STUB)) return null;
      const name = id.slice(STUB.length);
      const lines = (NODE_EXPORTS[name] ?? []).map((f) =>
        f === 'availableParallelism'
          ? 'export const availableParallelism = () => navigator.hardwareConcurrency || 1;'
          : f === 'setFlagsFromString'
            ? 'export function setFlagsFromString() {}' // engine flags are the browser's own
            : `export function ${f}() { throw new Error('node:${name} ${f}() is not available in the browser'); }`,
      );
      return [...lines, 'export default {};'].join('\n');
    },
  };
}

/** Emits the bundled digits as `digits.bin` (see build/digits.ts), and serves it in `vite dev`. */
function digitsAsset(): Plugin {
  let bytes: Uint8Array | undefined;
  const digits = (): Uint8Array => (bytes ??= packDigits());
  return {
    name: 'elbo-digits',
    configureServer(server) {
      server.middlewares.use('/digits.bin', (_request, response) => {
        response.setHeader('content-type', 'application/octet-stream');
        response.end(digits());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'digits.bin', source: digits() });
    },
  };
}

/** Cross-origin isolation, so the page may share memory with its workers (the WebGPU bridge). */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [nodeStubs(), digitsAsset()],
  worker: { format: 'es', plugins: () => [nodeStubs()] },
  build: { outDir: fileURLToPath(new URL('../dist-web', import.meta.url)), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4000 },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
