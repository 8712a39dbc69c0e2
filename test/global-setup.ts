import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test's temporary files (run folders, checkpoints, PNGs) go under one folder of this run,
 * removed at the end: TMPDIR points there for the test workers and the CLI processes they start.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'elbo-tests-'));
  process.env['TMPDIR'] = root;
  process.env['ELBO_TEST_ROOT'] = root;
  return () => {
    // Tests skipped for a missing system package (test/system.ts), named once more at the end.
    const skips = join(root, 'elbo-skipped-tests.txt');
    if (existsSync(skips)) {
      const lines = [...new Set(readFileSync(skips, 'utf8').trim().split('\n'))];
      process.stdout.write(`\nSkipped for a missing system package (.ci/run installs them):\n${lines.map((l) => `  - ${l}`).join('\n')}\n`);
    }
    rmSync(root, { recursive: true, force: true });
  };
}
