import type { BatchProgress, EpochMetrics } from '../vae/train.js';

/** A duration for people: `0:07`, `1:05`, `1:02:03` (h:mm:ss past an hour); `--:--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (v: number): string => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** A throughput: three significant figures below 100 (`2.50 images/s`), whole numbers above (`5322 samples/s`). */
export function formatRate(perSecond: number, unit: string): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return `- ${unit}/s`;
  return `${perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toPrecision(3)} ${unit}/s`;
}

/** Seconds left at the mean rate so far (`undefined` before any progress). */
export function remainingSeconds(done: number, total: number, elapsedSeconds: number): number | undefined {
  if (!(done > 0) || !(total >= done) || !(elapsedSeconds > 0)) return undefined;
  return (elapsedSeconds * (total - done)) / done;
}

/** `elapsed 0:12  ETA 0:30` (no ETA once done). */
export function timing(done: number, total: number, elapsedSeconds: number): string {
  return `elapsed ${formatDuration(elapsedSeconds)}${done < total ? `  ETA ${formatDuration(remainingSeconds(done, total, elapsedSeconds))}` : ''}`;
}

/** A text bar `███░░░` of `width` cells, filled in proportion to done/total. */
export function bar(done: number, total: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round((width * done) / Math.max(1, total))));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Where progress goes: a stream, whether it is a terminal, and a clock in milliseconds. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** What is counted: 'images', 'epochs', 'sections'. */
  unit: string;
  /** How many of them there are. */
  total: number;
  /** Default process.stderr. */
  stream?: ProgressSink;
  /** Redraw in place (default: the stream is a TTY); false prints plain lines only. */
  tty?: boolean;
  /** Milliseconds; default performance.now. */
  now?: () => number;
  /** Show the throughput in units/s (default true; false when the caller's detail has a better one). */
  rate?: boolean;
  /** When the work began, on the `now` clock (default: now). */
  started?: number;
}

/**
 * Progress of a long command, with elapsed time, ETA and throughput. On a terminal, `update`
 * redraws one line in place (at most ~10 times a second); in a pipe or CI log `update` prints
 * nothing and `line` prints one plain line per epoch or stage, so logs stay short.
 */
export class Progress {
  private readonly started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private done = 0;
  readonly tty: boolean;
  private readonly stream: ProgressSink;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.now = options.now ?? (() => performance.now());
    this.started = options.started ?? this.now();
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  /** `123 images/s`: the mean throughput so far. */
  rate(done = this.done): string {
    return formatRate(done / this.elapsed(), this.options.unit);
  }

  /** `elapsed 0:12  ETA 0:30  123 images/s` for `done` of the total. */
  status(done = this.done): string {
    const seconds = this.elapsed();
    const rate = this.options.rate === false ? '' : `  ${formatRate(done / seconds, this.options.unit)}`;
    return `${timing(done, this.options.total, seconds)}${rate}`;
  }

  /** On a terminal: redraws `label ███░░ done/total  detail  elapsed  ETA  rate` in place (throttled; always at the end). */
  update(done: number, label: string, detail = ''): void {
    this.done = done;
    if (!this.tty) return;
    const t = this.now();
    if (t - this.lastDraw < 100 && done < this.options.total) return;
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r\x1b[2K${label} ${bar(done, this.options.total)} ${done}/${this.options.total}${detail ? `  ${detail}` : ''}  ${this.status(done)}`);
  }

  /** A finished epoch or stage: one line, with elapsed time and ETA (on a terminal it replaces the bar). */
  line(text: string, done = this.done): void {
    this.done = done;
    const seconds = this.elapsed();
    this.stream.write(`${this.clear()}${text}  ${timing(done, this.options.total, seconds)}\n`);
  }

  /** A message between updates (a warning, a note), on its own line. */
  note(text: string): void {
    this.stream.write(`${this.clear()}${text}\n`);
  }

  /** Clears the bar (on a terminal) so the next output starts on a clean line. */
  end(): void {
    this.stream.write(this.clear());
  }

  private clear(): string {
    if (!this.drawn) return '';
    this.drawn = false;
    return '\r\x1b[2K';
  }
}

/**
 * `elbo train`'s progress: a bar over the batches of every epoch, with loss, ELBO, KL, elapsed
 * time and ETA on a terminal; one summary line per epoch (with elapsed time and ETA) everywhere.
 */
export class ProgressBar {
  private progress: Progress | null = null;
  private firstEpoch = 1;
  private batchesPerEpoch = 1;
  private readonly started: number;

  /** The clock starts now: construct it when training starts. */
  constructor(
    private readonly stream: ProgressSink = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  private of(p: { epoch: number; epochs: number; batches: number }): Progress {
    if (!this.progress) {
      this.firstEpoch = p.epoch;
      this.progress = new Progress({
        unit: 'batches',
        total: (p.epochs - p.epoch + 1) * p.batches,
        stream: this.stream,
        now: this.now,
        rate: false,
        started: this.started,
      });
    }
    return this.progress;
  }

  /** Redraws the bar after a batch (terminal only). */
  update(p: BatchProgress): void {
    const progress = this.of(p);
    const done = (p.epoch - this.firstEpoch) * p.batches + p.batch;
    this.batchesPerEpoch = p.batches;
    progress.update(
      done,
      `epoch ${p.epoch}/${p.epochs}`,
      `loss ${p.loss.toFixed(2)}  ELBO ${p.elbo.toFixed(2)}  KL ${p.kl.toFixed(2)}  ${Math.round(p.samplesPerSec)} samples/s`,
    );
  }

  /** Prints the epoch's summary line with elapsed time and ETA. */
  epochDone(m: EpochMetrics, epochs: number): void {
    const progress = this.of({ epoch: m.epoch, epochs, batches: this.batchesPerEpoch });
    const line = `epoch ${m.epoch}/${epochs}  train ELBO ${m.train_elbo.toFixed(2)}  KL ${m.train_kl.toFixed(2)}  test ELBO ${m.test_elbo.toFixed(2)}  (recon ${m.test_reconstruction.toFixed(2)}, KL ${m.test_kl.toFixed(2)})  ${Math.round(m.samples_per_sec)} samples/s  ${m.seconds.toFixed(1)} s`;
    progress.line(line, (m.epoch - this.firstEpoch + 1) * this.batchesPerEpoch);
  }
}
