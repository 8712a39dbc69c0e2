import { describe, expect, it } from 'vitest';
import { curvePictures } from '../../src/vae/artifacts.js';
import { applicableConfig, renderReport } from '../../src/vae/report.js';
import { DEFAULT_TRAIN_CONFIG, type EpochMetrics } from '../../src/vae/train.js';

const metric = (epoch: number, elbo: number): EpochMetrics => ({
  epoch,
  step: 100 * epoch,
  train_loss: -elbo,
  train_elbo: elbo - Math.PI,
  train_reconstruction: elbo - 20.5,
  train_kl: 17.25,
  test_elbo: elbo,
  test_reconstruction: elbo - 19.98765,
  test_kl: 19.98765,
  kl_weight: 1,
  samples_per_sec: 5321.7,
  seconds: 1.234,
  backend: 'cpu',
});

describe('report.html', () => {
  const metrics = [metric(1, -150.12345), metric(2, -114.15)];
  const html = renderReport({
    config: DEFAULT_TRAIN_CONFIG,
    metrics,
    pictures: curvePictures(metrics),
    final: { elbo: -114, reconstruction: -90, kl: 24, iwae: -90.3544, k: 100, n: 500 },
    notes: { backend: 'cpu', node: 'v20' },
  });

  it('inlines the charts as SVG with text elements', () => {
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).toContain('<text');
    expect(html).toContain('KL(q(z|x) ‖ p(z))');
  });

  it('has no empty header row and shows every number of nats with two decimals', () => {
    expect(html).not.toMatch(/<th><\/th>/);
    expect(html).toContain('<td>-90.35</td>');
    expect(html).toContain('<td>-114.15</td>');
    const cells = [...html.slice(0, html.indexOf('<h2>Configuration')).matchAll(/<td>(-?\d+\.\d+)<\/td>/g)].map((m) => m[1]!);
    expect(cells.filter((c) => /\.\d{3,}$/.test(c) && c !== '1.000')).toEqual([]);
  });

  it('lists sigma only for the fixed-sigma Gaussian likelihood', () => {
    expect(applicableConfig({ ...DEFAULT_TRAIN_CONFIG, likelihood: 'bernoulli' }).map(([k]) => k)).not.toContain('sigma');
    expect(applicableConfig({ ...DEFAULT_TRAIN_CONFIG, likelihood: 'gaussian-learned' }).map(([k]) => k)).not.toContain('sigma');
    expect(applicableConfig({ ...DEFAULT_TRAIN_CONFIG, likelihood: 'gaussian', sigma: 0.5 })).toContainEqual(['sigma', '0.5']);
    expect(html).not.toContain('<td>sigma</td>');
  });
});

const oneEpoch: EpochMetrics[] = [
  {
    epoch: 1,
    step: 10,
    train_loss: 120,
    train_elbo: -120,
    train_reconstruction: -100,
    train_kl: 20,
    test_elbo: -118,
    test_reconstruction: -99,
    test_kl: 19,
    kl_weight: 1,
    samples_per_sec: 1000,
    seconds: 1,
    backend: 'cpu',
  },
];

describe('the run report labels its numbers', () => {
  it('calls a grey-pixel Bernoulli run the BCE objective, not a log-likelihood bound', () => {
    const html = renderReport({ config: { ...DEFAULT_TRAIN_CONFIG, binarize: 'none' }, metrics: oneEpoch, pictures: [] });
    expect(html).toContain('nats per example, of the BCE objective (grey pixels)');
    expect(html).toContain('not bounds on a log-likelihood');
  });

  it('calls a dynamically binarized run nats on the test digits binarized once', () => {
    const html = renderReport({ config: { ...DEFAULT_TRAIN_CONFIG, binarize: 'dynamic' }, metrics: oneEpoch, pictures: [] });
    expect(html).not.toContain('BCE objective');
    expect(html).toContain('test digits binarized once by Bernoulli draws with a fixed seed');
  });
});
