import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { encodePng } from '../io/png.js';
import type { Picture } from './artifacts.js';
import type { Evaluation } from './evaluate.js';
import { type EpochMetrics, scoresAreNats, type TrainConfig } from './train.js';

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 2 : 4));

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number): string => `<td>${escape(typeof v === 'number' ? num(v) : v)}</td>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
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
  const configRows = Object.entries(config).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(', ')}]` : String(v)]);
  const summary = last
    ? table(['', scoresAreNats(config) ? 'nats per example' : 'nats per example, of the BCE objective (grey pixels)'], [
        ['test ELBO (one draw per example)', last.test_elbo],
        ['test reconstruction E_q[ln p(x|z)]', last.test_reconstruction],
        ['test KL(q(z|x) || p(z))', last.test_kl],
        ...(final?.iwae !== undefined ? [[`test IWAE bound, k = ${final.k}`, final.iwae] as [string, number]] : []),
      ])
    : '<p>No epoch finished.</p>';
  const perEpoch = table(
    ['epoch', 'step', 'train ELBO', 'train recon.', 'train KL', 'test ELBO', 'test recon.', 'test KL', 'KL weight', 'samples/s', 'seconds'],
    metrics.map((m) => [m.epoch, m.step, m.train_elbo, m.train_reconstruction, m.train_kl, m.test_elbo, m.test_reconstruction, m.test_kl, m.kl_weight, Math.round(m.samples_per_sec), m.seconds]),
  );
  const figures = pictures
    .map((p) => `<figure><img alt="${escape(p.file)}" src="data:image/png;base64,${Buffer.from(encodePng(p.image)).toString('base64')}"><figcaption><b>${escape(p.file)}</b>: ${escape(p.caption)}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>elbo run report</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } figure { display: inline-block; margin: 1em 1em 1em 0; vertical-align: top; max-width: 660px; }
img { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; } figcaption { font-size: 13px; color: #555; }
</style></head><body>
<h1>VAE training report</h1>
<p>The ELBO = E<sub>q</sub>[ln p(x|z)] − KL(q(z|x) || p(z)) is a lower bound on ln p(x); all numbers are in nats per example, with every constant included${scoresAreNats(config) ? `${config.binarize === 'dynamic' ? ', on the test digits binarized once by Bernoulli draws with a fixed seed' : ''}.` : '. <b>This run fed grey pixels to a Bernoulli decoder: its numbers are the negative BCE objective, not bounds on a log-likelihood</b> (train with --binarize dynamic for nats).'}</p>
${Object.keys(notes).length ? table(['', ''], Object.entries(notes)) : ''}
<h2>Result</h2>${summary}
<h2>Pictures</h2>
${figures}
<h2>Per epoch</h2>${perEpoch}
<h2>Configuration</h2>${table(['setting', 'value'], configRows)}
</body></html>
`;
}

/** Writes `report.html` into `dir`; returns its path. */
export function writeReport(dir: string, contents: ReportContents): string {
  const path = join(dir, 'report.html');
  writeFileAtomic(path, new TextEncoder().encode(renderReport(contents)));
  return path;
}
