import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';

/** Runs the CLI as a user would (through tsx), returning exit code and output. */
function elbo(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, ELBO_DEBUG: '' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a one-line error (exit code != 0) that contains `text`. */
function expectOneLineError(result: ReturnType<typeof elbo>, text: string): void {
  expect(result.status).not.toBe(0);
  expect(result.stderr.startsWith('\n'), 'no leading blank line').toBe(false);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(text);
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'elbo-cli-'));

/** A small MNIST-format data set (IDX files) of `n` train and `m` test images of size rows×cols. */
function writeIdxDir(n: number, m: number, rows = 28, cols = 28): string {
  const dir = tmp();
  const { train, test } = loadMnist();
  const pixels = (source: Float32Array, count: number): Uint8Array => {
    const out = new Uint8Array(count * rows * cols);
    for (let i = 0; i < count; i++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) out[(i * rows + r) * cols + c] = Math.round(255 * (source[i * 784 + (r % 28) * 28 + (c % 28)] ?? 0));
    return out;
  };
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx(pixels(train.images, n), [n, rows, cols]));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(train.labels.slice(0, n), [n]));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx(pixels(test.images, m), [m, rows, cols]));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(test.labels.slice(0, m), [m]));
  return dir;
}

describe('elbo CLI: bad input ends in one clear line and a non-zero exit', () => {
  it('wrong flags and values', () => {
    expectOneLineError(elbo('train', '--epochs', 'ten'), "elbo train: --epochs must be an integer >= 1, got 'ten'");
    expectOneLineError(elbo('train', '--bogus'), "elbo train: Unknown option '--bogus'");
    expectOneLineError(
      elbo('train', '--likelihood', 'poisson'),
      "elbo train: --likelihood must be one of bernoulli, gaussian, gaussian-learned, got 'poisson'",
    );
    expectOneLineError(elbo('frobnicate'), "elbo: unknown command 'frobnicate'");
    expectOneLineError(elbo('eval'), 'elbo eval: --checkpoint FILE (or a run folder) is required');
  });

  it('a mistyped command or flag gets a suggestion', () => {
    expectOneLineError(elbo('trian'), "elbo: unknown command 'trian' (did you mean 'train'?)");
    expectOneLineError(elbo('train', '--epoch', '3'), "elbo train: Unknown option '--epoch' (did you mean '--epochs'?) (see 'elbo train --help')");
    expectOneLineError(elbo('eval', '--iwea', '5'), "(did you mean '--iwae'?)");
  });

  it('an unknown data set', () => {
    expectOneLineError(elbo('train', '--data', 'cifar10', '--out', join(tmp(), 'run')), 'elbo train: unknown data set "cifar10"');
  });

  it('an IDX file with a bad magic number, or truncated', () => {
    const dir = writeIdxDir(20, 10);
    const file = join(dir, 'train-images-idx3-ubyte');
    const bytes = readFileSync(file);
    bytes[3] = 0x07;
    writeFileSync(file, bytes);
    expectOneLineError(elbo('train', '--data', dir, '--out', join(tmp(), 'run')), 'bad magic number');
    bytes[3] = 0x03;
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expectOneLineError(elbo('train', '--data', dir, '--out', join(tmp(), 'run')), 'truncated');
  });

  it('help is available for every command', () => {
    for (const command of ['train', 'eval', 'sample', 'reconstruct', 'interpolate', 'info']) {
      const r = elbo(command, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`elbo ${command}`);
    }
  });
});

describe('elbo CLI: train, eval, resume', () => {
  const data = writeIdxDir(300, 60);
  const small = ['--data', data, '--hidden', '16', '--latent', '2', '--batch', '50', '--seed', '3'];

  it('trains, writes the run folder, and eval prints the JSON fields scripts rely on', () => {
    const out = join(tmp(), 'run');
    const r = elbo('train', ...small, '--epochs', '2', '--out', out);
    expect(r.status).toBe(0);
    // In a pipe: no bar, one plain line per epoch with the elapsed time (and the ETA until the last).
    expect(r.stderr).not.toContain('\r');
    const epochLines = r.stderr.split('\n').filter((l) => l.startsWith('epoch '));
    expect(epochLines).toHaveLength(2);
    expect(epochLines[0]).toMatch(/^epoch 1\/2 .* elapsed \d+:\d\d {2}ETA \d+:\d\d$/);
    expect(epochLines[1]).toMatch(/^epoch 2\/2 .* elapsed \d+:\d\d$/);
    for (const f of ['curve-elbo.svg', 'curve-kl.svg', 'curve-reconstruction.svg', 'latent.svg'])
      expect(readFileSync(join(out, f), 'utf8')).toMatch(/^<svg [^>]*>.*<text/);
    expect(r.stdout).toBe(`report: ${join(out, 'report.html')}\n`);
    for (const f of [
      'checkpoint.safetensors',
      'metrics.jsonl',
      'report.html',
      'reconstructions.png',
      'samples.png',
      'interpolation.png',
      'latent.png',
      'manifold.png',
      'curve-elbo.png',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const e = elbo('eval', '--checkpoint', out, '--iwae', '5', '--json');
    expect(e.status).toBe(0);
    const result = JSON.parse(e.stdout) as Record<string, number>;
    expect(result).toMatchObject({ k: 5, n: 60 });
    expect(result.iwae).toBeGreaterThan(result.elbo! - 1); // IWAE_5 ≥ ELBO up to noise
    // Images of the wrong size for this checkpoint.
    expectOneLineError(elbo('eval', '--checkpoint', out, '--data', writeIdxDir(10, 10, 20, 20)), 'the checkpoint expects images of 784 pixels, but');
    // The folder already holds a run: refuse without --resume.
    expectOneLineError(elbo('train', ...small, '--out', out), 'already holds a run; pass --resume');
  });

  it('one epoch reads "1 epoch", and a warm-up longer than the run is warned about', () => {
    const r = elbo('train', ...small, '--epochs', '1', '--warmup', '2', '--out', join(tmp(), 'run'));
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(' for 1 epoch on the ');
    expect(r.stderr).toContain('elbo train: warning: --warmup 2 is longer than the run (1 epoch): the KL weight rises only to about 50% of beta');
  });

  it('killed with SIGKILL mid-run, --resume reaches the same parameters as an uninterrupted run', async () => {
    const straight = join(tmp(), 'straight');
    expect(elbo('train', ...small, '--epochs', '4', '--out', straight).status).toBe(0);

    const killed = join(tmp(), 'killed');
    mkdirSync(killed);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...small, '--epochs', '4', '--out', killed], { stdio: 'ignore' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const metrics = join(killed, 'metrics.jsonl');
        if (existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"epoch":1')) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((resolve) => child.on('exit', resolve));
    const resumed = elbo('train', '--out', killed, '--resume'); // data and config come from the run itself
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after epoch [123]/);
    expect(readdirSync(killed).filter((f) => f.endsWith('.tmp'))).toEqual([]); // a write the kill cut short is cleaned up
    const tensors = (dir: string) => decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors'))).tensors;
    const a = tensors(straight);
    const b = tensors(killed);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) expect(Array.from(b[name]!.data), name).toEqual(Array.from(a[name]!.data));
  });
});
