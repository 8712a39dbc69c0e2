import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FASHION_MNIST_DIR, fashionMnistDir } from '../src/data/datasets.js';

/**
 * Tests that need a system package (not an npm one) skip, with a printed reason naming the
 * Debian package to install, on a machine that lacks it; `.ci/run` installs them, so CI runs
 * every test. Each skip is also noted for the summary `test/global-setup.ts` prints at the end.
 */

/** A system package some tests need: what to check for, and how to install it. */
export interface SystemRequirement {
  /** What the tests use, e.g. 'chromium'. */
  what: string;
  /** Whether it is present. */
  present: () => boolean;
  /** The command that installs it. */
  install: string;
}

/** Debian's Chromium, driven through playwright-core for the browser tests. */
export const CHROMIUM: SystemRequirement = {
  what: 'Chromium (/usr/bin/chromium)',
  present: () => existsSync('/usr/bin/chromium'),
  install: 'apt-get install -y chromium',
};

/** Debian's Fashion-MNIST IDX files. */
export const FASHION_MNIST: SystemRequirement = {
  what: `Fashion-MNIST (${FASHION_MNIST_DIR})`,
  present: () => ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'].some((file) => existsSync(join(fashionMnistDir(), file))),
  install: 'apt-get install -y dataset-fashion-mnist',
};

/** The file the test workers note skips in (under the run's temporary folder; see global-setup.ts). */
export const SKIPS_FILE = 'elbo-skipped-tests.txt';

/**
 * Whether `requirement` is present; when it is not, prints why `tests` are skipped and notes it
 * for the end-of-run summary. Use as `describe.skipIf(!has(CHROMIUM, 'the lab test'))`.
 */
export function has(requirement: SystemRequirement, tests: string): boolean {
  if (requirement.present()) return true;
  const line = `${tests}: skipped, ${requirement.what} is not installed (${requirement.install})`;
  console.warn(line);
  const root = process.env['ELBO_TEST_ROOT'];
  if (root) appendFileSync(join(root, SKIPS_FILE), `${line}\n`);
  return false;
}
