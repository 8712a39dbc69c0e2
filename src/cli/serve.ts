import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, parse } from './args.js';

const HELP = `elbo serve: the VAE lab in the browser (train, watch and probe a VAE in a web page)

Usage: elbo serve [--port N]

  --port N     the port on 127.0.0.1 (default 8765; 0 picks a free one)
  -h, --help   this help

Serves the web app built into dist-web/ by 'npm run build:web' (built first when it is missing
and Vite is installed), and prints its URL. Ctrl-C stops it.
`;

/** The package root: src/cli/ and dist/cli/ both sit two folders below it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run build:web` puts the app. */
export const WEB_DIR = join(ROOT, 'dist-web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.map': 'application/json',
};

/**
 * The headers every response carries: cross-origin isolation (so the page may share memory with
 * its workers, which the WebGPU backend needs) and no caching of a rebuilt app.
 */
const HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-cache' };

/** A running static server: its URL and a way to stop it. */
export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the files under `dir` (GET and HEAD only, nothing outside `dir`) on 127.0.0.1:`port`. */
export async function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const root = normalize(dir + sep);
  const server = createServer((request, response) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      response.writeHead(400, { ...HEADERS, 'content-type': 'text/plain' }).end('bad request: the path is not valid percent-encoding\n');
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const found = file.startsWith(root) && existsSync(file) && statSync(file).isFile();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...HEADERS, allow: 'GET, HEAD' }).end();
    } else if (!found) {
      response.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
    } else {
      const body = readFileSync(file);
      response.writeHead(200, { ...HEADERS, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      response.end(request.method === 'HEAD' ? undefined : body);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is in use; pass another --port (0 picks a free one)`) : error));
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Builds the web app with Vite (a dev dependency) when dist-web/ holds none. */
async function ensureBuilt(): Promise<void> {
  if (existsSync(join(WEB_DIR, 'index.html'))) return;
  const config = join(ROOT, 'web', 'vite.config.ts');
  let vite: typeof import('vite');
  try {
    if (!existsSync(config)) throw new Error('no web/ sources');
    vite = await import('vite');
  } catch {
    throw new Error(`no web app in ${WEB_DIR}: run 'npm run build:web' first (in a checkout, after npm install)`);
  }
  process.stdout.write(`building the web app into ${WEB_DIR} (npm run build:web) ...\n`);
  await vite.build({ configFile: config, logLevel: 'warn' });
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parse('serve', argv, { port: { type: 'string' } });
  if (values.help) return void process.stdout.write(HELP);
  const port = int('port', values.port, 8765, 0, 65535);
  await ensureBuilt();
  const { url } = await serveStatic(WEB_DIR, port);
  process.stdout.write(`elbo lab: ${url}  (serving ${WEB_DIR}; Ctrl-C to stop)\n`);
}
