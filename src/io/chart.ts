/**
 * Charts as SVG strings, with real text (so they zoom, copy and read Unicode math: 𝔼, μ, σ, ‖).
 * Platform-neutral: no `node:` import; a browser can call these and set `innerHTML`.
 */

/** An axis whose ends are ticks: [lo, hi] contains every value given, and ticks step from lo to hi. */
export interface AxisScale {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
}

const clean = (v: number): number => Number(v.toPrecision(12)) || 0; // no -0, no 0.30000000000000004

/**
 * Round ticks (steps of 1, 2 or 5 × 10^k, about `count` of them) whose first and last tick
 * enclose [min, max], so no value lies outside the axis. `integer` keeps steps ≥ 1 (epochs,
 * steps). Non-finite bounds give [0, 1]; a single value gets one step either side.
 *
 * @example axisScale(-160, -112).ticks // [-160, -150, -140, -130, -120, -110]
 */
export function axisScale(min: number, max: number, count = 6, integer = false): AxisScale {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (min > max) [min, max] = [max, min];
  let span = max - min;
  if (span <= 1e-12 * Math.max(1, Math.abs(max))) span = integer ? 2 : Math.max(Math.abs(max) * 0.2, 1e-9) || 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const multiples = integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  let step = multiples.map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  let lo = Math.floor(min / step + 1e-9) * step;
  let hi = Math.ceil(max / step - 1e-9) * step;
  if (hi - lo < step / 2) [lo, hi] = [lo - step, hi + step]; // a flat series sits between two ticks
  const ticks: number[] = [];
  for (let k = 0; lo + k * step <= hi + step * 1e-9; k++) ticks.push(clean(lo + k * step));
  return { lo: clean(lo), hi: clean(hi), step, ticks };
}

/** A number with `decimals` decimals and a true minus sign (U+2212), for chart text. */
export function formatNumber(v: number, decimals: number): string {
  const s = v.toFixed(Math.max(0, decimals));
  return (/^-0(\.0*)?$/.test(s) ? s.slice(1) : s).replace('-', '−');
}

/** Decimals a tick label needs for `step` (0.25 → 2, 5 → 0). */
export const stepDecimals = (step: number): number => {
  for (let d = 0; d < 10; d++) if (Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) < 1e-6) return d;
  return 10;
};

/** Escapes text for SVG/HTML content and attributes. */
export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Escapes `s` for SVG and turns `_{…}` into a subscript, so chart texts can read `𝔼_{q(z|x)}`.
 *
 * @example mathText('𝔼_{q}[ln p(x|z)]') // '𝔼<tspan baseline-shift="sub" font-size="75%">q</tspan>[ln p(x|z)]'
 */
export const mathText = (s: string): string => escapeXml(s).replace(/_\{([^}]*)\}/g, '<tspan baseline-shift="sub" font-size="75%">$1</tspan>');

/** Ten distinct colours (matplotlib's tab10) as '#rrggbb'. */
export const CHART_COLORS: readonly string[] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Texts and size of an SVG chart. */
export interface SvgChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/** One line of a {@link lineChartSvg}. */
export interface SvgSeries {
  name: string;
  values: readonly number[];
  /** '#rrggbb'; default {@link CHART_COLORS} by index. */
  color?: string;
  /** This series' own x values (e.g. a sparse test curve); default the chart's `x`. */
  x?: readonly number[];
  /** A dot at every point (sparse series), not only at lone points. */
  dots?: boolean;
}

/** Options of {@link lineChartSvg}. */
export interface SvgLineOptions extends SvgChartOptions {
  /** The x value of each index (shared by all series); default 1, 2, 3, …. */
  x?: readonly number[];
  /** Integer x ticks only (epochs); default true when every x is an integer. */
  integerX?: boolean;
  /** Decimals of the final-value labels; default: one more than the y ticks need. */
  valueDecimals?: number;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const r1 = (v: number): string => String(Math.round(v * 10) / 10);

/** Pushes label positions apart to at least `gap` while keeping them inside [top, bottom]. */
function spread(ys: number[], gap: number, top: number, bottom: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < order.length; k++) order[k]!.y = Math.max(order[k]!.y, order[k - 1]!.y + gap);
  const overflow = (order.at(-1)?.y ?? 0) - bottom;
  if (overflow > 0) for (const o of order) o.y -= overflow;
  for (let k = 0; k < order.length; k++) order[k]!.y = Math.max(order[k]!.y, k === 0 ? top : order[k - 1]!.y + gap);
  const out = new Array<number>(ys.length);
  for (const o of order) out[o.i] = o.y;
  return out;
}

