/**
 * The PyTorch training step, timed by bench/peers/train_step.py in a child process (Debian's
 * torch 1.13 on OpenBLAS, through /usr/bin/python3), with its result parsed from the JSON line it
 * prints last. `OMP_WAIT_POLICY=PASSIVE` keeps libgomp's threads from spinning on a shared
 * machine; `LD_LIBRARY_PATH` pins the pthread OpenBLAS (see bench/peers/README.md).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type PairedOptions, type PairedOurs, type PairedTrainStep, pairedRounds } from '../../src/cli/bench-paired.js';
import { round, type TrainStepResult } from '../../src/cli/bench-timing.js';

/** The interpreter with Debian's python3-torch. */
export const PYTHON = '/usr/bin/python3';
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const SCRIPT = fileURLToPath(new URL('./train_step.py', import.meta.url));

/** The environment the child runs in. */
function env(): NodeJS.ProcessEnv {
  return { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', LD_LIBRARY_PATH: OPENBLAS_DIR, PYTHONDONTWRITEBYTECODE: '1' };
}

/** Why PyTorch cannot run here, or null if `/usr/bin/python3` imports torch. */
export function torchUnavailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { env: env(), encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

/** The JSON line train_step.py prints (the fields used here). */
interface TorchJson {
  torch: string;
  threads: number;
  blas: string;
  blas_threads: number | null;
  blas_libs: string[];
  median_ms: number;
  min_ms: number;
  max_ms: number;
  samples_per_sec: number;
  cpu_ms_per_step?: number;
  loss?: number;
  warmup: number;
  steps: number;
  batch: number;
}

/** "OpenBLAS 0.3.21 Cooperlake (BLAS threads: 2; libopenblas.so.0)" from what train_step.py reports. */
function blasDetail(j: Pick<TorchJson, 'blas' | 'blas_threads' | 'blas_libs'>): string {
  const blas = j.blas.replace(/ NO_LAPACKE| DYNAMIC_ARCH| NO_AFFINITY| MAX_THREADS=\d+| core=\S+/g, '');
  const libs = j.blas_libs
    .map((l) => l.split('/').at(-1))
    .filter((l) => l?.startsWith('libopenblas'))
    .join(', ');
  return `${blas} (BLAS threads: ${j.blas_threads ?? '?'}; ${libs || 'no OpenBLAS mapped'})`;
}

/** Warm-up and timed steps per model, full and `quick`: the conv VAE's step costs about ten times the MLP's. */
const TORCH_STEPS = {
  mlp: { full: [50, 300], quick: [10, 30] },
  conv: { full: [20, 100], quick: [5, 15] },
} as const;

/**
 * Times PyTorch's step with `threads` torch (and OpenBLAS) threads, for the standard MLP VAE or
 * (`arch` 'conv') elbo's conv VAE; `quick` runs fewer steps (mlp: 10 + 30 instead of 50 + 300;
 * conv: 5 + 15 instead of 20 + 100).
 */
export function torchTrainStep(threads: number, quick: boolean, arch: 'mlp' | 'conv' = 'mlp'): TrainStepResult {
  const [warmup, steps] = TORCH_STEPS[arch][quick ? 'quick' : 'full'];
  const args = [SCRIPT, '--arch', arch, '--threads', String(threads), '--warmup', String(warmup), '--steps', String(steps)];
  const r = spawnSync(PYTHON, args, { env: env(), encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`train_step.py exited with ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').at(-1) ?? ''}`);
  const line = r.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error('train_step.py printed no JSON line');
  const j = JSON.parse(line) as TorchJson;
  return {
    impl: 'pytorch',
    version: j.torch,
    backend: 'openblas',
    threads: j.threads,
    batch: j.batch,
    detail: blasDetail(j),
    ms_median: round(j.median_ms),
    ms_min: round(j.min_ms),
    ms_max: round(j.max_ms),
    samples_per_sec: j.samples_per_sec,
    cpu_ms_per_step: j.cpu_ms_per_step ?? null,
    warmup: j.warmup,
    steps: j.steps,
    loss: j.loss ?? NaN,
  };
}

/** What `train_step.py --serve` prints once warm. */
export interface TorchServerInfo {
  torch: string;
  threads: number;
  batch: number;
  /** e.g. "OpenBLAS 0.3.21 Cooperlake (BLAS threads: 2; libopenblas.so.0)". */
  detail: string;
  warmup: number;
}

/** One block's reply to `run N`. */
export interface TorchBlock {
  times_ms: number[];
  /** Process CPU ms of the block (Python's `time.process_time`). */
  cpu_ms: number;
  loss: number;
}

/**
 * A running `train_step.py --serve` (the MLP VAE's step, batch 128): {@link TorchServer.start}
 * spawns it with the environment of {@link torchTrainStep} and waits until it is warm;
 * {@link TorchServer.run} times a block of steps; {@link TorchServer.close} ends it.
 */
export class TorchServer {
  private readonly waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  private exited: Error | null = null;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** What the server reported when ready. */
    public info: TorchServerInfo,
  ) {}

  /** Spawns the server with `threads` torch and OpenBLAS threads and `warmup` warm-up steps; resolves when it is ready. */
  static async start(threads: number, warmup = 50): Promise<TorchServer> {
    const args = [SCRIPT, '--serve', '--arch', 'mlp', '--threads', String(threads), '--warmup', String(warmup)];
    const child = spawn(PYTHON, args, { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const server = new TorchServer(child, { torch: '', threads, batch: 0, detail: '', warmup });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => void (server.stderr = (server.stderr + chunk).slice(-2000)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => server.waiting.shift()?.resolve(line));
    const fail = (why: string): void => {
      const last = server.stderr.trim().split('\n').at(-1) ?? '';
      server.exited = new Error(`train_step.py --serve ${why}${last ? `: ${last}` : ''}`);
      for (const w of server.waiting.splice(0)) w.reject(server.exited);
    };
    child.on('error', (error) => fail(`could not start (${error.message})`));
    child.on('close', (code, signal) => fail(`exited with ${code ?? signal}`));
    try {
      const line = await server.next();
      const ready = (line.startsWith('{') ? JSON.parse(line) : {}) as TorchJson & { ready?: boolean };
      if (!ready.ready) throw new Error(`train_step.py --serve: expected a ready line, got ${line.slice(0, 200)}`);
      server.info = { torch: ready.torch, threads: ready.threads, batch: ready.batch, detail: blasDetail(ready), warmup: ready.warmup };
      return server;
    } catch (error) {
      child.kill();
      throw error;
    }
  }

  /** The next line the server prints. */
  private next(): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends one command line and returns the JSON line it answers with. */
  private async request(command: string): Promise<unknown> {
    const reply = this.next();
    this.child.stdin.write(`${command}\n`);
    const j = JSON.parse(await reply) as { error?: string };
    if (j.error) throw new Error(`train_step.py --serve: ${j.error}`);
    return j;
  }

  /** Runs `steps` training steps, timing each (ms). */
  run(steps: number): Promise<TorchBlock> {
    return this.request(`run ${steps}`) as Promise<TorchBlock>;
  }

  /** Sends a raw command line (a test of the protocol's error reply). */
  send(command: string): Promise<unknown> {
    return this.request(command);
  }

  /** The server process's CPU time so far (ms, all threads; from /proc, in clock ticks of 10 ms). */
  cpuMs(): number {
    const pid = this.child.pid;
    if (pid === undefined) return NaN;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime: USER_HZ is 100 on Linux
  }

  /** Sends `quit` and resolves with the exit code once the process has ended. */
  async close(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const done = new Promise<number | null>((resolve) => this.child.once('close', (code) => resolve(code)));
    this.child.stdin.end('quit\n');
    return done;
  }
}

/**
 * Times elbo's step (`ours`) and PyTorch's at the same thread count in alternating rounds (see
 * {@link pairedRounds}); the PyTorch side is a {@link TorchServer}, closed at the end.
 */
export async function pairedTorchTrainStep(ours: PairedOurs, o: PairedOptions): Promise<PairedTrainStep> {
  const server = await TorchServer.start(ours.threads, o.warmup);
  try {
    let theirsLoss = NaN;
    const timing = await pairedRounds(
      {
        steps: ours.steps,
        cpuMs: () => {
          const cpu = process.cpuUsage();
          return (cpu.user + cpu.system) / 1e3;
        },
      },
      {
        steps: async (n) => {
          const block = await server.run(n);
          theirsLoss = block.loss;
          return block.times_ms;
        },
        cpuMs: () => server.cpuMs(),
      },
      o,
    );
    return {
      threads: ours.threads,
      ours: ours.detail,
      theirs: `PyTorch ${server.info.torch}, ${server.info.detail}`,
      ...timing,
      ours_loss: ours.loss(),
      theirs_loss: theirsLoss,
    };
  } finally {
    await server.close();
  }
}
