import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sourceAliases } from './aliases.js';
import { packDigits } from './build/digits.js';

/**
 * The VAE lab: a static app built from web/ into dist-web/ (`npm run build:web`), served by
 * `elbo serve`.
 */

/**
 * The lab imports the package's platform-neutral entries (`elbo`, `elbo/vae`, ...), resolved to
 * their sources (aliases.ts), so a change in src/ shows in the lab without a build of dist/. None
 * of them imports a Node built-in, so the bundle needs no stubs.
 */
const alias = sourceAliases.filter(({ find }) => !find.test('elbo/node')); // the lab is a browser app

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
  resolve: { alias },
  plugins: [digitsAsset()],
  worker: { format: 'es' },
  build: { outDir: fileURLToPath(new URL('../dist-web', import.meta.url)), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4000 },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
