import { describe, expect, it } from 'vitest';
import { CHROMIUM, has } from '../system.js';
import { bundle, openInChromium } from './harness.js';
import type { PageReport } from './gpujs-entry.js';

/**
 * The gpu.js backend in a real browser: gpujs-entry.ts is bundled with esbuild, served from
 * 127.0.0.1 and run in headless Chromium, where gpu.js gets a WebGL2 context (SwiftShader when
 * the machine has no GPU). The page runs the same precision checks as the Node tests and must
 * report the webgl2 (or webgl) engine, so this proves the GLSL path, not a fallback.
 */
const hasChromium = has(CHROMIUM, 'the gpujs backend in Chromium');

describe('gpujs backend in Chromium', () => {
  it.skipIf(!hasChromium)('runs on WebGL and matches the float64 cpu reference within float32 tolerances', async () => {
    const script = await bundle('./gpujs-entry.ts');
    const browser = await openInChromium(script);
    try {
      await browser.page.waitForFunction(() => 'elboGpujs' in globalThis, undefined, { timeout: 30_000 });
      const report = await browser.page.evaluate(() => (globalThis as unknown as { elboGpujs: { runChecks(): PageReport } }).elboGpujs.runChecks());
      expect(['webgl2', 'webgl'], `engine (page log: ${browser.logs.join(' | ')})`).toContain(report.info.mode);
      expect(report.info.modesSeen).toEqual([report.info.mode]);
      expect(report.info.fallbacks, browser.logs.join('\n')).toBe(0);
      const failed = report.checks.filter((c) => !(c.worst <= 1)).map((c) => `${c.name}: ${c.worst.toFixed(2)}× tol, ${c.detail}`);
      expect(failed).toEqual([]);
      expect(report.checks.length).toBeGreaterThan(60);
      expect(report.checks.filter((c) => c.name.startsWith('conv'))).toHaveLength(14);
    } finally {
      await browser.close();
    }
  });
});
