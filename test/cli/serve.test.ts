import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveStatic } from '../../src/cli/serve.js';
import { binarizeStatic, sampledTestSet } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { scoresAreNats, testSetFor } from '../../src/vae/train.js';

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
  const { test } = loadMnist();
  it('scores a dynamically binarized run on the test set sampled once (fixed seed), not thresholded', () => {
    const a = testSetFor({ binarize: 'dynamic' }, test);
    expect(a.images).toEqual(sampledTestSet(test).images);
    expect(a.images).toEqual(testSetFor({ binarize: 'dynamic' }, test).images); // the same digits every time
    const thresholded = binarizeStatic(test).images;
    let differ = 0;
    for (let i = 0; i < a.images.length; i++) if (a.images[i] !== thresholded[i]) differ++;
    expect(differ).toBeGreaterThan(0.02 * a.images.length);
    expect(a.images.every((v) => v === 0 || v === 1)).toBe(true);
  });
  it('thresholds a static run at 0.5 and leaves grey pixels to a grey run', () => {
    expect(testSetFor({ binarize: 'static' }, test).images).toEqual(binarizeStatic(test).images);
    expect(testSetFor({ binarize: 'none' }, test)).toBe(test);
  });
  it('calls only a density of the scored data nats: a Bernoulli decoder on grey pixels is the BCE objective', () => {
    expect(scoresAreNats({ binarize: 'none', likelihood: 'bernoulli' })).toBe(false);
    expect(scoresAreNats({ binarize: 'dynamic', likelihood: 'bernoulli' })).toBe(true);
    expect(scoresAreNats({ binarize: 'none', likelihood: 'gaussian' })).toBe(true);
  });
});
