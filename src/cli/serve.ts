import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.map': 'application/json',
};

/**
 * The policy the lab runs under: its own scripts, workers and styles only; WebAssembly and the
 * kernels gpu.js compiles at run time ('wasm-unsafe-eval', 'unsafe-eval'); pictures drawn from
 * data: and blob: URLs; no plugins, no framing, no forms, no <base>.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The headers every response carries: cross-origin isolation (so the page may share memory with
 * its workers, which the WebGPU backend needs), no caching of a rebuilt app, no MIME sniffing,
 * and the content security policy.
 */
const HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'content-security-policy': CONTENT_SECURITY_POLICY,
};

/** A running static server: its URL and a way to stop it. */
export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A plain-text answer with the common headers; the body never echoes what the client sent. */
function answer(response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra }).end(`${text}\n`);
}

/** The Host names this server answers to, for the port it listens on (DNS rebinding sends others). */
const allowedHosts = (port: number): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);

/**
 * Answers one request: the Host header checked, the path decoded and confined to `root`, the
 * file streamed asynchronously. A failure to read is a 500 (or, once the headers are out, a
 * closed connection); it never reaches the server.
 */
async function handle(request: IncomingMessage, response: ServerResponse, root: string, hosts: () => Set<string>): Promise<void> {
  if (!hosts().has((request.headers.host ?? '').toLowerCase()))
    return answer(response, 421, 'misdirected request: this server answers to 127.0.0.1 and localhost only');
  if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    return answer(response, 400, 'bad request: the path is not valid percent-encoding');
  }
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  const info = file.startsWith(root) && !path.includes('\0') ? await stat(file).catch(() => null) : null;
  if (!info?.isFile()) return answer(response, 404, 'not found');
  const head = { ...HEADERS, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': String(info.size) };
  if (request.method === 'HEAD') return void response.writeHead(200, head).end();
  // The status line waits for the first bytes, so a file that cannot be read is a clean 500.
  const stream = createReadStream(file);
  let started = false;
  const start = (): void => {
    if (!started) response.writeHead(200, head);
    started = true;
  };
  await new Promise<void>((resolve) => {
    stream.on('data', (chunk) => {
      start();
      if (!response.write(chunk)) {
        stream.pause();
        response.once('drain', () => stream.resume());
      }
    });
    stream.once('end', () => {
      start();
      response.end();
      resolve();
    });
    stream.once('error', () => {
      if (!started) answer(response, 500, 'internal error: the file could not be read');
      else response.destroy(); // mid-body: the client sees a cut connection, not a wrong file
      resolve();
    });
    response.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}

/**
 * Serves the files under `dir` (GET and HEAD only, nothing outside `dir`) on 127.0.0.1:`port`,
 * to requests whose Host is 127.0.0.1 or localhost at that port; every read is asynchronous and
 * a failed one is a 500, so one bad file cannot stop the server.
 */
export async function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const root = normalize(dir + sep);
  let hosts = allowedHosts(port);
  const server = createServer((request, response) => {
    handle(request, response, root, () => hosts).catch(() => {
      if (!response.headersSent) answer(response, 500, 'internal error');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is in use; pass another --port (0 picks a free one)`) : error),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  hosts = allowedHosts(bound);
  const url = `http://127.0.0.1:${bound}/`;
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