interface Plot {
  parts: string[];
  px: (x: number) => number;
  py: (y: number) => number;
  box: { left: number; top: number; right: number; bottom: number };
  yDecimals: number;
}

/** Background, title, grid, ticks, tick labels and axis labels; the plot area is `box`. */
function axes(o: SvgChartOptions, xs: AxisScale, ys: AxisScale, rightMargin: number): Plot {
  const { width = 560, height = 360, title, xLabel, yLabel } = o;
  const yDecimals = stepDecimals(ys.step);
  const xDecimals = stepDecimals(xs.step);
  const yTexts = ys.ticks.map((v) => formatNumber(v, yDecimals));
  const box = {
    left: (yLabel ? 26 : 8) + 7.5 * Math.max(...yTexts.map((s) => s.length)) + 8,
    top: title ? 36 : 14,
    right: width - rightMargin,
    bottom: height - (xLabel ? 44 : 26),
  };
  const px = (x: number): number => box.left + ((x - xs.lo) / (xs.hi - xs.lo)) * (box.right - box.left);
  const py = (y: number): number => box.bottom - ((y - ys.lo) / (ys.hi - ys.lo)) * (box.bottom - box.top);
  const parts = [`<rect width="${width}" height="${height}" fill="#fff"/>`];
  const grid: string[] = [];
  const labels: string[] = [];
  for (const v of xs.ticks) {
    const x = r1(px(v));
    grid.push(`M${x} ${box.top}V${box.bottom}`);
    labels.push(`<text x="${x}" y="${box.bottom + 17}" text-anchor="middle">${formatNumber(v, xDecimals)}</text>`);
  }
  ys.ticks.forEach((v, k) => {
    const y = r1(py(v));
    grid.push(`M${box.left} ${y}H${box.right}`);
    labels.push(`<text x="${box.left - 6}" y="${y}" dy="0.35em" text-anchor="end">${yTexts[k]}</text>`);
  });
  parts.push(`<path d="${grid.join('')}" stroke="#e6e6e6" fill="none"/>`);
  parts.push(`<path d="M${box.left} ${box.top}V${box.bottom}H${box.right}" stroke="#666" fill="none"/>`);
  parts.push(`<g font-size="12" fill="#444">${labels.join('')}</g>`);
  if (title)
    parts.push(
      `<text x="${r1((box.left + box.right) / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="#222">${mathText(title)}</text>`,
    );
  if (xLabel)
    parts.push(`<text x="${r1((box.left + box.right) / 2)}" y="${height - 10}" text-anchor="middle" font-size="13" fill="#222">${mathText(xLabel)}</text>`);
  if (yLabel)
    parts.push(
      `<text transform="translate(14 ${r1((box.top + box.bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="13" fill="#222">${mathText(yLabel)}</text>`,
    );
  return { parts, px, py, box, yDecimals };
}

const plain = (s: string): string => s.replace(/_\{([^}]*)\}/g, '$1');

