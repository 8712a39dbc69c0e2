import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatNumber, formatTable } from '../../src/cli/verify.js';
import { row } from '../../src/verify/rows.js';
import { VERIFY_SECTIONS } from '../../src/verify/run.js';

const elbo = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

describe('elbo verify (command line)', () => {
  it('--only ppca --json prints one JSON object whose rows all pass, and exits 0', () => {
    const r = elbo('verify', '--only', 'ppca', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; rows: Array<{ pass: boolean; section: string }>; seconds: Record<string, number> };
    expect(out.ok).toBe(true);
    expect(out.rows.length).toBeGreaterThan(3);
    expect(out.rows.every((x) => x.pass && x.section === 'ppca')).toBe(true);
    expect(Object.keys(out.seconds)).toEqual(['ppca']);
  }, 60_000);

  it('prints a table with a summary line', () => {
    const r = elbo('verify', '--only', 'ppca');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ppca \(\d+\.\d s\)\n/);
    expect(r.stdout).toMatch(/\n(\d+) of \1 checks pass; [\d.]+ s wall, [\d.]+ s CPU\n$/);
  }, 60_000);

  it('rejects an unknown section with a usage error (exit 2)', () => {
    const r = elbo('verify', '--only', 'nonsense');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--only takes a comma-separated list of ${VERIFY_SECTIONS.join(', ')}; got 'nonsense'`);
  }, 60_000);

  it('formats numbers and marks failing rows FAIL', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-16.506770382742253)).toBe('-16.50677');
    expect(formatNumber(7.07e-13)).toBe('7.07e-13');
    const table = formatTable([row('s', 'good', 1, '=', 1, 0), row('s', 'bad', 2, '≤', 1, 0, 'why')], new Map([['s', 1.25]]));
    expect(table).toContain('s (1.3 s)');
    expect(table).toMatch(/\n {2}ok .* good\n/);
    expect(table).toMatch(/\n {2}FAIL .* bad\n +why\n/);
  });
});
