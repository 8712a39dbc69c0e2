import { describe, expect, it } from 'vitest';
import { runBaselines } from '../../src/baselines/table.js';
import { formatBaselines } from '../../src/cli/baselines.js';
import { loadMnist } from '../../src/data/mnist.js';

describe('the baselines table', () => {
  it('scores KDE, mixtures and a VAE on one test set; KDE and mixtures are deterministic given the seed', () => {
    const data = loadMnist();
    const options = { trainLimit: 400, heldOut: 100, testLimit: 40, components: [2, 4], iterations: 3, vaeEpochs: 1, iwaeK: 4, seed: 3 };
    const { rows, description } = runBaselines(data, options);
    expect(rows.map((r) => r.model)).toEqual([
      'KDE, Bernoulli-product kernel',
      'Bernoulli mixture, K = 2 (EM)',
      'Bernoulli mixture, K = 4 (EM)',
      'VAE, ELBO (one draw)',
      'VAE, IWAE bound, k = 4',
    ]);
    expect(rows.map((r) => r.kind)).toEqual(['exact', 'exact', 'exact', 'lower bound', 'lower bound']);
    for (const r of rows) {
      expect(Number.isFinite(r.nats)).toBe(true);
      expect(r.nats).toBeLessThan(0); // a log-probability of a binary image
    }
    expect(description).toBe('300 training images (+100 held out), 40 test images');
    const again = runBaselines(data, { ...options, components: [2], vaeEpochs: 1 }).rows;
    expect(again[0]!.nats).toBe(rows[0]!.nats);
    expect(again[1]!.nats).toBe(rows[1]!.nats);
    const table = formatBaselines('mnist', rows);
    expect(table).toContain('lower bound on ln p(x)');
    expect(table.split('\n')[2]).toMatch(/^KDE, Bernoulli-product kernel\s+-\d+\.\d\d\s+ln p\(x\)/);
  });
});
