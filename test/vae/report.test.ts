import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/vae/report.js';
import { DEFAULT_TRAIN_CONFIG, type EpochMetrics } from '../../src/vae/train.js';

const metrics: EpochMetrics[] = [{
  epoch: 1, step: 10, train_loss: 120, train_elbo: -120, train_reconstruction: -100, train_kl: 20, test_elbo: -118, test_reconstruction: -99,
  test_kl: 19, kl_weight: 1, samples_per_sec: 1000, seconds: 1, backend: 'cpu',
}];

describe('the run report labels its numbers', () => {
  it('calls a grey-pixel Bernoulli run the BCE objective, not a log-likelihood bound', () => {
    const html = renderReport({ config: { ...DEFAULT_TRAIN_CONFIG, binarize: 'none' }, metrics, pictures: [] });
    expect(html).toContain('nats per example, of the BCE objective (grey pixels)');
    expect(html).toContain('not bounds on a log-likelihood');
  });

  it('calls a dynamically binarized run nats on the test digits binarized once', () => {
    const html = renderReport({ config: { ...DEFAULT_TRAIN_CONFIG, binarize: 'dynamic' }, metrics, pictures: [] });
    expect(html).not.toContain('BCE objective');
    expect(html).toContain('test digits binarized once by Bernoulli draws with a fixed seed');
  });
});
