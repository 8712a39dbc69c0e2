import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist.js';
import { decodePng, encodePng } from '../../src/io/png.js';
import { formatTick, imageGrid, lineChart, niceTicks, PALETTE, pairGrid, type RgbImage, scatterPlot } from '../../src/io/plot.js';
import { Generator } from '../../src/tensor/random.js';

const pixel = (img: RgbImage, x: number, y: number): number[] => Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
/** How many pixels differ from the top-left (background) colour. */
function nonBackground(img: RgbImage): number {
  const bg = pixel(img, 0, 0);
  let n = 0;
  for (let k = 0; k < img.data.length; k += 3) if (img.data[k] !== bg[0] || img.data[k + 1] !== bg[1] || img.data[k + 2] !== bg[2]) n++;
  return n;
}
/** The PNG of an image decodes to the same pixels (so plots can be written as they are). */
const pngRoundTrips = (img: RgbImage): void => expect(decodePng(encodePng(img)).data).toEqual(img.data);

describe('plots', () => {
  const { test } = loadMnist();

  it('imageGrid tiles n images: pad + columns × (cols·scale + pad) wide; value 1 is white, 0 black', () => {
    const img = imageGrid(test.images, 10, 28, 28, { columns: 5, pad: 2, scale: 3 });
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([2 + 5 * 86, 2 + 2 * 86, 3, img.width * img.height * 3]);
    expect(pixel(img, 2, 2)).toEqual([0, 0, 0]); // the corner of a digit is background
    expect(pixel(img, 0, 0)).toEqual([128, 128, 128]); // padding
    const tiny = imageGrid(Float32Array.of(1, 0, 0.5, Number.NaN), 1, 2, 2, { pad: 0, scale: 1 });
    expect([pixel(tiny, 0, 0), pixel(tiny, 1, 0), pixel(tiny, 0, 1), pixel(tiny, 1, 1)]).toEqual([
      [255, 255, 255],
      [0, 0, 0],
      [128, 128, 128],
      [255, 0, 0],
    ]);
    expect(nonBackground(img)).toBeGreaterThan(1000);
    pngRoundTrips(img);
  });

  it('pairGrid puts each originals row above its reconstructions row', () => {
    const n = 12;
    const recon = new Float32Array(n * 784).fill(1);
    const img = pairGrid(test.images, recon, n, 28, 28, { columns: 6, pad: 2, scale: 1 });
    const gap = 3 * 2 + 2;
    expect([img.width, img.height]).toEqual([2 + 6 * 30, 2 + 2 * 2 * 30 + gap]);
    expect(pixel(img, 2, 2)).toEqual([0, 0, 0]); // original digit's corner
    expect(pixel(img, 2, 2 + 30)).toEqual([255, 255, 255]); // reconstruction (all ones) right below
    expect(pixel(img, 2, 2 + 60 + gap + 30)).toEqual([255, 255, 255]); // second group's reconstruction row
  });

  it('scatterPlot has the stated size, a white background and markers in the class colours', () => {
    const rng = new Generator(0);
    const points = Array.from({ length: test.n }, (_, i) => [test.labels[i]! + rng.normal() * 0.3, rng.normal()] as [number, number]);
    const img = scatterPlot(points, test.labels, { width: 500, height: 320, title: 'Latent space', xLabel: 'z1', yLabel: 'z2' });
    expect([img.width, img.height, img.channels]).toEqual([500, 320, 3]);
    expect(pixel(img, 0, 0)).toEqual([255, 255, 255]);
    expect(nonBackground(img)).toBeGreaterThan(5000);
    const colours = new Set<number>();
    for (let k = 0; k < img.data.length; k += 3) colours.add((img.data[k]! << 16) | (img.data[k + 1]! << 8) | img.data[k + 2]!);
    for (const [r, g, b] of PALETTE) expect(colours.has((r << 16) | (g << 8) | b)).toBe(true); // legend swatches
    pngRoundTrips(img);
  });

  it('scatterPlot copes with no labels, no points and non-finite points', () => {
    expect(
      nonBackground(
        scatterPlot(
          [
            [0, 0],
            [1, Number.NaN],
          ],
          null,
        ),
      ),
    ).toBeGreaterThan(0);
    expect(scatterPlot([], null, { width: 100, height: 80 }).width).toBe(100);
    expect(() => scatterPlot([[0, 0]], [1, 2])).toThrow('scatterPlot: 1 points but 2 labels');
  });

  it('lineChart has the stated size and draws each series in its colour', () => {
    const values = Array.from({ length: 30 }, (_, i) => -200 + 100 * (1 - Math.exp(-i / 6)));
    const img = lineChart(
      [
        { name: 'train', values, color: '#ff0000' },
        { name: 'test', values: values.map((v) => v - 5), color: [0, 0, 255] },
      ],
      { title: 'ELBO', xLabel: 'epoch', yLabel: 'nats', width: 400, height: 300 },
    );
    expect([img.width, img.height]).toEqual([400, 300]);
    const count = (c: number[]): number => {
      let n = 0;
      for (let k = 0; k < img.data.length; k += 3) if (img.data[k] === c[0] && img.data[k + 1] === c[1] && img.data[k + 2] === c[2]) n++;
      return n;
    };
    expect(count([255, 0, 0])).toBeGreaterThan(300);
    expect(count([0, 0, 255])).toBeGreaterThan(300);
    expect(nonBackground(lineChart([{ name: 'flat', values: [3, 3, Number.NaN, 3] }]))).toBeGreaterThan(0);
  });

  it('chooses round ticks and formats them with just enough decimals', () => {
    expect(niceTicks(0, 10, 5)).toEqual({ ticks: [0, 2, 4, 6, 8, 10], step: 2 });
    expect(niceTicks(-203, -88, 6).ticks).toEqual([-200, -180, -160, -140, -120, -100]);
    expect([formatTick(0.30000000000000004, 0.1), formatTick(-0, 1), formatTick(2500000, 500000), formatTick(-1e-7, 1e-6)]).toEqual([
      '0.3',
      '0',
      '2.5e+6',
      '-1.0e-7',
    ]);
  });
});
