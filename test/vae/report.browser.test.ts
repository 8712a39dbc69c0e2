import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { writePictures } from '../../src/vae/artifacts.js';
import { spreadIndices } from '../../src/vae/evaluate.js';
import { writeReport } from '../../src/vae/report.js';
import { train } from '../../src/vae/train.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/harness.js';
import { CHROMIUM as CHROMIUM_PACKAGE, has } from '../system.js';
import { selectBackend } from '../../src/cli/backend.js';

/**
 * report.html as a reader sees it: a small run written by the library (2-D latent, so every
 * picture is there), opened in headless Chromium. Its charts must be inline SVG with real text
 * that lies inside the chart; the screenshot goes to test-output/report.png, and to
 * docs/images/report.png only with ELBO_UPDATE_SCREENSHOTS=1 (its timings differ every run).
 */
const hasChromium = has(CHROMIUM_PACKAGE, 'report.html in Chromium');
const ROOT = join(import.meta.dirname, '..', '..');

describe.skipIf(!hasChromium)('report.html in Chromium', () => {
  let browser: Browser;
  let report: string;

  beforeAll(async () => {
    await selectBackend(undefined); // what elbo train uses: wasm where available
    const { train: trainSet, test } = loadMnist();
    const outDir = join(mkdtempSync(join(tmpdir(), 'elbo-report-')), 'run');
    const data = { train: subset(trainSet, spreadIndices(trainSet.n, 8000)), test: subset(test, spreadIndices(test.n, 1000)) };
    const result = train(data, { config: { hiddenDims: [256], latentDim: 2, epochs: 12, batchSize: 100, seed: 3 }, outDir });
    const pictures = writePictures(result.model, data.test, result.metrics, outDir, result.config.seed);
    report = writeReport(outDir, {
      config: result.config,
      metrics: result.metrics,
      pictures,
      notes: { backend: result.metrics[0]!.backend, node: process.version },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the charts as inline SVG with text inside them, and the pictures; screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1320, height: 900 } });
    await page.goto(pathToFileURL(report).href);
    const charts = await page.evaluate(() =>
      Array.from(document.querySelectorAll('figure.chart svg')).map((svg) => {
        const box = svg.getBoundingClientRect();
        const texts = Array.from(svg.querySelectorAll('text'));
        const outside = texts.filter((t) => {
          const r = t.getBoundingClientRect();
          return r.width === 0 || r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
        });
        return {
          title: svg.querySelector('title')?.textContent ?? '',
          texts: texts.map((t) => t.textContent ?? ''),
          outside: outside.map((t) => t.textContent),
        };
      }),
    );
    expect(charts.map((c) => c.title)).toEqual(['Test codes μ(x)', 'ELBO per example', 'Reconstruction 𝔼q(z|x)[ln p(x|z)]', 'KL(q(z|x) ‖ p(z))']);
    for (const c of charts) {
      expect(c.texts.length, c.title).toBeGreaterThan(8);
      expect(c.outside, c.title).toEqual([]);
    }
    expect(charts[1]!.texts).toEqual(expect.arrayContaining(['epoch', 'nats per example']));
    expect(charts[1]!.texts.some((t) => /^test −\d+\.\d$/.test(t))).toBe(true); // the final value, labelled directly
    const images = await page.evaluate(() => Array.from(document.querySelectorAll('figure img')).map((img) => (img as HTMLImageElement).naturalWidth));
    expect(images).toHaveLength(4); // reconstructions, samples, interpolation, manifold: pixel pictures stay PNG
    for (const w of images) expect(w).toBeGreaterThan(100);
    expect(await page.locator('th:empty').count()).toBe(0);
    const shot = join(ROOT, 'test-output', 'report.png');
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.ELBO_UPDATE_SCREENSHOTS) copyFileSync(shot, join(ROOT, 'docs', 'images', 'report.png'));
    await page.close();
  });
});
