import { describe, expect, it } from 'vitest';
import { dampedEStep } from '../../src/baselines/em.js';
import { verifyMixtures } from '../../src/verify/mixtures.js';

describe('verify: EM rows', () => {
  it('pass with the exact E-step', () => {
    const rows = verifyMixtures({ images: 200, iterations: 8 });
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(rows.filter((r) => !r.pass).map((r) => r.name)).toEqual([]);
  });

  it('fail when the exact E-step is replaced by a damped one (the injected break is caught)', () => {
    const rows = verifyMixtures({ images: 200, iterations: 8, eStep: dampedEStep(0.5) });
    const failed = rows.filter((r) => !r.pass).map((r) => r.name);
    expect(failed.some((name) => name.includes('after every E-step'))).toBe(true);
  });
});
