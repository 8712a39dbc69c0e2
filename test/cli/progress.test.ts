import { describe, expect, it } from 'vitest';
import { bar, formatDuration, formatRate, Progress, ProgressBar, remainingSeconds, timing } from '../../src/cli/progress.js';
import { didYouMean, editDistance, plural, warmupWarning } from '../../src/cli/messages.js';
import type { BatchProgress, EpochMetrics } from '../../src/vae/train.js';

/** A stream that records what is written, and a clock the test moves by hand. */
function fakes(isTTY: boolean) {
  const out: string[] = [];
  const clock = { ms: 0 };
  return { out, clock, stream: { isTTY, write: (s: string) => out.push(s) }, now: () => clock.ms };
}

describe('progress formatting', () => {
  it('durations read m:ss, or h:mm:ss past an hour', () => {
    expect([0, 7.4, 65, 600, 3723, 36000].map(formatDuration)).toEqual(['0:00', '0:07', '1:05', '10:00', '1:02:03', '10:00:00']);
    expect([undefined, NaN, -1, Infinity].map(formatDuration)).toEqual(['--:--', '--:--', '--:--', '--:--']);
  });

  it('rates have three significant figures below 100, whole numbers above', () => {
    expect([formatRate(5321.7, 'samples'), formatRate(14.42, 'images'), formatRate(0.6271, 'epochs'), formatRate(0, 'x')]).toEqual([
      '5322 samples/s',
      '14.4 images/s',
      '0.627 epochs/s',
      '- x/s',
    ]);
  });

  it('the ETA is the time left at the mean rate so far', () => {
    expect(remainingSeconds(25, 100, 10)).toBe(30);
    expect(remainingSeconds(0, 100, 10)).toBeUndefined();
    expect(timing(25, 100, 10)).toBe('elapsed 0:10  ETA 0:30');
    expect(timing(100, 100, 42)).toBe('elapsed 0:42');
    expect(bar(1, 4, 8)).toBe('██░░░░░░');
  });
});

describe('Progress', () => {
  it('in a pipe: update prints nothing; each stage is one plain line with elapsed time and ETA', () => {
    const f = fakes(false);
    const p = new Progress({ unit: 'images', total: 300, stream: f.stream, now: f.now });
    f.clock.ms = 5000;
    p.update(100, 'eval');
    expect(f.out).toEqual([]);
    p.line(`eval: 100/300 images  ${p.rate(100)}`, 100);
    f.clock.ms = 15000;
    p.line('eval: done', 300);
    expect(f.out).toEqual(['eval: 100/300 images  20.0 images/s  elapsed 0:05  ETA 0:10\n', 'eval: done  elapsed 0:15\n']);
    expect(f.out.join('')).not.toContain('\r');
  });

  it('on a terminal: redraws one line in place with elapsed, ETA and throughput; a stage line replaces it', () => {
    const f = fakes(true);
    const p = new Progress({ unit: 'images', total: 200, stream: f.stream, now: f.now });
    f.clock.ms = 4000;
    p.update(50, 'eval');
    f.clock.ms = 4050;
    p.update(60, 'eval'); // within 100 ms of the last draw: skipped
    expect(f.out).toEqual([`\r\x1b[2Keval ${bar(50, 200)} 50/200  elapsed 0:04  ETA 0:12  12.5 images/s`]);
    p.line('stage done', 60);
    expect(f.out.at(-1)).toBe('\r\x1b[2Kstage done  elapsed 0:04  ETA 0:09\n');
    p.note('after a line, no clearing needed');
    expect(f.out.at(-1)).toBe('after a line, no clearing needed\n');
  });
});

describe('ProgressBar (elbo train)', () => {
  const batch = (epoch: number, b: number): BatchProgress => ({ epoch, epochs: 2, batch: b, batches: 10, loss: 150, elbo: -150, kl: 20, samplesPerSec: 5000 });
  const metrics = (epoch: number): EpochMetrics => ({
    epoch,
    step: 10 * epoch,
    train_loss: 150,
    train_elbo: -150,
    train_reconstruction: -130,
    train_kl: 20,
    test_elbo: -140,
    test_reconstruction: -121,
    test_kl: 19,
    kl_weight: 1,
    samples_per_sec: 5000,
    seconds: 2,
    backend: 'cpu',
  });

  it('prints one line per epoch in a pipe, with the ETA of the remaining epochs', () => {
    const f = fakes(false);
    const bar = new ProgressBar(f.stream, f.now);
    for (let b = 1; b <= 10; b++) bar.update(batch(1, b));
    f.clock.ms = 3000;
    bar.epochDone(metrics(1), 2);
    for (let b = 1; b <= 10; b++) bar.update(batch(2, b));
    f.clock.ms = 6000;
    bar.epochDone(metrics(2), 2);
    expect(f.out).toHaveLength(2);
    expect(f.out[0]).toMatch(/^epoch 1\/2 {2}train ELBO -150\.00 .* elapsed 0:03 {2}ETA 0:03\n$/);
    expect(f.out[1]).toMatch(/^epoch 2\/2 .* elapsed 0:06\n$/);
  });

  it('draws the bar over every epoch on a terminal, with elapsed time and ETA', () => {
    const f = fakes(true);
    const bar = new ProgressBar(f.stream, f.now);
    f.clock.ms = 1000;
    bar.update(batch(1, 5));
    expect(f.out[0]).toContain('epoch 1/2');
    expect(f.out[0]).toContain('5/20');
    expect(f.out[0]).toContain('elapsed 0:01  ETA 0:03');
  });
});

describe('messages', () => {
  it('suggests the closest command or flag, and nothing for a word far from all', () => {
    const commands = ['train', 'eval', 'sample', 'reconstruct', 'interpolate', 'info', 'verify', 'collapse', 'serve', 'bench'];
    expect(['trian', 'evl', 'smaple', 'recon', 'colapse', 'bnech', 'serv'].map((w) => didYouMean(w, commands))).toEqual([
      'train',
      'eval',
      'sample',
      'reconstruct',
      'collapse',
      'bench',
      'serve',
    ]);
    expect(didYouMean('frobnicate', commands)).toBeUndefined();
    expect(didYouMean('epoch', ['epochs', 'batch', 'lr'])).toBe('epochs');
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('says 1 epoch, 2 epochs; warns only when the warm-up is longer than the run', () => {
    expect([plural(1, 'epoch'), plural(2, 'epoch'), plural(0, 'epoch')]).toEqual(['1 epoch', '2 epochs', '0 epochs']);
    expect(warmupWarning(2, 1)).toBe('--warmup 2 is longer than the run (1 epoch): the KL weight rises only to about 50% of beta');
    expect(warmupWarning(2, 2)).toBeUndefined();
    expect(warmupWarning(0, 1)).toBeUndefined();
  });
});
