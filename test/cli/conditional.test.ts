import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../src/io/png.js';

/** Runs the CLI as a user would (through tsx), returning exit code and output. */
function elbo(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, ELBO_DEBUG: '' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('elbo CLI: a conditional VAE', () => {
  it('train --conditional stores 10 classes; sample draws one class with --class, one row per class without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-cvae-cli-'));
    const out = join(dir, 'run');
    const r = elbo('train', '--conditional', '--hidden', '16', '--latent', '2', '--epochs', '1', '--binarize', 'dynamic', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('conditional VAE (10 classes)');
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ classes: 10 });
    const seven = elbo('sample', '--checkpoint', out, '--class', '7', '--n', '8', '--out', join(dir, 'seven.png'));
    expect(seven.status, seven.stderr).toBe(0);
    const grid = elbo('sample', '--checkpoint', out, '--n', '5', '--out', join(dir, 'grid.png'));
    expect(grid.status, grid.stderr).toBe(0);
    const image = decodePng(readFileSync(join(dir, 'grid.png')));
    expect(image.height).toBeGreaterThan(image.width); // 10 rows of 5
    expect(existsSync(join(out, 'interpolation.png'))).toBe(true); // each end encoded with its own label
    const line = elbo('interpolate', '--checkpoint', out, '--from', '0', '--to', '1', '--steps', '4', '--out', join(dir, 'line.png'));
    expect(line.status, line.stderr).toBe(0);
    const strip = decodePng(readFileSync(join(dir, 'line.png')));
    expect(strip.width).toBeGreaterThan(5 * strip.height); // x₁, 4 points, x₂ in one row
    const bad = elbo('sample', '--checkpoint', out, '--class', '10', '--out', join(dir, 'x.png'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--class must be an integer in [0, 9]');
    const e = elbo('eval', '--checkpoint', out, '--iwae', '5', '--limit', '100', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ k: 5, n: 100 });
    const g = elbo('gaps', '--checkpoint', out, '--n', '5', '--steps', '5', '--iwae', '5');
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/I\(x; z\)\s+\d+\.\d\d\s+\(at most ln N = 7\.60\)/);
    expect(g.stdout).toMatch(/amortization gap\s+-?\d+\.\d\d/);
  });

  it('--class on an unconditional model is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbo-cvae-cli-'));
    const out = join(dir, 'run');
    expect(elbo('train', '--hidden', '8', '--latent', '2', '--epochs', '1', '--out', out).status).toBe(0);
    const r = elbo('sample', '--checkpoint', out, '--class', '3', '--out', join(dir, 'x.png'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--class needs a conditional model (one trained with --conditional)');
  });
});

describe('elbo gaps', () => {
  it('prints its help', () => {
    const r = elbo('gaps', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('elbo gaps');
  });
});
