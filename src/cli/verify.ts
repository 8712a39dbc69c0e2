import { runVerify, VERIFY_SECTIONS, type VerifySection } from '../verify/run.js';
import type { VerifyRow } from '../verify/rows.js';
import { int, parse, UsageError } from './args.js';
import { Progress } from './progress.js';

const HELP = `elbo verify: the math checked against exact ground truth, by the engine, in float64

Usage: elbo verify [options]

Each row compares two numbers computed independently (a closed form, a quadrature, or a large
sample) and passes when they satisfy the stated relation within the stated tolerance.

  --fast                smaller data, grids and samples (about 3× faster)
  --only LIST           comma-separated sections: ${VERIFY_SECTIONS.join(', ')}
  --seed S              seed of every random draw (default 1)
  --json                print one JSON object (rows, seconds per section) instead of a table
  -h, --help            this help

Exit status: 0 when every row passes, 1 otherwise.
`;

/** Formats a number for the table: fixed for moderate magnitudes, exponential otherwise. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(8))) : v.toExponential(2);
}

/** The rows as an aligned text table, one section after another, each note on its own line. */
export function formatTable(rows: readonly VerifyRow[], seconds: ReadonlyMap<string, number>): string {
  const header = ['', 'lhs', '', 'rhs', 'diff', 'tolerance'];
  const cells = rows.map((r) => [
    r.pass ? 'ok' : 'FAIL',
    formatNumber(r.lhs),
    r.relation,
    formatNumber(r.rhs),
    formatNumber(r.diff),
    r.relation === '<' || r.relation === '>' ? '-' : formatNumber(r.tolerance),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (cols: string[]): string => cols.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  const out: string[] = [];
  let section = '';
  rows.forEach((r, i) => {
    if (r.section !== section) {
      section = r.section;
      const s = seconds.get(section);
      out.push('', `${section}${s === undefined ? '' : ` (${s.toFixed(1)} s)`}`, `  ${line(header)}  check`);
    }
    out.push(`  ${line(cells[i]!)}  ${r.name}`);
    if (r.note) out.push(`  ${' '.repeat(widths.reduce((a, b) => a + b + 2, 0))}${r.note}`);
  });
  return out.join('\n').slice(1) + '\n';
}

/** `elbo verify`: runs {@link runVerify}, prints the table (or JSON), and fails when any row fails. */
export async function verifyCommand(argv: string[]): Promise<void> {
  const { values } = parse('verify', argv, { fast: { type: 'boolean' }, only: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  let sections: VerifySection[] = [...VERIFY_SECTIONS];
  if (values.only !== undefined) {
    const asked = String(values.only)
      .split(',')
      .map((s) => s.trim());
    const unknown = asked.filter((s) => !(VERIFY_SECTIONS as readonly string[]).includes(s));
    if (unknown.length > 0 || asked.length === 0)
      throw new UsageError(`--only takes a comma-separated list of ${VERIFY_SECTIONS.join(', ')}; got '${String(values.only)}'`);
    sections = asked as VerifySection[];
  }
  const seed = int('seed', values.seed, 1, 0);
  const seconds = new Map<string, number>();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const progress = new Progress({ unit: 'sections', total: sections.length, rate: false });
  const rows = runVerify({
    fast: values.fast === true,
    seed,
    sections,
    onSectionStart: (name) => values.json || progress.update(seconds.size, `verify: ${name}`),
    onSection: (name, _rows, s) => {
      seconds.set(name, s);
      if (!values.json) progress.line(`  ${name} done in ${s.toFixed(1)} s (${seconds.size}/${sections.length} sections)`, seconds.size);
    },
  });
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const failed = rows.filter((r) => !r.pass).length;
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ ok: failed === 0, rows, seconds: Object.fromEntries(seconds), wallSeconds: wall, cpuSeconds, fast: values.fast === true, seed }) + '\n',
    );
  } else {
    process.stdout.write(formatTable(rows, seconds));
    process.stdout.write(`\n${rows.length - failed} of ${rows.length} checks pass; ${wall.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU\n`);
  }
  if (failed > 0)
    throw new Error(
      `${failed} of ${rows.length} checks failed: ${rows
        .filter((r) => !r.pass)
        .map((r) => r.name)
        .join('; ')}`,
    );
}
