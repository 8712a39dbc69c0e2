import { fileURLToPath } from 'node:url';

/**
 * The package's entries (`elbo`, `elbo/vae`, ...) resolved to their sources, for Vite (the lab)
 * and Vitest (tests that import the lab's modules), so both run src/ without a build of dist/
 * and share one copy of each class with the tests.
 */
const src = (file: string): string => fileURLToPath(new URL(`../src/${file}`, import.meta.url));
const ENTRIES: Record<string, string> = {
  elbo: src('index.ts'),
  'elbo/nn': src('nn/index.ts'),
  'elbo/optim': src('nn/optim/index.ts'),
  'elbo/vae': src('vae/index.ts'),
  'elbo/data': src('data/index.ts'),
  'elbo/io': src('io/index.ts'),
  'elbo/gpujs': src('gpujs.ts'),
  'elbo/testing': src('testing/index.ts'),
  'elbo/node': src('node.ts'),
};
export const sourceAliases = Object.entries(ENTRIES).map(([name, file]) => ({ find: new RegExp(`^${name}$`), replacement: file }));
