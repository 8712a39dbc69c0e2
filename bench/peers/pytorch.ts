/**
 * The PyTorch training step, timed by bench/peers/train_step.py in a child process (Debian's
 * torch 1.13 on OpenBLAS, through /usr/bin/python3), with its result parsed from the JSON line it
 * prints last. `OMP_WAIT_POLICY=PASSIVE` keeps libgomp's threads from spinning on a shared
 * machine; `LD_LIBRARY_PATH` pins the pthread OpenBLAS (see bench/peers/README.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  const blas = j.blas.replace(/ NO_LAPACKE| DYNAMIC_ARCH| NO_AFFINITY| MAX_THREADS=\d+| core=\S+/g, '');
  return {
    impl: 'pytorch',
    version: j.torch,
    backend: 'openblas',
    threads: j.threads,
    batch: j.batch,
    detail: `${blas} (BLAS threads: ${j.blas_threads ?? '?'}; ${
      j.blas_libs
        .map((l) => l.split('/').at(-1))
        .filter((l) => l?.startsWith('libopenblas'))
        .join(', ') || 'no OpenBLAS mapped'
    })`,
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
