import { describe, expect, it } from 'vitest';
import { axisScale, formatNumber, lineChartSvg, mathText, scatterSvg, stepDecimals } from '../../src/io/chart.js';

/** The text contents of every <text> element of an SVG string (tspans flattened). */
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));

describe('axisScale: the end ticks contain the data', () => {
  it('puts the final ELBO of about −112 below the top tick (the curve-elbo.png bug)', () => {
    const s = axisScale(-160.4, -112.3);
    expect(s.lo).toBeLessThanOrEqual(-160.4);
    expect(s.hi).toBeGreaterThanOrEqual(-112.3);
    expect(s.ticks[0]).toBe(s.lo);
    expect(s.ticks.at(-1)).toBe(s.hi);
    expect(s.ticks).toEqual([-170, -160, -150, -140, -130, -120, -110]);
  });

  it('contains any finite range, with 1, 2, 2.5 or 5 × 10^k steps', () => {
    for (const [lo, hi] of [
      [0, 1],
      [-3.2, 7.9],
      [0.001, 0.0042],
      [1e5, 3.3e5],
      [-0.5, -0.49],
      [5, 5],
      [-1e-7, 1e-7],
    ] as const) {
      const s = axisScale(lo, hi);
      expect(s.lo).toBeLessThanOrEqual(lo);
      expect(s.hi).toBeGreaterThanOrEqual(hi);
      expect(s.ticks.length).toBeGreaterThanOrEqual(2);
      expect(s.ticks.length).toBeLessThanOrEqual(12);
      const m = s.step / 10 ** Math.floor(Math.log10(s.step) + 1e-9);
      expect([1, 2, 2.5, 5].some((k) => Math.abs(m - k) < 1e-9)).toBe(true);
    }
  });

  it('gives integer ticks for epochs, and a single epoch sits between two ticks', () => {
    expect(axisScale(1, 1, 6, true)).toMatchObject({ ticks: [0, 1, 2], step: 1 });
    expect(axisScale(1, 2, 6, true).ticks).toEqual([1, 2]);
    expect(axisScale(1, 50, 6, true).ticks).toEqual([0, 10, 20, 30, 40, 50]);
  });
});

describe('chart text', () => {
  it('formats numbers with a true minus and no −0', () => {
    expect([formatNumber(-112.34, 1), formatNumber(-0.001, 2), formatNumber(3, 0)]).toEqual(['−112.3', '0.00', '3']);
    expect([stepDecimals(5), stepDecimals(0.25), stepDecimals(2.5), stepDecimals(0.1)]).toEqual([0, 2, 1, 1]);
  });

  it('escapes markup and writes _{…} as a subscript', () => {
    expect(mathText('𝔼_{q}[ln p(x|z)] <b>')).toBe('𝔼<tspan baseline-shift="sub" font-size="75%">q</tspan>[ln p(x|z)] &lt;b&gt;');
  });
});

describe('lineChartSvg', () => {
  const svg = lineChartSvg(
    [
      { name: 'train', values: [-160.4, -130, -120.25] },
      { name: 'test', values: [-150, -125, -112.3] },
    ],
    { title: 'KL(q(z|x) ‖ p(z))', xLabel: 'epoch', yLabel: 'nats', x: [1, 2, 3] },
  );

  it('is an SVG document with real text: title, axis labels, ticks and direct final-value labels', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const t = texts(svg);
    expect(t).toContain('KL(q(z|x) ‖ p(z))');
    expect(t).toContain('epoch');
    expect(t).toContain('nats');
    expect(t).toContain('train −120.3');
    expect(t).toContain('test −112.3');
    expect(t.filter((s) => /^[123]$/.test(s))).toEqual(['1', '2', '3']); // integer epoch ticks only
    expect(t).toContain('−110');
    expect(t).toContain('−170');
  });

  it('draws every point inside the plot area', () => {
    const box = /M([\d.]+) ([\d.]+)V([\d.]+)H([\d.]+)"/.exec(svg)!.slice(1).map(Number); // the axes: left, top, bottom, right
    const [left, top, bottom, right] = box as [number, number, number, number];
    const coords = [...svg.matchAll(/stroke-width="2"[^>]*/g)].length;
    expect(coords).toBe(2);
    for (const m of svg.matchAll(/<path d="((?:[ML][\d.]+ [\d.]+)+)" stroke="#/g)) {
      for (const p of m[1]!.matchAll(/[ML]([\d.]+) ([\d.]+)/g)) {
        const [x, y] = [Number(p[1]), Number(p[2])];
        expect(x).toBeGreaterThanOrEqual(left);
        expect(x).toBeLessThanOrEqual(right);
        expect(y).toBeGreaterThanOrEqual(top);
        expect(y).toBeLessThanOrEqual(bottom);
      }
    }
  });

  it('draws a one-epoch run as dots between integer ticks', () => {
    const one = lineChartSvg(
      [
        { name: 'train', values: [-200] },
        { name: 'test', values: [-190] },
      ],
      { x: [1] },
    );
    expect((one.match(/<circle/g) ?? []).length).toBe(2);
    expect(texts(one).filter((s) => /^\d+(\.\d+)?$/.test(s))).toEqual(['0', '1', '2']);
  });
});

describe('lineChartSvg with series of their own x (the lab: train every few steps, test sparse)', () => {
  it('spans the union of the x values and dots every point of a dotted series', () => {
    const svg = lineChartSvg(
      [
        { name: 'train', values: [-550, -300, -200, -180], x: [1, 10, 20, 30] },
        { name: 'test', values: [-540, -190], x: [1, 30], dots: true },
      ],
      { xLabel: 'step', integerX: true },
    );
    expect((svg.match(/<circle/g) ?? []).length).toBe(2);
    const t = texts(svg);
    expect(t).toEqual(expect.arrayContaining(['0', '30', '−600', '−100', 'step', 'train −180.0', 'test −190.0']));
  });
});

describe('scatterSvg', () => {
  it('draws one path per class present and a legend with their names', () => {
    const svg = scatterSvg(
      [
        [0, 0],
        [1, 2],
        [2, -1],
        [Number.NaN, 1],
      ],
      [3, 3, 7, 7],
      { classNames: ['a', 'b', 'c', 'three', 'e', 'f', 'g', 'seven'], title: 'Test codes μ(x)' },
    );
    expect(texts(svg)).toEqual(expect.arrayContaining(['Test codes μ(x)', 'three', 'seven']));
    expect((svg.match(/h0/g) ?? []).length).toBe(3);
    expect(() => scatterSvg([[0, 0]], [1, 2])).toThrow('scatterSvg: 1 points but 2 labels');
  });
});
