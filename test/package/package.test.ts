import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * elbo as another project sees it: `npm pack` (which builds dist/ through prepack), the tarball
 * installed into an empty project from npm's cache, and there the README's snippet run
 * from an .mjs file, a TypeScript consumer type-checked under both module resolutions, the bin
 * run, and the main entry bundled for the browser. The same after `npm install /path/to/clone`.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const npm = (cwd: string, ...args: string[]): string =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });

/** The README's gradient snippet and what the README says it prints. */
function readmeSnippet(): { code: string; printed: string } {
  const section = README.slice(README.indexOf('## Gradients, checked'));
  return { code: /```ts\n([\s\S]*?)```/.exec(section)![1]!, printed: /prints\n\n```\n([\s\S]*?)```/.exec(section)![1]! };
}

/**
 * An empty project that depends on `spec` (a tarball or a folder). Packages come from npm's cache
 * (`npm ci` put every tarball there); the registry is asked only for metadata the cache lacks.
 */
function project(name: string, spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), `elbo-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module' }));
  npm(dir, 'install', '--prefer-offline', spec);
  return dir;
}

/** A TypeScript consumer using every platform-neutral entry, and elbo/node. */
const CONSUMER = `import { tensor, useBackend, availableBackends, type Tensor } from 'elbo';
import { Linear, Sequential, ReLU } from 'elbo/nn';
import { Adam } from 'elbo/optim';
import { VAE, elbo } from 'elbo/vae';
import { batches, batchTensor, type Dataset } from 'elbo/data';
import { encodeSafetensors } from 'elbo/io';
import { loadMnist } from 'elbo/node';

useBackend('cpu');
const names: string[] = availableBackends().map((b) => b.name);
const net = new Sequential(new Linear(2, 3), new ReLU());
const y: Tensor = net.call(tensor([[1, 2]]));
const optimizer = new Adam(net.parameters(), { lr: 1e-3 });
const vae = new VAE({ inputDim: 4, hiddenDims: [3], latentDim: 2 });
const data: Dataset = loadMnist().test;
for (const batch of batches(data, { batchSize: 2 })) void batchTensor(batch);
const { loss } = elbo(vae, tensor([[0, 1, 0, 1]]));
loss.backward();
const bytes: Uint8Array = encodeSafetensors({ y });
optimizer.zeroGrad();
export { names, bytes };
`;

function typecheck(dir: string, moduleResolution: 'nodenext' | 'bundler'): string {
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const module = moduleResolution === 'bundler' ? 'esnext' : 'nodenext';
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      module,
      '--moduleResolution',
      moduleResolution,
      '--types',
      'node',
      '--typeRoots',
      join(ROOT, 'node_modules', '@types'),
      'consumer.ts',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return r.stdout + r.stderr;
}

function runsTheReadmeSnippet(dir: string): void {
  const { code, printed } = readmeSnippet();
  writeFileSync(join(dir, 'snippet.mjs'), code);
  expect(execFileSync(process.execPath, ['snippet.mjs'], { cwd: dir, encoding: 'utf8' })).toBe(printed);
}

describe('the packed tarball, installed into an empty project', () => {
  let dir: string;
  let tarball: string;
  beforeAll(() => {
    const out = mkdtempSync(join(tmpdir(), 'elbo-pack-'));
    npm(ROOT, 'pack', '--pack-destination', out);
    tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);
    dir = project('tarball', tarball);
  }, 300_000);

  it('ships dist (JS, types, source maps), bin, README and LICENSE, and nothing of src, test, bench or web', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'bin/elbo.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.js.map',
        'dist/node.js',
        'dist/cli/main.js',
      ]),
    );
    expect(files.filter((f) => /^(src|test|bench|web|docs)\//.test(f) || f.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it("imports 'elbo' from an .mjs file and prints what the README's snippet prints", () => runsTheReadmeSnippet(dir));

  it('type-checks a TypeScript consumer with moduleResolution NodeNext and bundler', () => {
    expect(typecheck(dir, 'nodenext')).toBe('');
    expect(typecheck(dir, 'bundler')).toBe('');
  });

  it('runs `npx elbo --version` and `npx elbo train --epochs 1` with compiled JavaScript (no tsx)', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(execFileSync('npx', ['--offline', 'elbo', '--version'], { cwd: dir, encoding: 'utf8' })).toBe(`${version}\n`);
    expect(readdirSync(join(dir, 'node_modules')).includes('tsx')).toBe(false);
    const run = join(dir, 'run');
    const r = spawnSync('npx', ['--offline', 'elbo', 'train', '--epochs', '1', '--out', run], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(run)).toEqual(expect.arrayContaining(['checkpoint.safetensors', 'metrics.jsonl', 'report.html']));
  }, 240_000);

  it("bundles the installed 'elbo' for platform 'browser' with esbuild, with no externals or stubs", async () => {
    const result = await build({
      stdin: { contents: "export * from 'elbo';", resolveDir: dir },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile.inputs).filter((input) => input.startsWith('node:'))).toEqual([]);
    expect(result.outputFiles[0]!.text).toContain('useBackend');
  });
});

describe('a clone installed with npm install /path/to/clone', () => {
  it("imports 'elbo', runs the README snippet and the bin", () => {
    const dir = project('folder', ROOT);
    runsTheReadmeSnippet(dir);
    expect(typecheck(dir, 'nodenext')).toBe('');
    expect(execFileSync('npx', ['--offline', 'elbo', '--version'], { cwd: dir, encoding: 'utf8' })).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 240_000);
});

describe('every platform-neutral entry', () => {
  const entries = ['index.ts', 'nn/index.ts', 'nn/optim/index.ts', 'vae/index.ts', 'data/index.ts', 'io/index.ts', 'gpujs.ts'];
  it.each(entries)('src/%s bundles for the browser with no node: import', async (entry) => {
    const result = await build({
      entryPoints: [join(ROOT, 'src', entry)],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile.inputs).filter((input) => input.startsWith('node:'))).toEqual([]);
  });
});
