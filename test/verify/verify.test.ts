import { describe, expect, it } from 'vitest';
import { runVerify, VERIFY_SECTIONS } from '../../src/verify/run.js';
import { row } from '../../src/verify/rows.js';

/**
 * `elbo verify` with its fast settings: every exact-ground-truth row must pass. One test per
 * section, so a failure names the section and the rows that failed.
 */
describe('elbo verify (fast settings): every row passes', () => {
  for (const section of VERIFY_SECTIONS) {
    it(section, () => {
      const rows = runVerify({ fast: true, sections: [section] });
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.section).toBe(section);
        expect(Number.isFinite(r.lhs) && Number.isFinite(r.rhs)).toBe(true);
        expect(r.diff).toBe(r.lhs - r.rhs);
      }
      const failed = rows.filter((r) => !r.pass).map((r) => `${r.name}: lhs ${r.lhs} ${r.relation} rhs ${r.rhs} (tolerance ${r.tolerance})`);
      expect(failed).toEqual([]);
    }, 120_000);
  }
});

describe('a verify row', () => {
  it('decides pass from its relation and tolerance', () => {
    expect(row('s', '=', 1, '=', 1.5, 0.5).pass).toBe(true);
    expect(row('s', '=', 1, '=', 1.6, 0.5).pass).toBe(false);
    expect(row('s', '≤', 2, '≤', 1, 1).pass).toBe(true);
    expect(row('s', '≤', 2.1, '≤', 1, 1).pass).toBe(false);
    expect(row('s', '≥', 0, '≥', 1, 1).pass).toBe(true);
    expect(row('s', '<', 1, '<', 1, 0).pass).toBe(false);
    expect(row('s', '>', 1.1, '>', 1, 0).pass).toBe(true);
    expect(row('s', 'NaN never passes', NaN, '≤', 0, Infinity).pass).toBe(false);
  });
});
