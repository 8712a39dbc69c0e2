#!/usr/bin/python3
"""Records PyTorch's float64 conv2d and conv_transpose2d values and gradients as a test fixture.

Draws 30 configurations per op with a fixed seed (strides 1-3, paddings 0-2, dilations 1-2,
groups 1-2, odd and even sizes, 1x1 kernels and kernels as large as the image; outputPadding
below stride or dilation for the transpose), inputs rounded to 3 decimals (so JSON carries them
exactly), and for each: out = F.conv2d / F.conv_transpose2d(x, weight, bias, ...), and the
gradients of sum(out * g) with respect to x, weight and bias for a drawn cotangent g.
test/autograd/conv.test.ts checks elbo's ops against the file, so CI needs no Python.

  /usr/bin/python3 bench/peers/conv_reference.py > test/fixtures/conv-torch.json
"""
import json
import random
import sys

import torch
import torch.nn.functional as F

SEED = 20261206
PER_OP = 30


def values(rng, n):
    return [round(rng.uniform(-1, 1), 3) for _ in range(n)]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def draw(rng, transposed, index):
    """One valid configuration; the first few pin the corners (1x1 kernel, kernel = image, groups 2)."""
    while True:
        c = {
            'batch': rng.randint(1, 2),
            'groups': rng.randint(1, 2),
            'in_per_group': rng.randint(1, 3),
            'out_per_group': rng.randint(1, 3),
            'size': [rng.randint(1, 7), rng.randint(1, 7)],
            'stride': [rng.randint(1, 3), rng.randint(1, 3)],
            'padding': [rng.randint(0, 2), rng.randint(0, 2)],
            'dilation': [rng.randint(1, 2), rng.randint(1, 2)],
        }
        kernel = [rng.choice([1, 2, 3, 0]) or c['size'][a] for a in range(2)]
        if index == 0:
            kernel = [1, 1]
        if index == 1:
            kernel = list(c['size'])
            c['padding'] = [0, 0]
        if index == 2:
            c['groups'] = 2
        c['kernel'] = kernel
        c['output_padding'] = [rng.randint(0, max(c['stride'][a], c['dilation'][a]) - 1) if transposed else 0 for a in range(2)]
        ok = True
        for a in range(2):
            h, k, s, p, d, op = c['size'][a], kernel[a], c['stride'][a], c['padding'][a], c['dilation'][a], c['output_padding'][a]
            if transposed:
                ok = ok and (h - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1
            else:
                ok = ok and d * (k - 1) + 1 <= h + 2 * p
        if ok:
            return c


def record(rng, transposed, c):
    g = c['groups']
    x_shape = [c['batch'], g * c['in_per_group'], *c['size']]
    if transposed:
        w_shape = [g * c['in_per_group'], c['out_per_group'], *c['kernel']]
    else:
        w_shape = [g * c['out_per_group'], c['in_per_group'], *c['kernel']]
    out_channels = g * c['out_per_group']
    with_bias = rng.random() < 0.8
    x = torch.tensor(values(rng, numel(x_shape)), dtype=torch.float64).reshape(x_shape).requires_grad_()
    w = torch.tensor(values(rng, numel(w_shape)), dtype=torch.float64).reshape(w_shape).requires_grad_()
    b = torch.tensor(values(rng, out_channels), dtype=torch.float64).requires_grad_() if with_bias else None
    options = {'stride': c['stride'], 'padding': c['padding'], 'dilation': c['dilation'], 'groups': g}
    if transposed:
        out = F.conv_transpose2d(x, w, b, output_padding=c['output_padding'], **options)
        options['outputPadding'] = c['output_padding']
    else:
        out = F.conv2d(x, w, b, **options)
    cot = torch.tensor(values(rng, out.numel()), dtype=torch.float64).reshape(out.shape)
    (out * cot).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()  # noqa: E731
    case = {
        'op': 'convTranspose2d' if transposed else 'conv2d',
        'options': options,
        'x': {'shape': x_shape, 'data': flat(x)},
        'weight': {'shape': w_shape, 'data': flat(w)},
        'bias': flat(b) if with_bias else None,
        'cotangent': flat(cot),
        'out': {'shape': list(out.shape), 'data': flat(out)},
        'gradX': flat(x.grad),
        'gradWeight': flat(w.grad),
    }
    if with_bias:
        case['gradBias'] = flat(b.grad)
    return case


def main():
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    cases = [record(rng, transposed, draw(rng, transposed, i)) for transposed in (False, True) for i in range(PER_OP)]
    json.dump({'generator': 'bench/peers/conv_reference.py', 'torch': torch.__version__, 'seed': SEED, 'cases': cases}, sys.stdout, separators=(',', ':'))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
