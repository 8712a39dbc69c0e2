import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test's temporary files (run folders, checkpoints, PNGs) go under one folder of this run,
 * removed at the end: TMPDIR points there for the test workers and the CLI processes they start.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'elbo-tests-'));
  process.env['TMPDIR'] = root;
  return () => rmSync(root, { recursive: true, force: true });
}
