import { type WorkerHandle, wasmHost } from './host.js';

/**
 * A small persistent pool of worker threads that run tasks of one job on a shared
 * WebAssembly.Memory. Created once; each call wakes the idle workers with Atomics.notify
 * (no thread start, no message per call), the calling thread works too, and the call returns
 * when every claimed task is done. Workers are unref()'d, so they never keep a process alive.
 *
 * Protocol, all in i32 words of the memory's first page (see {@link CTL}):
 * - every worker has a state word: BOOT → IDLE (ready) → RUN (woken by the caller) → BUSY
 *   (the worker took the call) → IDLE (done);
 * - the caller writes the job, resets the task counter, sets RUN on each IDLE worker and
 *   notifies; then everyone claims task numbers with Atomics.add on one counter until it passes
 *   the task count, so the work is shared by whoever is running;
 * - when its claims run out, the caller takes back (RUN → IDLE) every wake-up a worker has not
 *   yet taken (a worker descheduled by other load costs nothing), and waits for the BUSY ones to
 *   finish their claimed tasks. RUN → BUSY and RUN → IDLE are compare-exchanges, so exactly one
 *   side wins, and a worker never sees a half-written job.
 *
 * Workers are started by the host (`host.ts`: Node's worker_threads, or Web Workers in a
 * cross-origin-isolated page) from a source string, and get the compiled modules and the memory
 * as `workerData`, so this works the same under tsx, vitest, compiled dist/ and a browser bundle.
 * Each module exports `task(job, t, slot)`; a call names the module (its kind) along with the job.
 */

/** Word indices of the control block at byte 0 of the shared memory. */
const CTL = { task: 0, ntasks: 1, job: 2, workerTasks: 3, kind: 4, state: 16 } as const;
/** Worker states. */
const STATE = { boot: 0, idle: 1, run: 2, busy: 3, exit: 4, failed: 5 } as const;
/**
 * How long (ms) an idle worker polls for the next call before it sleeps in Atomics.wait, and how
 * long the caller polls for a busy worker to finish. Waking a sleeping thread costs 50-700 µs on
 * a VM whose idle vCPU halts, so back-to-back products keep the worker awake; it is short so an
 * idle pool does not take CPU from other work for long.
 */
const WORKER_SPIN_MS = 0.3;
const CALLER_SPIN_MS = 0.2;

/** The worker's body; the host defines `workerData` and `ready()` around it. */
const workerBody = `
const { modules, memory, slot } = workerData;
const tasks = modules.map((module) => new WebAssembly.Instance(module, { env: { mem: memory } }).exports.task);
const ctl = new Int32Array(memory.buffer, 0, 64);
const me = ${CTL.state} + slot;
Atomics.store(ctl, me, ${STATE.idle});
Atomics.notify(ctl, me);
ready();
for (;;) {
  const until = performance.now() + ${WORKER_SPIN_MS};
  while (Atomics.load(ctl, me) === ${STATE.idle} && performance.now() < until);
  Atomics.wait(ctl, me, ${STATE.idle});
  if (Atomics.load(ctl, me) === ${STATE.exit}) break;
  if (Atomics.compareExchange(ctl, me, ${STATE.run}, ${STATE.busy}) !== ${STATE.run}) continue; // taken back
  try {
    const n = Atomics.load(ctl, ${CTL.ntasks});
    const job = Atomics.load(ctl, ${CTL.job});
    const task = tasks[Atomics.load(ctl, ${CTL.kind})];
    let ran = 0;
    for (let t = Atomics.add(ctl, ${CTL.task}, 1); t < n; t = Atomics.add(ctl, ${CTL.task}, 1), ran++) task(job, t, slot);
    Atomics.add(ctl, ${CTL.workerTasks}, ran);
    Atomics.store(ctl, me, ${STATE.idle});
  } catch (e) {
    Atomics.store(ctl, me, ${STATE.failed});
    Atomics.notify(ctl, me);
    throw e;
  }
  Atomics.notify(ctl, me);
}
`;

/** A pool of `size` workers; slot 0 is the calling thread, workers use slots 1..size. */
export class ThreadPool {
  private readonly workers: WorkerHandle[] = [];
  /** Whether the calling thread may sleep in Atomics.wait (else it spins: a browser's main thread). */
  private readonly canBlock = wasmHost().canBlock;
  private readonly ctl: Int32Array;
  private readonly booted: Promise<void>;

