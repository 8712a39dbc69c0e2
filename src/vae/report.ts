import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { encodePng } from '../io/png.js';
import { svgFileOf, type Picture } from './artifacts.js';
import type { Evaluation } from './evaluate.js';
import { type EpochMetrics, scoresAreNats, type TrainConfig } from './train.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** Escaped text with `_{…}` as a subscript (the charts' notation, see mathText). */
const math = (s: string): string => escapeHtml(s).replace(/_\{([^}]*)\}/g, '<sub>$1</sub>');
/** Nats are shown with two decimals everywhere in the report (a hundredth of a nat is below run-to-run noise). */
const nats = (v: number): string => v.toFixed(2);

/** A table of strings; no header row when `headers` is null (key-value tables). */
function table(headers: string[] | null, rows: string[][]): string {
  const head = headers ? `<thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` : '';
  return `<table>${head}<tbody>${rows.map((r) => `<tr>${r.map((v) => `<td>${math(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The settings that take effect for this model: sigma only for the fixed-σ Gaussian likelihood. */
export function applicableConfig(config: TrainConfig): [string, string][] {
  return Object.entries(config)
    .filter(([key]) => key !== 'sigma' || config.likelihood === 'gaussian')
    .map(([key, v]) => [key, Array.isArray(v) ? `[${v.join(', ')}]` : String(v)]);
}

/** What a run's report shows. */
export interface ReportContents {
  config: TrainConfig;
  metrics: readonly EpochMetrics[];
  pictures: readonly Picture[];
  /** The final test evaluation (with IWAE when computed). */
  final?: Evaluation;
  /** e.g. the command line and the machine. */
  notes?: Record<string, string>;
}

/** A self-contained HTML page (pictures inlined as data: URLs) with the run's config, metrics and pictures. */
export function renderReport(contents: ReportContents): string {
  const { config, metrics, pictures, final, notes = {} } = contents;
  const last = metrics.at(-1);
  const summary = last
    ? table(
        ['on the test set', scoresAreNats(config) ? 'nats per example' : 'nats per example, of the BCE objective (grey pixels)'],
        [
          ['ELBO (one draw per example)', nats(last.test_elbo)],
          ['reconstruction 𝔼_{q}[ln p(x|z)]', nats(last.test_reconstruction)],
          ['KL(q(z|x) ‖ p(z))', nats(last.test_kl)],
          ...(final?.iwae !== undefined ? [[`IWAE bound, k = ${final.k} (${final.n} images)`, nats(final.iwae)]] : []),
        ],
      )
    : '<p>No epoch finished.</p>';
  const perEpoch = table(
    ['epoch', 'step', 'train ELBO', 'train recon.', 'train KL', 'test ELBO', 'test recon.', 'test KL', 'KL weight', 'samples/s', 'seconds'],
    metrics.map((m) => [
      String(m.epoch),
      String(m.step),
      nats(m.train_elbo),
      nats(m.train_reconstruction),
      nats(m.train_kl),
      nats(m.test_elbo),
      nats(m.test_reconstruction),
      nats(m.test_kl),
      m.kl_weight.toFixed(3),
      String(Math.round(m.samples_per_sec)),
      m.seconds.toFixed(1),
    ]),
  );
  // Charts are inlined as SVG (they zoom, and their text can be selected); image grids as PNG.
  const figures = pictures
    .map((p) => {
      const body = p.svg ?? `<img alt="${escapeHtml(p.file)}" src="data:image/png;base64,${Buffer.from(encodePng(p.image)).toString('base64')}">`;
      const name = p.svg ? `${svgFileOf(p.file)} (PNG copy: ${p.file})` : p.file;
      return `<figure${p.svg ? ' class="chart"' : ''}>${body}<figcaption><b>${escapeHtml(name)}</b>: ${math(p.caption)}</figcaption></figure>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>elbo run report</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1280px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } figure { margin: 0; min-width: 0; }
.pictures { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1.5em 2em; align-items: start; }
img { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; } figure.chart svg { display: block; max-width: 100%; height: auto; border: 1px solid #ddd; } figcaption { font-size: 13px; color: #555; }
</style></head><body>
<h1>VAE training report</h1>
<p>The ELBO = 𝔼<sub>q(z|x)</sub>[ln p(x|z)] − KL(q(z|x) ‖ p(z)) is a lower bound on ln p(x); all numbers are in nats per example, with every constant included${scoresAreNats(config) ? `${config.binarize === 'dynamic' ? ', on the test digits binarized once by Bernoulli draws with a fixed seed' : ''}.` : '. <b>This run fed grey pixels to a Bernoulli decoder: its numbers are the negative BCE objective, not bounds on a log-likelihood</b> (train with --binarize dynamic for nats).'}</p>
${Object.keys(notes).length ? table(null, Object.entries(notes)) : ''}
<h2>Result</h2>${summary}
<h2>Pictures</h2>
<div class="pictures">
${figures}
</div>
<h2>Per epoch</h2>${perEpoch}
<h2>Configuration</h2>${table(['setting', 'value'], applicableConfig(config))}
</body></html>
`;
}

/** Writes `report.html` into `dir`; returns its path. */
export function writeReport(dir: string, contents: ReportContents): string {
  const path = join(dir, 'report.html');
  writeFileAtomic(path, new TextEncoder().encode(renderReport(contents)));
  return path;
}
