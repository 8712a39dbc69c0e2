import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveStatic } from '../../src/cli/serve.js';
import { testBinarization } from '../../src/vae/train.js';

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

describe('test-set binarization', () => {
  it('scores a binarized run (static or dynamic) on static binary digits, a grey-pixel run on grey pixels', () => {
    expect(testBinarization({ binarize: 'none' })).toBe('none');
    expect(testBinarization({ binarize: 'static' })).toBe('static');
    expect(testBinarization({ binarize: 'dynamic' })).toBe('static');
  });
});