const svg = (o: SvgChartOptions, body: string[], role: string): string => {
  const { width = 560, height = 360, title } = o;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="${escapeXml(plain(title ?? role))}">${title ? `<title>${escapeXml(plain(title))}</title>` : ''}${body.join('')}</svg>`;
};

/**
 * Line charts as SVG (e.g. the ELBO per epoch): axes whose end ticks contain every value, ticks
 * that suit the range (integers for epochs), and each series labelled directly at its last point
 * with its name and final value. Non-finite values leave a gap; a lone point is a dot.
 *
 * @example lineChartSvg([{ name: 'train', values: [-160, -120] }, { name: 'test', values: [-150, -115] }], { title: 'ELBO', xLabel: 'epoch', x: [1, 2] })
 */
export function lineChartSvg(series: readonly SvgSeries[], options: SvgLineOptions = {}): string {
  const xAt = (s: SvgSeries, i: number): number => s.x?.[i] ?? options.x?.[i] ?? i + 1;
  const finite = series.flatMap((s) => s.values.map((v, i) => [xAt(s, i), v] as const)).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xsAll = finite.map(([x]) => x);
  const integerX = options.integerX ?? xsAll.every(Number.isInteger);
  const { width = 560, height = 360 } = options;
  const xs = axisScale(Math.min(...xsAll), Math.max(...xsAll), Math.max(2, Math.floor(width / 90)), integerX);
  const ys = axisScale(Math.min(...finite.map(([, y]) => y)), Math.max(...finite.map(([, y]) => y)), Math.max(2, Math.floor(height / 60)));
  const valueDecimals = options.valueDecimals ?? Math.min(4, stepDecimals(ys.step) + 1);
  const labelTexts = series.map((s) => {
    const last = [...s.values].reverse().find(Number.isFinite);
    return last === undefined ? s.name : `${s.name} ${formatNumber(last, valueDecimals)}`;
  });
  const rightMargin = 16 + 7 * Math.max(0, ...labelTexts.map((t) => t.length));
  const { parts, px, py, box } = axes(options, xs, ys, rightMargin);
  const ends: { y: number; text: string; color: string }[] = [];
  series.forEach((s, k) => {
    const color = s.color ?? CHART_COLORS[k % CHART_COLORS.length]!;
    let d = '';
    let pen = false;
    const dots: string[] = [];
    const xOf = (i: number): number => xAt(s, i);
    s.values.forEach((v, i) => {
      const ok = Number.isFinite(v) && Number.isFinite(xOf(i));
      if (!ok) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${r1(px(xOf(i)))} ${r1(py(v))}`;
      const lone = !(i > 0 && Number.isFinite(s.values[i - 1])) && !Number.isFinite(s.values[i + 1]);
      if (lone || s.dots) dots.push(`<circle cx="${r1(px(xOf(i)))}" cy="${r1(py(v))}" r="${lone ? 3.5 : 2.5}" fill="${color}"/>`);
      pen = true;
    });
    parts.push(`<path d="${d}" stroke="${color}" stroke-width="2" fill="none" stroke-linejoin="round"/>`, ...dots);
    const lastIndex = s.values.map((v, i) => (Number.isFinite(v) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    if (lastIndex >= 0) ends.push({ y: py(s.values[lastIndex]!), text: labelTexts[k]!, color });
  });
  const placed = spread(
    ends.map((e) => e.y),
    15,
    box.top + 6,
    box.bottom - 2,
  );
  ends.forEach((e, k) =>
    parts.push(`<text x="${box.right + 8}" y="${r1(placed[k]!)}" dy="0.35em" font-size="12" fill="${e.color}" font-weight="600">${escapeXml(e.text)}</text>`),
  );
  return svg(options, parts, 'line chart');
}

/** Options of {@link scatterSvg}. */
export interface SvgScatterOptions extends SvgChartOptions {
  /** Legend text per label (default the label number). */
  classNames?: readonly string[];
  /** Marker diameter in pixels; default 4. */
  size?: number;
}

/**
 * A scatter plot of 2-D points coloured by class label, as SVG, with a legend of the labels
 * present. Each class is one path of zero-length round-capped segments (a dot per point), which
 * keeps 10,000 points to about 130 kB; points with a non-finite coordinate are skipped.
 */
export function scatterSvg(points: readonly (readonly [number, number])[], labels?: ArrayLike<number> | null, options: SvgScatterOptions = {}): string {
  if (labels && labels.length !== points.length) throw new Error(`scatterSvg: ${points.length} points but ${labels.length} labels`);
  const ok = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const { width = 640, height = 520, size = 4 } = options;
  const xs = axisScale(Math.min(...ok.map((p) => p[0])), Math.max(...ok.map((p) => p[0])), Math.max(2, Math.floor(width / 90)));
  const ys = axisScale(Math.min(...ok.map((p) => p[1])), Math.max(...ok.map((p) => p[1])), Math.max(2, Math.floor(height / 60)));
  const present = labels ? [...new Set(Array.from(labels))].sort((a, b) => a - b) : [0];
  const names = present.map((l) => (labels ? (options.classNames?.[l] ?? String(l)) : 'points'));
  const { parts, px, py, box } = axes(options, xs, ys, 30 + 7 * Math.max(...names.map((n) => n.length)));
  const paths = new Map<number, string[]>(present.map((l) => [l, []]));
  points.forEach(([x, y], i) => {
    if (Number.isFinite(x) && Number.isFinite(y)) paths.get(labels ? labels[i]! : 0)!.push(`M${r1(px(x))} ${r1(py(y))}h0`);
  });
  const color = (l: number): string => CHART_COLORS[((l % 10) + 10) % 10]!;
  for (const l of present)
    parts.push(`<path d="${paths.get(l)!.join('')}" stroke="${color(l)}" stroke-opacity="0.6" stroke-width="${size}" stroke-linecap="round"/>`);
  present.forEach((l, k) => {
    const y = box.top + 8 + 18 * k;
    parts.push(
      `<circle cx="${box.right + 16}" cy="${y}" r="5" fill="${color(l)}"/><text x="${box.right + 26}" y="${y}" dy="0.35em" font-size="12" fill="#222">${escapeXml(names[k]!)}</text>`,
    );
  });
  return svg(options, parts, 'scatter plot');
}
