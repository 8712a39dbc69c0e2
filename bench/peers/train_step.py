#!/usr/bin/python3
"""Times one standard VAE training step in PyTorch (the reference for elbo's step benchmark).

Step = forward (encode, reparameterize, decode, Bernoulli log-likelihood, analytic KL, mean loss)
+ backward + Adam step, batch 128 (default) of real training digits (the bundled MNIST, every
s-th train image, s = 8000 // `--batch`: every class, as elbo's benchBatch takes them), float32, the 784-400-20 / 20-400-784 model of vae_reference.py, or with `--arch conv` its ConvVAE (elbo's
`--arch conv`: 1-32-64 channels, 4x4 kernels, stride 2, latent 20, and the mirror image back).

Warm-up steps are run first, then `--steps` steps are timed one by one (time.perf_counter);
prints median / min / max ms per step and samples/s at the median, the torch thread count, the
OpenBLAS thread count and which BLAS library is actually mapped into the process, and ends with
a JSON line.

With `--serve` it builds the same model, optimizer and batch and runs the warm-up, prints one JSON
line (`"ready": true` and the versions, threads and BLAS), then reads commands from stdin, one per
line: `run N` runs N steps, timing each, and prints one JSON line with their times (`times_ms`),
the process CPU ms of the block and the last loss; `quit` (or end of input) exits. An unknown
command gets a JSON line with `error`. bench/peers/pytorch.ts drives it to time PyTorch's steps in
alternation with elbo's (`elbo bench`'s paired rows).

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/peers/train_step.py --threads 2
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.dont_write_bytecode = True  # no __pycache__ in bench/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vae_reference import blas_info, load_mnist, make_model, set_threads, train_step, VAE  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--threads', type=int, choices=[1, 2], default=2)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--hidden', type=int, default=400, help='hidden width of encoder and decoder (cost-growth bench; mlp only)')
    ap.add_argument('--arch', choices=['mlp', 'conv'], default='mlp', help="mlp: the 784-400-20 VAE; conv: elbo's conv VAE")
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--blas-threads', type=int, default=None, help="OpenBLAS's own thread pool (default: = --threads)")
    ap.add_argument('--serve', action='store_true', help='after the warm-up, run blocks of steps on command (run N / quit) from stdin')
    args = ap.parse_args()

    torch.set_default_dtype(torch.float32)
    set_threads(args.threads, args.blas_threads)
    info = blas_info()
    (xtr, _), _ = load_mnist()
    # every s-th training digit, s = len // batch: every class in proportion, the digits elbo's
    # benchBatch (src/cli/bench-measure.ts) takes (the first ones are all zeros)
    x = torch.from_numpy(xtr[::len(xtr) // args.batch][:args.batch]).contiguous()
    torch.manual_seed(args.seed)
    model = VAE(args.hidden) if args.arch == 'mlp' else make_model('conv')
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(args.warmup):
        train_step(model, optimizer, x)
    if args.serve:
        return serve(model, optimizer, x, args, info)
    times, cpu_ms, loss = timed_steps(model, optimizer, x, args.steps)
    cpu_ms /= args.steps
    med = statistics.median(times)
    print(f'torch {torch.__version__}  threads {torch.get_num_threads()}  BLAS: {info["blas"]} (OpenBLAS threads {info["blas_threads"]})')
    print(f'  libs: {", ".join(info["blas_libs"])}')
    print(f'  LD_LIBRARY_PATH={os.environ.get("LD_LIBRARY_PATH", "")!r}')
    print(f'  {args.arch} VAE train step, batch {args.batch}: median {med:.3f} ms  min {min(times):.3f}  max {max(times):.3f}  '
          f'-> {args.batch / med * 1e3:.0f} samples/s, CPU {cpu_ms:.3f} ms/step  ({args.steps} steps after {args.warmup} warm-up)')
    print(json.dumps({
        'bench': 'vae_train_step', 'impl': 'pytorch', 'torch': torch.__version__, 'batch': args.batch, 'arch': args.arch, 'hidden': args.hidden,
        'threads': torch.get_num_threads(), 'blas': info['blas'], 'blas_threads': info['blas_threads'],
        'blas_libs': info['blas_libs'], 'ld_library_path': os.environ.get('LD_LIBRARY_PATH', ''),
        'median_ms': round(med, 4), 'min_ms': round(min(times), 4), 'max_ms': round(max(times), 4),
        'samples_per_sec': round(args.batch / med * 1e3, 1), 'cpu_ms_per_step': round(cpu_ms, 4), 'loss': float(loss), 'warmup': args.warmup, 'steps': args.steps,
    }))


def timed_steps(model, optimizer, x, n):
    """Runs n training steps: the wall ms of each, the process CPU ms of all (every thread: robust to other load), the last loss."""
    times = []
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        loss, *_ = train_step(model, optimizer, x)
        loss.item()  # (synchronous on CPU anyway)
        times.append((time.perf_counter() - t0) * 1e3)
    return times, (time.process_time() - cpu0) * 1e3, loss


def serve(model, optimizer, x, args, info):
    """The `--serve` loop: one JSON line when ready, then one per `run N` command; see the module docstring."""
    def reply(obj):
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()

    reply({
        'ready': True, 'impl': 'pytorch', 'torch': torch.__version__, 'batch': args.batch, 'arch': args.arch, 'hidden': args.hidden,
        'threads': torch.get_num_threads(), 'blas': info['blas'], 'blas_threads': info['blas_threads'],
        'blas_libs': info['blas_libs'], 'warmup': args.warmup,
    })
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words == ['quit']:
            break
        if len(words) != 2 or words[0] != 'run' or not words[1].isdigit() or int(words[1]) < 1:
            reply({'error': f'unknown command {line.strip()!r} (expected "run N" with N >= 1, or "quit")'})
            continue
        times, cpu_ms, loss = timed_steps(model, optimizer, x, int(words[1]))
        reply({'times_ms': [round(t, 4) for t in times], 'cpu_ms': round(cpu_ms, 3), 'loss': float(loss)})


if __name__ == '__main__':
    main()
