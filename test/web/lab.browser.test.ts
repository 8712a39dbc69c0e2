import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type StaticServer } from '../../src/cli/serve.js';
import { subset } from '../../src/data/dataset.js';
import { sampledTestSet } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { tensor, zeros } from '../../src/tensor/create.js';
import { spreadIndices } from '../../src/vae/evaluate.js';
import { loadTrainedModel, train } from '../../src/vae/train.js';
import { compareBounds } from '../../web/src/bounds.js';
import type { LabHook } from '../../web/src/protocol.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/harness.js';
import { CHROMIUM as CHROMIUM_PACKAGE, has } from '../system.js';

/**
 * The VAE lab end to end: build web/ with Vite, serve it with `elbo serve`'s server, drive it in
 * headless Chromium (gpu.js gets WebGL2 and WebGPU an adapter from SwiftShader), and check what
 * the page shows against the library in Node. Screenshots go to test-output/web/.
 */
const hasChromium = has(CHROMIUM_PACKAGE, 'the VAE lab in Chromium');

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test-output', 'web');
type Lab = LabHook;
type LabState = ReturnType<Lab['state']>;
/** Test digits compared between the page and the library. */
const DIGITS = [0, 7, 250, 999, 1500, 1999];

describe.skipIf(!hasChromium)('the VAE lab in Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let checkpoint: string;
  const logs: string[] = [];
  const state = (): Promise<LabState> => page.evaluate(() => (window as unknown as { elboLab: Lab }).elboLab.state());
  const until = (what: string, test: (s: LabState) => boolean, timeout = 60_000): Promise<LabState> =>
    expect
      .poll(
        async () => {
          const s = await state();
          return test(s) ? s : null;
        },
        { timeout, interval: 250, message: `${what} (page log: ${logs.slice(-5).join(' | ')})` },
      )
      .toBeTruthy()
      .then(state);
  const setBackend = async (name: string): Promise<LabState> => {
    await page.selectOption('#backend', name);
    const s = await until(`backend ${name}`, (s) => s.status?.backend === name && s.check?.backend === name);
    expect(s.check!.worst, `${name} matmul error / float32 bound`).toBeLessThanOrEqual(1);
    return s;
  };
  /** How many distinct colours each canvas shows (a blank canvas has one). */
  const colours = (ids: string[]): Promise<Record<string, number>> =>
    page.evaluate(
      (ids) =>
        Object.fromEntries(
          ids.map((id) => {
            const canvas = document.getElementById(id) as HTMLCanvasElement;
            const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            const seen = new Set<number>();
            for (let i = 0; i < data.length; i += 4) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
            return [id, seen.size];
          }),
        ),
      ids,
    );
  /** The test digits as the lab scores them: binarized once by Bernoulli draws with the fixed seed. */
  const scoredTest = () => sampledTestSet(loadMnist().test);
  const testImages = (indices: number[]): Float32Array => subset(scoredTest(), indices).images;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const dist = join(OUT, 'dist-web');
    await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir: dist } });
    // A tiny run trained by the library (as `elbo train` does), to load into the page.
    const { train: trainSet, test } = loadMnist();
    const outDir = join(mkdtempSync(join(tmpdir(), 'elbo-lab-')), 'run');
    train(
      { train: subset(trainSet, spreadIndices(trainSet.n, 2000)), test: subset(test, spreadIndices(test.n, 200)) },
      { config: { hiddenDims: [16], latentDim: 2, epochs: 1, batchSize: 100, seed: 5 }, outDir },
    );
    checkpoint = join(outDir, 'checkpoint.safetensors');
    server = await serveStatic(dist, 0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'], headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { elboLab?: Lab }).elboLab?.ready, undefined, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is served cross-origin isolated and decodes the digits asset to exactly the pixels of loadMnist() (test digits binarized once)', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const pixels = await page.evaluate((d) => (window as unknown as { elboLab: Lab }).elboLab.images(d), DIGITS);
    expect(Float32Array.from(pixels)).toEqual(testImages(DIGITS));
  });

  it('trains on gpu.js WebGL2 (then on wasm) and draws the curves, the reconstructions and the latent plot', async () => {
    expect((await setBackend('gpujs')).status!.detail).toMatch(/^gpu\.js webgl2/);
    // Chromium here has no GPU: WebGL is SwiftShader, and the page says why gpu.js is slow.
    await expect.poll(() => page.locator('#renderer-note').isVisible()).toBe(true);
    expect(await page.locator('#renderer-note').textContent()).toMatch(/^WebGL here runs on a software renderer \(.*SwiftShader.*\), not a GPU/);
    expect(await page.locator('#backend option[value=gpujs]').textContent()).toContain('(software)');
    await page.click('#start');
    const onGpu = await until('2 steps on gpu.js', (s) => s.train.length >= 2, 80_000); // SwiftShader: seconds a step
    expect(onGpu.status!.detail).toMatch(/^gpu\.js webgl2/);
    expect(onGpu.train.at(-1)!.elbo).toBeGreaterThan(onGpu.train[0]!.elbo + 5);
    const threads = await page.evaluate(() => navigator.hardwareConcurrency);
    const onWasm = await setBackend('wasm'); // switched while it trains; the page is cross-origin isolated, so on every core
    expect(onWasm.status!.detail).toBe(`WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    await page.waitForTimeout(6000);
    await page.click('#start'); // pause: every picture is refreshed
    const s = await until('paused with a fresh test point', (s) => s.status?.running === false && s.test.at(-1)?.step === s.status.step);
    expect(s.test.length).toBeGreaterThanOrEqual(2);
    expect(s.test.at(-1)!.elbo).toBeGreaterThan(s.test[0]!.elbo + 150); // from about −550 nats
    expect(s.terms!.klPerDim).toHaveLength(20);
    expect(await page.locator('#renderer-note').isVisible()).toBe(false); // on wasm now
    const painted = await colours(['recon', 'latent-plot', 'kl-dims']);
    for (const [id, n] of Object.entries(painted)) expect(n, id).toBeGreaterThan(5);
    // The curves are SVG with real text, the step axis labelled, and every point (the first ones too) inside the axes.
    const charts = await page.evaluate(() =>
      ['chart-elbo', 'chart-recon', 'chart-kl'].map((id) => {
        const svg = document.querySelector(`#${id} svg`)!;
        const axes = (svg.querySelector('path[stroke="#666"]') as SVGPathElement).getBBox();
        const curves = Array.from(svg.querySelectorAll('path[stroke-width="2"]')).map((p) => (p as SVGPathElement).getBBox());
        const inside = curves.every(
          (b) => b.x >= axes.x - 0.5 && b.y >= axes.y - 0.5 && b.x + b.width <= axes.x + axes.width + 0.5 && b.y + b.height <= axes.y + axes.height + 0.5,
        );
        return { texts: Array.from(svg.querySelectorAll('text')).map((t) => t.textContent), curves: curves.length, inside };
      }),
    );
    for (const c of charts) {
      expect(c.texts).toEqual(expect.arrayContaining(['step', 'nats per digit']));
      expect(c.curves).toBe(2);
      expect(c.inside).toBe(true);
    }
  });

  it('decodes the point clicked on the latent plot', async () => {
    const box = (await page.locator('#latent-plot').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.5);
    const s = await until('a decoded point', (s) => s.decoded !== null);
    expect(s.decoded!.z).toHaveLength(20);
    expect((await colours(['decoded'])).decoded).toBeGreaterThan(20);
    await page.screenshot({ path: join(OUT, 'lab-20d.png'), fullPage: true });
  });

  it('says clearly why a corrupt or mismatched checkpoint does not load, and keeps its model', async () => {
    const before = await state();
    const corrupt = Buffer.from('this is not a checkpoint');
    const why = ((): string => {
      try {
        decodeSafetensors(corrupt);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    await page.setInputFiles('#checkpoint', { name: 'corrupt.safetensors', mimeType: 'application/octet-stream', buffer: corrupt });
    let s = await until('the corrupt-file message', (s) => s.message?.text.includes('corrupt.safetensors') === true);
    expect(s.message).toEqual({ kind: 'error', text: `Could not load corrupt.safetensors: ${why}. The lab's model is unchanged.` });
    expect(why).toMatch(/^safetensors: header length/);
    const weights = { 'model.output.bias': zeros([784]), 'model.mu.weight': zeros([2, 3]) };
    const mismatched = encodeSafetensors(weights, {
      format: 'elbo.checkpoint',
      version: '1',
      step: '0',
      config: JSON.stringify({ hiddenDims: [16], latentDim: 2 }),
    });
    await page.setInputFiles('#checkpoint', { name: 'mismatched.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(mismatched) });
    s = await until('the mismatch message', (s) => s.message?.text.includes('mismatched.safetensors') === true);
    expect(s.message!.text).toMatch(
      /^Could not load mismatched\.safetensors: mismatched checkpoint: .*size mismatch for 'mu\.weight': expected shape \[2, 16\], got \[2, 3\]/,
    );
    expect(await page.locator('#message').getAttribute('class')).toBe('error');
    expect(s.model).toEqual(before.model);
    expect(s.status!.step).toBe(before.status!.step);
  });

  it('loads a library-trained checkpoint and reconstructs test digits as the library does (gpu.js and WebGPU)', async () => {
    await page.setInputFiles('#checkpoint', checkpoint);
    // The worker's model event can arrive before the page shows its 'Loaded …' message: wait for both.
    const s = await until(
      'the loaded model and its message',
      (s) => s.model?.source === 'checkpoint.safetensors' && s.message?.text.startsWith('Loaded checkpoint.safetensors') === true,
    );
    expect(s.model).toMatchObject({ latentDim: 2, hiddenDims: [16], likelihood: 'bernoulli' });
    expect(s.message).toMatchObject({ kind: 'info' });
    const { model } = loadTrainedModel(checkpoint);
    const reference = (indices: number[]) => model.reconstruct(tensor(testImages(indices), { shape: [indices.length, 784] })).data;
    const reconstruct = (indices: number[]) => page.evaluate((d) => (window as unknown as { elboLab: Lab }).elboLab.reconstruct(d), indices);
    const worst = (a: number[], b: ArrayLike<number>) => a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!)), 0);
    await setBackend('gpujs');
    expect(worst(await reconstruct(DIGITS), reference(DIGITS))).toBeLessThan(1e-5);
    const webgpu = (await page.locator('#backend option[value=webgpu]').isDisabled()) ? null : await setBackend('webgpu');
    if (webgpu) {
      const many = spreadIndices(2000, 256); // large enough (2·256·784·16 flops) to run on the GPU
      expect(worst(await reconstruct(many), reference(many))).toBeLessThan(1e-5);
      expect((await state()).status!.detail).toMatch(/^WebGPU on .*\([1-9]\d* matmuls on the GPU/);
    } else console.warn(`webgpu part skipped: ${await page.locator('#backend option[value=webgpu]').textContent()}`);
    await setBackend('wasm');
  });

  it('puts ELBO ≤ IWAE_k ≤ ln p(x) of a digit for a 2-D latent, as the same functions give in Node', async () => {
    const r = await page.evaluate(() => (window as unknown as { elboLab: Lab }).elboLab.bounds(3));
    const expected = compareBounds(loadTrainedModel(checkpoint).model, scoredTest(), 3);
    for (const key of ['elbo', 'logPx', 'posteriorKl'] as const) expect(r[key], key).toBeCloseTo(expected[key], 2);
    r.iwae.forEach((b, i) => expect(b.value, `IWAE_${b.k}`).toBeCloseTo(expected.iwae[i]!.value, 2));
    expect(r.borderDrop).toBeLessThan(-15);
    expect(r.gridError).toBeLessThan(5e-3);
    expect(r.elbo).toBeLessThan(r.logPx);
    expect(Math.abs(r.iwae.at(-1)!.value - r.logPx)).toBeLessThan(r.logPx - r.elbo); // IWAE_1000 is much nearer ln p(x)
    expect(r.posteriorKl).toBeCloseTo(r.logPx - r.elbo, 2);
    await page.screenshot({ path: join(OUT, 'lab-checkpoint.png'), fullPage: true });
  });

  it('exports the checkpoint it holds, which the library loads back', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const file = join(OUT, download.suggestedFilename());
    await download.saveAs(file);
    const exported = loadTrainedModel(file);
    const original = loadTrainedModel(checkpoint);
    expect(exported.config).toMatchObject({ hiddenDims: [16], latentDim: 2 });
    expect(exported.model.stateDict()).toEqual(original.model.stateDict());
    expect(readFileSync(file).subarray(8, 200).toString()).toContain('"format":"elbo.checkpoint"');
  });

  it('trains a 2-D latent and shows its manifold (the README screenshot)', async () => {
    await page.selectOption('#latent', '2');
    await until('a fresh 2-D model', (s) => s.model?.source === 'new' && s.model.latentDim === 2);
    await page.click('#start');
    await page.waitForTimeout(15_000);
    await page.click('#start');
    await until('paused', (s) => s.status?.running === false && s.test.at(-1)?.step === s.status.step);
    const box = (await page.locator('#latent-plot').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
    await until('a decoded point', (s) => s.decoded !== null);
    await page.fill('#bounds-index', '40');
    await page.click('#bounds-run');
    await expect.poll(() => page.locator('#bounds-table caption').textContent(), { timeout: 30_000 }).toMatch(/^test digit #40 /);
    expect(await page.locator('#bounds-table tr').count()).toBe(7);
    expect((await colours(['manifold', 'bounds-line'])).manifold).toBeGreaterThan(50);
    const shot = join(OUT, 'lab.png');
    await page.screenshot({ path: shot, fullPage: true });
    // The README's screenshot is refreshed on request only, so a test run leaves the tree clean.
    if (process.env.ELBO_UPDATE_SCREENSHOTS) {
      mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
      copyFileSync(shot, join(ROOT, 'docs', 'images', 'lab.png'));
    }
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });

  it('trains the convolutional VAE when chosen, showing its layers and measured speed', async () => {
    await page.selectOption('#arch', 'conv');
    await until('a fresh conv model', (s) => s.model?.source === 'new' && s.model.arch === 'conv' && s.train.length === 0, 120_000);
    expect((await state()).status!.backend).toBe('wasm');
    await page.click('#start');
    // Without wasm conv kernels, wasm runs the cpu reference's convolutions: many seconds a step.
    const s = await until('3 conv training points', (s) => s.train.length >= 3, 240_000);
    const shown = await page.locator('#status').textContent();
    console.log(`lab, conv VAE on wasm: ${shown}`);
    expect(shown).toMatch(/● training · 784-conv32-conv64-\d+ bernoulli · .* · (\d+ samples\/s|[\d.]+ s per sample)/);
    expect(s.train.at(-1)!.elbo).toBeGreaterThan(s.train[0]!.elbo + 20); // from about −540 nats
    await page.click('#start');
    await until('paused', (s) => s.status?.running === false, 120_000);
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 600_000);
});
