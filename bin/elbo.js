#!/usr/bin/env node
// The `elbo` command: runs the compiled CLI in dist/ (built by `npm run build`, which npm runs on
// install from a clone or a folder and on pack).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(`elbo: ${compiled.pathname} is missing; run 'npm run build' in the package folder first\n`);
  process.exit(1);
}
await import(compiled.href);
