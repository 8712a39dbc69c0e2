import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';

/** Runs the CLI as a user would (through tsx), returning exit code and output. */
function elbo(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ELBO_DEBUG: '' },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'elbo-conv-cli-'));

/** MNIST-format IDX files of the first n train and m test bundled digits, so a conv epoch takes seconds. */
function idxDir(n: number, m: number): string {
  const dir = tmp();
  const { train, test } = loadMnist();
  const bytes = (images: Float32Array, count: number): Uint8Array => Uint8Array.from(images.subarray(0, count * 784), (v) => Math.round(255 * v));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx(bytes(train.images, n), [n, 28, 28]));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(train.labels.slice(0, n), [n]));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx(bytes(test.images, m), [m, 28, 28]));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(test.labels.slice(0, m), [m]));
  return dir;
}

/** One line on stderr containing `text`, and exit code 2 (a usage error). */
function expectUsageLine(result: ReturnType<typeof elbo>, text: string): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain(text);
  expect(result.status, result.stderr).toBe(2);
}

describe('elbo train --arch conv', () => {
  const data = idxDir(32, 16);

  it('writes a checkpoint, pictures and report that eval loads and --resume continues', () => {
    const out = join(tmp(), 'run');
    const r = elbo('train', '--arch', 'conv', '--data', data, '--epochs', '1', '--batch', '16', '--latent', '4', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('convolutional (28x28, 32-64 channels, latent 4)');
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ arch: 'conv', latentDim: 4 });
    for (const file of ['checkpoint.safetensors', 'report.html', 'samples.png', 'reconstructions.png']) expect(existsSync(join(out, file)), file).toBe(true);
    const e = elbo('eval', '--checkpoint', out, '--iwae', '3', '--limit', '8', '--json');
    expect(e.status, e.stderr).toBe(0);
    const scores = JSON.parse(e.stdout) as { n: number; elbo: number; iwae: number };
    expect(scores).toMatchObject({ k: 3, n: 8 });
    expect(Number.isFinite(scores.elbo)).toBe(true);
    const resumed = elbo('train', '--resume', '--out', out, '--epochs', '2');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming after epoch 1');
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2]);
    expectUsageLine(elbo('train', '--resume', '--out', out, '--arch', 'mlp'), '--arch mlp contradicts the run');
  });

  it('bad combinations give one clear line', () => {
    expectUsageLine(
      elbo('train', '--arch', 'conv', '--conditional', '--data', data, '--out', join(tmp(), 'run')),
      '--arch conv and --conditional cannot be combined',
    );
    expectUsageLine(elbo('train', '--arch', 'resnet', '--data', data, '--out', join(tmp(), 'run')), '--arch');
  });
});
