import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.js';
import { loadMnist } from '../../src/data/mnist.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

/**
 * The reproductions of issue 14, run as a careless or hostile user would: each ends in one
 * clear line naming the problem, a non-zero exit, and nothing non-finite or half-made on disk.
 */

function elbo(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ELBO_DEBUG: '' },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr containing `text`, and the exit code `status`. */
function expectOneLine(result: ReturnType<typeof elbo>, status: number, text: string | RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof text === 'string') expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
  expect(result.status, result.stderr).toBe(status);
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'elbo-adversarial-'));

/** MNIST-format IDX files: n train and m test digits, of rows × cols (test size `testSize` when given). */
function idxDir(n: number, m: number, testSize: [number, number] = [28, 28]): string {
  const dir = tmp();
  const { train, test } = loadMnist();
  const pixels = (source: Float32Array, count: number, rows: number, cols: number): Uint8Array => {
    const out = new Uint8Array(count * rows * cols);
    for (let i = 0; i < count; i++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) out[(i * rows + r) * cols + c] = Math.round(255 * source[i * 784 + (r % 28) * 28 + (c % 28)]!);
    return out;
  };
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx(pixels(train.images, n, 28, 28), [n, 28, 28]));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(train.labels.slice(0, n), [n]));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx(pixels(test.images, m, ...testSize), [m, ...testSize]));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(test.labels.slice(0, m), [m]));
  return dir;
}

/** Every tensor of a checkpoint is finite and every test ELBO in its history is a number. */
function expectFiniteCheckpoint(path: string): void {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path));
  for (const [name, t] of Object.entries(tensors)) expect(Array.from(t.data).every(Number.isFinite), name).toBe(true);
  for (const m of (JSON.parse(metadata.config!) as { history: Array<{ test_elbo: unknown }> }).history) expect(Number.isFinite(m.test_elbo)).toBe(true);
}

const data = idxDir(300, 60);
const small = ['--data', data, '--hidden', '16', '--latent', '2', '--batch', '100', '--seed', '3'];

describe('1. nothing non-finite is kept as a checkpoint', () => {
  it.each([['1e39'], ['1e20']])('--lr %s stops with one line; no checkpoint holds ±Inf or NaN', (lr) => {
    const out = join(tmp(), 'run');
    const r = elbo('train', '--lr', lr, '--batch', '100000', '--epochs', '3', '--hidden', '50', '--latent', '2', '--data', data, '--out', out);
    expect(r.stderr).not.toContain('last good checkpoint is kept'); // none was good
    expect(r.stderr.split('\n').filter((l) => l.startsWith('elbo train:'))).toEqual([
      expect.stringMatching(/^elbo train: training stopped at step \d+ \(epoch \d+\): .*(parameter \S+ holds|is) -?(Infinity|NaN)/),
    ]);
    expect(r.status).toBe(1);
    const checkpoint = join(out, 'checkpoint.safetensors');
    if (existsSync(checkpoint)) expectFiniteCheckpoint(checkpoint);
    else expect(existsSync(out)).toBe(false); // stopped before any checkpoint: nothing half-made is left
    expect(existsSync(join(out, 'report.html'))).toBe(false);
  });
});

