import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');

/** The package's entries, as the source files they compile from. */
const ENTRIES: Record<string, string> = {
  elbo: 'src/index.ts',
  'elbo/nn': 'src/nn/index.ts',
  'elbo/optim': 'src/nn/optim/index.ts',
  'elbo/vae': 'src/vae/index.ts',
  'elbo/data': 'src/data/index.ts',
  'elbo/io': 'src/io/index.ts',
  'elbo/gpujs': 'src/gpujs.ts',
  'elbo/testing': 'src/testing/index.ts',
  'elbo/node': 'src/node.ts',
};
/** `code` with each `from 'elbo…'` pointing at the entry's source, as `to(file)` names it. */
const toSources = (code: string, to: (file: string) => string): string =>
  code.replace(/from '(elbo(?:\/[a-z]+)?)'/g, (whole, name: string) => (ENTRIES[name] ? `from '${to(ENTRIES[name])}'` : whole));

describe('README', () => {
  it('starts with exactly the two set-up commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(
      firstBlock
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => l.split('#')[0]!.trim()),
    ).toEqual(['npm install && npm start', 'npm test']);
  });

  it('its gradcheck snippet runs and prints what the README says', () => {
    const section = readme.slice(readme.indexOf('## Gradients, checked'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const printed = /prints\n\n```\n([\s\S]*?)```/.exec(section)![1]!;
    const file = join(mkdtempSync(join(tmpdir(), 'elbo-readme-')), 'snippet.ts');
    writeFileSync(
      file,
      toSources(code, (source) => resolve(source)),
    );
    const output = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' });
    expect(output).toBe(printed);
  });
});

describe('README TypeScript snippets', () => {
  it('every ts block type-checks against the real API (strict)', () => {
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const dir = resolve('test-output/readme-snippets');
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = join(dir, `snippet${i}.ts`);
      writeFileSync(
        file,
        toSources(code, (source) => `../../${source.replace(/\.ts$/, '.js')}`),
      );
      return file;
    });
    const tsc = resolve('node_modules/typescript/bin/tsc');
    const result = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        ...files,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
