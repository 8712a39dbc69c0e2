import { PALETTE, type RgbImage } from 'elbo/io';

/**
 * Canvas drawing for the page: the latent scatter, bars and a number line (the learning curves
 * are SVG from src/io/chart.ts, as in report.html; digit grids come from src/io/plot.ts, the same
 * pictures the CLI writes, via showImage).
 */

export const digitColor = (label: number): string => `rgb(${PALETTE[label % PALETTE.length]!.join(',')})`;
const FONT = '11px system-ui, sans-serif';
const AXIS = '#666';
const GRID = '#e6e6e6';

/** A canvas sized to its CSS box times the device pixel ratio, with a context scaled back to CSS pixels. */
function prepare(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  g.font = FONT;
  return { g, w, h };
}

/** Puts an RGB picture (src/io/plot.ts) on a canvas at its own size in device pixels. */
export function showImage(canvas: HTMLCanvasElement, image: RgbImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const rgba = new ImageData(image.width, image.height);
  for (let i = 0; i < image.width * image.height; i++) {
    rgba.data.set([image.data[3 * i]!, image.data[3 * i + 1]!, image.data[3 * i + 2]!, 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(rgba, 0, 0);
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 × 10ⁿ. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const raw = (hi - lo) / count || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}
const label = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(4)));

/** Maps data to canvas pixels inside a frame with margins; draws grid lines, ticks and labels. */
export interface Frame {
  x(v: number): number;
  y(v: number): number;
  /** The data point under canvas pixel (px, py). */
  invert(px: number, py: number): [number, number];
}
function frame(
  g: CanvasRenderingContext2D,
  w: number,
  h: number,
  xr: [number, number],
  yr: [number, number],
  m = { l: 48, r: 10, t: 22, b: 22 },
  labels = { x: true, y: true },
): Frame {
  const f: Frame = {
    x: (v) => m.l + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * (w - m.l - m.r),
    y: (v) => h - m.b - ((v - yr[0]) / (yr[1] - yr[0] || 1)) * (h - m.t - m.b),
    invert: (px, py) => [xr[0] + ((px - m.l) / (w - m.l - m.r)) * (xr[1] - xr[0]), yr[0] + ((h - m.b - py) / (h - m.t - m.b)) * (yr[1] - yr[0])],
  };
  g.strokeStyle = GRID;
  g.fillStyle = AXIS;
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of ticks(yr[0], yr[1], 4)) {
    g.beginPath();
    g.moveTo(m.l, f.y(t));
    g.lineTo(w - m.r, f.y(t));
    g.stroke();
    if (labels.y) g.fillText(label(t), m.l - 4, f.y(t));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  if (labels.x) for (const t of ticks(xr[0], xr[1], 5)) g.fillText(label(t), f.x(t), h - m.b + 4);
  g.strokeStyle = AXIS;
  g.strokeRect(m.l, m.t, w - m.l - m.r, h - m.t - m.b);
  return f;
}

const extent = (values: number[], pad = 0.06): [number, number] => {
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  return [lo - pad * (hi - lo), hi + pad * (hi - lo)];
};

/** The latent scatter coloured by digit, with a cross at `marker`; returns the frame for clicks. */
export function scatter(canvas: HTMLCanvasElement, points: Float32Array, labels: Uint8Array, axes: [string, string], marker?: [number, number]): Frame {
  const { g, w, h } = prepare(canvas);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    xs.push(points[2 * i]!);
    ys.push(points[2 * i + 1]!);
  }
  const f = frame(g, w, h, extent(xs, 0.04), extent(ys, 0.04), { l: 40, r: 62, t: 10, b: 22 });
  g.globalAlpha = 0.75;
  for (let i = 0; i < labels.length; i++) {
    g.fillStyle = digitColor(labels[i]!);
    g.fillRect(f.x(xs[i]!) - 1.5, f.y(ys[i]!) - 1.5, 3, 3);
  }
  g.globalAlpha = 1;
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  for (let d = 0; d < 10; d++) {
    g.fillStyle = digitColor(d);
    g.fillRect(w - 52, 16 + 15 * d, 9, 9);
    g.fillStyle = '#222';
    g.fillText(String(d), w - 38, 21 + 15 * d);
  }
  g.fillStyle = AXIS;
  g.fillText(`${axes[0]} →   ${axes[1]} ↑`, 46, 18);
  if (marker) {
    const [px, py] = [f.x(marker[0]), f.y(marker[1])];
    g.strokeStyle = '#000';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(px - 7, py);
    g.lineTo(px + 7, py);
    g.moveTo(px, py - 7);
    g.lineTo(px, py + 7);
    g.stroke();
  }
  return f;
}

/** One bar per value (e.g. KL per latent dimension), with a dashed line at `threshold`. */
export function bars(canvas: HTMLCanvasElement, title: string, values: number[], threshold: number): void {
  const { g, w, h } = prepare(canvas);
  const f = frame(g, w, h, [0, values.length], [0, Math.max(threshold * 2, ...values) * 1.05], { l: 40, r: 8, t: 20, b: 6 }, { x: false, y: true });
  values.forEach((v, i) => {
    g.fillStyle = v > threshold ? '#1f77b4' : '#bbb';
    g.fillRect(f.x(i) + 1, f.y(v), Math.max(1, f.x(i + 1) - f.x(i) - 2), f.y(0) - f.y(v));
  });
  g.setLineDash([4, 3]);
  g.strokeStyle = '#d62728';
  g.beginPath();
  g.moveTo(f.x(0), f.y(threshold));
  g.lineTo(f.x(values.length), f.y(threshold));
  g.stroke();
  g.setLineDash([]);
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(title, 40, 4);
}

/** Values on one horizontal axis, labelled, e.g. ELBO ≤ IWAE_k ≤ ln p(x). */
export function numberLine(canvas: HTMLCanvasElement, items: Array<{ name: string; value: number; color: string }>): void {
  const { g, w, h } = prepare(canvas);
  const f = frame(
    g,
    w,
    h,
    extent(
      items.map((i) => i.value),
      0.12,
    ),
    [0, items.length + 1],
    { l: 12, r: 12, t: 6, b: 22 },
    { x: true, y: false },
  );
  g.textBaseline = 'middle';
  items.forEach((item, k) => {
    const [x, y] = [f.x(item.value), f.y(items.length - k)];
    g.fillStyle = item.color;
    g.beginPath();
    g.arc(x, y, 4, 0, 2 * Math.PI);
    g.fill();
    g.textAlign = x > w / 2 ? 'right' : 'left';
    g.fillText(`${item.name} ${item.value.toFixed(2)}`, x + (x > w / 2 ? -8 : 8), y);
  });
}