describe('2. a figure that is not finite is an error, not a success', () => {
  let run: string;
  let poisoned: string;
  beforeAll(() => {
    run = join(tmp(), 'run');
    expect(elbo('train', ...small, '--epochs', '1', '--out', run).status).toBe(0);
    const { tensors, metadata } = decodeSafetensors(readFileSync(join(run, 'checkpoint.safetensors')));
    tensors['model.output.bias']!.data[7] = NaN;
    poisoned = join(tmp(), 'nan.safetensors');
    writeFileSync(poisoned, encodeSafetensors(tensors, metadata));
  });

  it('eval of a checkpoint with NaN weights exits 1, naming the tensor', () => {
    expectOneLine(elbo('eval', '--checkpoint', poisoned, '--iwae', '0'), 1, `elbo eval: ${poisoned}: parameter output.bias holds NaN (element 7)`);
  });

  it('sample of it writes no PNG', () => {
    const png = join(tmp(), 'samples.png');
    expectOneLine(elbo('sample', '--checkpoint', poisoned, '--out', png), 1, 'parameter output.bias holds NaN');
    expect(existsSync(png)).toBe(false);
  });

  it('an empty training set is refused before a run folder is made', () => {
    const out = join(tmp(), 'run');
    expectOneLine(elbo('train', '--data', idxDir(0, 10), '--epochs', '1', '--out', out), 1, '/train: the set holds no images');
    expect(existsSync(out)).toBe(false);
  });

  it('train and test images of different sizes are refused before epoch 1, leaving no config.json', () => {
    const out = join(tmp(), 'run');
    expectOneLine(elbo('train', '--data', idxDir(50, 10, [20, 20]), '--epochs', '1', '--out', out), 1, /images are 28×28 but .*\/test images are 20×20/);
    expect(existsSync(out)).toBe(false);
  });

  it('3. a checkpoint with a second __metadata__ (gaussian, sigma 0.001) is refused, not scored', () => {
    const bytes = readFileSync(join(run, 'checkpoint.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = bytes
      .subarray(8, 8 + n)
      .toString('utf8')
      .trimEnd();
    const forged = Buffer.from(`${header.slice(0, -1)},"__metadata__":{"format":"elbo.checkpoint","likelihood":"gaussian","sigma":"0.001"}}`);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(forged.length));
    const file = join(tmp(), 'forged.safetensors');
    writeFileSync(file, Buffer.concat([size, forged, bytes.subarray(8 + n)]));
    expectOneLine(elbo('eval', '--checkpoint', file, '--iwae', '0'), 1, 'safetensors: header is not valid JSON (duplicate key "__metadata__"');
  });
});

describe('5. --resume and the stored config', () => {
  let run: string;
  beforeAll(() => {
    run = join(tmp(), 'run');
    expect(elbo('train', ...small, '--epochs', '3', '--out', run).status).toBe(0);
  });

  it.each([
    [['--epochs', '2'], '--epochs 2 is fewer than the 3 epochs of the run in'],
    [['--lr', '0.5'], '--lr 0.5 contradicts the run in'],
    [['--hidden', '10'], '--hidden 10 contradicts the run in'],
    [['--data', '/nonexistent'], '--data /nonexistent contradicts the run in'],
  ])('%j contradicting the stored run is a usage error naming both values', (flags, text) => {
    const r = elbo('train', '--out', run, '--resume', ...flags);
    expectOneLine(r, 2, text);
    expect(r.stderr).toMatch(/which has \S+|the 3 epochs/);
  });

  it('--resume with flags that agree, and --epochs that extends, continues', () => {
    const r = elbo('train', '--out', run, '--resume', '--hidden', '16', '--epochs', '4', '--data', data);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming after epoch 3');
  });

  it.each([
    ['[1,2]', 'the stored config must be a JSON object, got an array'],
    ['{"epochs": -3}', 'stored config field "epochs" must be an integer >= 1, got -3'],
    ['{"epochs": 3', 'the stored config is not valid JSON'],
    ['null', 'the stored config must be a JSON object, got null'],
  ])('a stored config.json of %s is refused in one line naming the file', (text, message) => {
    const dir = join(tmp(), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), text);
    expectOneLine(elbo('train', '--out', dir, '--resume'), 1, `elbo train: ${join(dir, 'config.json')}: ${message}`);
  });
});

describe('6. paths are checked before work starts', () => {
  it('--out on /proc is refused at once (it hung in mkdir)', () => {
    expectOneLine(elbo('train', '--out', '/proc/elbo-run', '--epochs', '1'), 2, 'elbo train: --out /proc/elbo-run is on the pseudo-filesystem /proc');
  });

  it('--out naming a file is refused', () => {
    const file = join(tmp(), 'file');
    writeFileSync(file, 'x');
    expectOneLine(elbo('train', '--out', file, '--epochs', '1'), 2, `elbo train: --out ${file} is a regular file, not a folder for the run`);
  });

  it('--checkpoint naming a FIFO is refused instead of blocking forever', () => {
    const fifo = join(tmp(), 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expectOneLine(elbo('eval', '--checkpoint', fifo), 2, `elbo eval: --checkpoint ${fifo} is a FIFO (named pipe), not a regular file`);
  });

  it('--latent 2000000000 names the flag and leaves no run folder', () => {
    const out = join(tmp(), 'run');
    expectOneLine(
      elbo('train', '--latent', '2000000000', '--epochs', '1', '--data', data, '--out', out),
      2,
      /elbo train: --latent 2000000000 and --hidden 400 make a model of 2\.40e\+12 parameters/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('7. clear errors', () => {
  it.each([
    [['--epochs', '-1'], "elbo train: --epochs must be an integer >= 1, got '-1'"],
    [['--epochs', '0x10'], "elbo train: --epochs must be an integer >= 1, got '0x10'"],
    [['--lr', '-1e-3'], "elbo train: --lr must be a finite number > 0, got '-1e-3'"],
    [['--lr', 'Infinity'], "elbo train: --lr must be a finite number > 0, got 'Infinity'"],
  ])('%j', (flags, message) => {
    expectOneLine(elbo('train', ...flags), 2, message);
  });

  it('a folder that holds a run is named once, without "train: train:"', () => {
    const out = join(tmp(), 'run');
    mkdirSync(out);
    writeFileSync(join(out, 'config.json'), '{}');
    expectOneLine(elbo('train', '--out', out, '--data', data), 1, `elbo train: ${out} already holds a run; pass --resume`);
  });

  it('sample --out naming a folder is refused before anything is computed', () => {
    expectOneLine(elbo('sample', '--checkpoint', 'nowhere', '--out', tmpdir()), 2, `elbo sample: --out ${tmpdir()} is a directory; name a file to write`);
    expectOneLine(elbo('collapse', '--out', tmpdir()), 2, `elbo collapse: --out ${tmpdir()} is a directory; name a file to write`);
    expectOneLine(
      elbo('reconstruct', '--checkpoint', 'nowhere', '--out', join(tmpdir(), 'no-such-folder', 'r.png')),
      2,
      `the folder ${join(tmpdir(), 'no-such-folder')} does not exist`,
    );
  });
});
