import { mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, serveStatic } from '../../src/cli/serve.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP request (the Host header set by hand, as a rebinding page would send it); `abortAfter` closes after that many body bytes. */
function get(url: string, path: string, options: { host?: string; method?: string; abortAfter?: number } = {}): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (options.abortAfter !== undefined && size >= options.abortAfter) {
            req.destroy();
            resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
import { binarizeStatic, sampledTestSet } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { scoresAreNats, testSetFor } from '../../src/vae/train.js';
import { expectSameFloats } from '../helpers.js';

describe('elbo serve', () => {
  it('answers 400 to a path that is not valid percent-encoding, and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-serve-'));
    writeFileSync(join(dir, 'index.html'), '<p>lab</p>');
    const server = await serveStatic(dir, 0);
    try {
      expect((await fetch(`${server.url}%`)).status).toBe(400);
      expect((await fetch(`${server.url}%E0%A4%A`)).status).toBe(400);
      const ok = await fetch(server.url);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('<p>lab</p>');
    } finally {
      await server.close();
    }
  });
});

describe('elbo serve under load', () => {
  it('answers a few thousand mixed requests, some for files that fail to read, each well-formed, and stays up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-serve-'));
    const page = '<p>lab</p>';
    const script = 'export const x = 1;\n'.repeat(5000); // ~100 kB: streamed in several chunks
    writeFileSync(join(dir, 'index.html'), page);
    writeFileSync(join(dir, 'app.js'), script);
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), 3 * 2 ** 30); // 3 GiB, sparse: readFileSync refused it and killed the server
    symlinkSync('/proc/self/mem', join(dir, 'broken.bin')); // a regular file whose first read fails (EIO)
    const server = await serveStatic(dir, 0);
    const port = new URL(server.url).port;
    const kinds = [
      { path: '/', expect: (r: Reply) => r.status === 200 && r.body.toString() === page && r.headers['content-type'] === 'text/html; charset=utf-8' },
      { path: '/app.js', expect: (r: Reply) => r.status === 200 && r.body.toString() === script && r.headers['content-length'] === String(script.length) },
      {
        path: '/app.js',
        method: 'HEAD',
        expect: (r: Reply) => r.status === 200 && r.body.length === 0 && r.headers['content-length'] === String(script.length),
      },
      { path: '/broken.bin', expect: (r: Reply) => r.status === 500 && r.body.toString() === 'internal error: the file could not be read\n' },
      { path: '/big.bin', abortAfter: 1, expect: (r: Reply) => r.status === 200 && r.headers['content-length'] === String(3 * 2 ** 30) },
      { path: '/no/such/%3Cscript%3E', expect: (r: Reply) => r.status === 404 && r.body.toString() === 'not found\n' }, // the path is not echoed
      { path: '/../../etc/passwd', expect: (r: Reply) => r.status === 404 },
      { path: '/%E0%A4%A', expect: (r: Reply) => r.status === 400 },
      { path: '/', method: 'POST', expect: (r: Reply) => r.status === 405 && r.headers.allow === 'GET, HEAD' },
      { path: '/', host: `evil.example:${port}`, expect: (r: Reply) => r.status === 421 && !r.body.toString().includes('lab') },
      { path: '/', host: `localhost:${port}`, expect: (r: Reply) => r.status === 200 && r.body.toString() === page },
    ];
    const total = 3000;
    let next = 0;
    const failures: string[] = [];
    const counts = new Map<number, number>();
    try {
      const workers = Array.from({ length: 32 }, async () => {
        while (next < total) {
          const kind = kinds[next++ % kinds.length]!;
          const reply = await get(server.url, kind.path, kind);
          counts.set(reply.status, (counts.get(reply.status) ?? 0) + 1);
          const headersOk = reply.headers['x-content-type-options'] === 'nosniff' && reply.headers['content-security-policy'] === CONTENT_SECURITY_POLICY;
          if (!kind.expect(reply) || !headersOk)
            failures.push(`${kind.method ?? 'GET'} ${kind.path} (${kind.host ?? 'host ok'}): ${reply.status} ${reply.body.toString().slice(0, 60)}`);
        }
      });
      await Promise.all(workers);
      expect(failures.slice(0, 5)).toEqual([]);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(total);
      expect(counts.get(500)).toBeGreaterThan(200);
      const after = await get(server.url, '/');
      expect(after.status).toBe(200);
      expect(after.body.toString()).toBe(page);
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe('test-set binarization', () => {
  const { test } = loadMnist();
  it('scores a dynamically binarized run on the test set sampled once (fixed seed), not thresholded', () => {
    const a = testSetFor({ binarize: 'dynamic' }, test);
    // (element loops: toEqual walks 7.8 million pixels generically, for seconds)
    expectSameFloats(a.images, sampledTestSet(test).images, 'sampled');
    expectSameFloats(a.images, testSetFor({ binarize: 'dynamic' }, test).images, 'again'); // the same digits every time
    const thresholded = binarizeStatic(test).images;
    let differ = 0;
    for (let i = 0; i < a.images.length; i++) if (a.images[i] !== thresholded[i]) differ++;
    expect(differ).toBeGreaterThan(0.02 * a.images.length);
    expect(a.images.every((v) => v === 0 || v === 1)).toBe(true);
  });
  it('thresholds a static run at 0.5 and leaves grey pixels to a grey run', () => {
    expectSameFloats(testSetFor({ binarize: 'static' }, test).images, binarizeStatic(test).images);
    expect(testSetFor({ binarize: 'none' }, test)).toBe(test);
  });
  it('calls only a density of the scored data nats: a Bernoulli decoder on grey pixels is the BCE objective', () => {
    expect(scoresAreNats({ binarize: 'none', likelihood: 'bernoulli' })).toBe(false);
    expect(scoresAreNats({ binarize: 'dynamic', likelihood: 'bernoulli' })).toBe(true);
    expect(scoresAreNats({ binarize: 'none', likelihood: 'gaussian' })).toBe(true);
  });
});
