import type { BatchProgress, EpochMetrics } from '../vae/train.js';

/**
 * A one-line progress bar per epoch on a terminal (redrawn in place, at most ~10 times a
 * second); on a pipe or file, just one summary line per epoch.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(p: BatchProgress): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.batch < p.batches) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.round((width * p.batch) / p.batches);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.stream.write(`\r\x1b[2Kepoch ${p.epoch}/${p.epochs} ${bar} ${p.batch}/${p.batches}  loss ${p.loss.toFixed(2)}  ELBO ${p.elbo.toFixed(2)}  KL ${p.kl.toFixed(2)}  ${Math.round(p.samplesPerSec)} samples/s`);
  }

  epochDone(m: EpochMetrics, epochs: number): void {
    const line = `epoch ${m.epoch}/${epochs}  train ELBO ${m.train_elbo.toFixed(2)}  KL ${m.train_kl.toFixed(2)}  test ELBO ${m.test_elbo.toFixed(2)}  (recon ${m.test_reconstruction.toFixed(2)}, KL ${m.test_kl.toFixed(2)})  ${Math.round(m.samples_per_sec)} samples/s  ${m.seconds.toFixed(1)} s`;
    this.stream.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}