  /**
   * Starts `size` workers, each instantiating every one of `modules` on `memory` (which must be
   * shared). The pool can be used at once: workers still booting are simply not woken.
   */
  constructor(
    modules: readonly WebAssembly.Module[],
    memory: WebAssembly.Memory,
    readonly size: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, 0, 64);
    const startWorker = wasmHost().startWorker;
    if (!startWorker) throw new Error(`wasm backend: cannot start worker threads here: ${wasmHost().noThreads ?? 'unknown reason'}`);
    const ready: Promise<void>[] = [];
    for (let slot = 1; slot <= size; slot++) {
      Atomics.store(this.ctl, CTL.state + slot, STATE.boot);
      const worker = startWorker(workerBody, { modules, memory, slot });
      worker.unref();
      // A failed worker stays out of the pool (its state never becomes IDLE, or becomes FAILED).
      ready.push(
        new Promise((resolve) => {
          worker.watch(
            () => resolve(),
            () => {
              Atomics.store(this.ctl, CTL.state + slot, STATE.failed);
              resolve();
            },
          );
        }),
      );
      this.workers.push(worker);
    }
    this.booted = Promise.all(ready).then(() => undefined);
  }

  /** Resolves once every worker has started (or failed to); keeps the process alive meanwhile. */
  async ready(): Promise<void> {
    for (const w of this.workers) w.ref();
    await this.booted;
    for (const w of this.workers) w.unref();
  }

  /** How many tasks the workers (not the calling thread) have run so far. */
  workerTasks(): number {
    return Atomics.load(this.ctl, CTL.workerTasks);
  }

  /** How many workers are ready to take work now. */
  idleWorkers(): number {
    let n = 0;
    for (let slot = 1; slot <= this.size; slot++) if (Atomics.load(this.ctl, CTL.state + slot) === STATE.idle) n++;
    return n;
  }

  /**
   * Runs tasks 0..ntasks-1 of the job at byte address `job` (the `task` of module `kind`), on the
   * calling thread (as slot 0, through `runLocal`) and on up to `maxWorkers` idle workers.
   * Returns when all are done.
   */
  run(job: number, ntasks: number, maxWorkers: number, runLocal: (t: number) => void, kind = 0): void {
    const ctl = this.ctl;
    Atomics.store(ctl, CTL.job, job);
    Atomics.store(ctl, CTL.kind, kind);
    Atomics.store(ctl, CTL.ntasks, ntasks);
    Atomics.store(ctl, CTL.task, 0);
    const woken: number[] = [];
    for (let slot = 1; slot <= this.size && woken.length < maxWorkers; slot++) {
      if (Atomics.compareExchange(ctl, CTL.state + slot, STATE.idle, STATE.run) === STATE.idle) {
        Atomics.notify(ctl, CTL.state + slot);
        woken.push(slot);
      }
    }
    let error: unknown;
    try {
      for (let t = Atomics.add(ctl, CTL.task, 1); t < ntasks; t = Atomics.add(ctl, CTL.task, 1)) runLocal(t);
    } catch (e) {
      error = e;
      Atomics.store(ctl, CTL.task, ntasks); // stop the workers claiming more
    }
    for (const slot of woken) {
      const at = CTL.state + slot;
      if (Atomics.compareExchange(ctl, at, STATE.run, STATE.idle) === STATE.run) continue; // never started
      const until = performance.now() + CALLER_SPIN_MS;
      while (Atomics.load(ctl, at) === STATE.busy && performance.now() < until);
      if (this.canBlock) while (Atomics.load(ctl, at) === STATE.busy) Atomics.wait(ctl, at, STATE.busy, 1000);
      else while (Atomics.load(ctl, at) === STATE.busy); // a browser's main thread may not block
      if (Atomics.load(ctl, at) === STATE.failed) error ??= new Error(`wasm matmul: worker ${slot} failed`);
    }
    if (error !== undefined) throw error;
  }

  /** Stops the workers. The pool cannot be used afterwards. */
  async dispose(): Promise<void> {
    for (let slot = 1; slot <= this.size; slot++) {
      Atomics.store(this.ctl, CTL.state + slot, STATE.exit);
      Atomics.notify(this.ctl, CTL.state + slot);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
