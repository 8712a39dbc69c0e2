import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Runs TypeScript in headless Chromium: bundle an entry with esbuild (gpu.js resolves to its
 * browser build), serve it from 127.0.0.1 on an ephemeral port, open it in Debian's chromium
 * through playwright-core. Used by test/browser/*.browser.test.ts and scripts/bench-gpujs.ts.
 */

/** Where Debian's `chromium` package puts the browser (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The flags that give a headless WebGL2 context on a machine without a GPU: Chromium falls back
 * to SwiftShader (software Vulkan behind ANGLE) even with --disable-gpu; --enable-unsafe-swiftshader
 * keeps that fallback in versions that otherwise refuse it for WebGL.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Bundles `entry` (a path relative to this folder, or absolute) into one ES module for the browser. */
export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** A page in headless Chromium that has loaded the bundled script; close() frees all of it. */
export interface BrowserPage {
  page: Page;
  /** Messages the page logged (console), in order, prefixed with their type. */
  logs: string[];
  close(): Promise<void>;
}

/** Serves `script` on 127.0.0.1 and opens it in Chromium; resolves once the page has loaded it. */
export async function openInChromium(script: string): Promise<BrowserPage> {
  const html = '<!doctype html><meta charset="utf-8"><title>elbo</title><script type="module" src="/entry.js"></script>';
  const server: Server = createServer((request, response) => {
    const isScript = request.url === '/entry.js';
    response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' });
    response.end(isScript ? script : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => logs.push(`pageerror: ${error.message}`));
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
    return { page, logs, close };
  } catch (error) {
    await close();
    throw error;
  }
}
