import { accessSync, constants, existsSync, realpathSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { CHECKPOINT_FILE, METRICS_FILE } from '../vae/train.js';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './args.js';

/**
 * Checks of the paths a command is given, made before any work starts, so that a FIFO, a
 * directory where a file is wanted or an output on /proc ends in one line and exit code 2,
 * instead of a hang, a crash after minutes of training, or a half-made folder.
 */

/** What a non-regular file is, in words. */
function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Pseudo-filesystems where a run cannot be written (and where mkdir may never return). */
const PSEUDO = ['/proc', '/sys', '/dev'];

/** The nearest existing folder at or above `path`, resolved through symbolic links. */
function nearestExisting(path: string): string {
  let at = resolve(path);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return realpathSync(at);
}

/** Throws a UsageError unless new files may be written inside `dir` (which exists). */
function checkWritableDirectory(flag: string, given: string, dir: string): void {
  const pseudo = PSEUDO.find((root) => dir === root || dir.startsWith(`${root}/`));
  if (pseudo) throw new UsageError(`--${flag} ${given} is on the pseudo-filesystem ${pseudo}, where nothing can be saved; choose a folder on a disk`);
  const stats = statSync(dir);
  if (!stats.isDirectory()) throw new UsageError(`--${flag} ${given}: ${dir} is ${kindOf(stats)}, not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag} ${given}: cannot write in ${dir} (permission denied)`);
  }
}

/**
 * Checks a run folder (`--out` of `elbo train`): it is a folder or does not exist yet, and the
 * nearest existing folder above it is writable and not on /proc, /sys or /dev.
 * @throws UsageError naming the flag and the path.
 */
export function checkOutputDirectory(flag: string, dir: string): void {
  const full = resolve(dir);
  if (existsSync(full)) {
    const stats = statSync(full);
    if (!stats.isDirectory()) throw new UsageError(`--${flag} ${dir} is ${kindOf(stats)}, not a folder for the run`);
  }
  checkWritableDirectory(flag, dir, nearestExisting(full));
}

/**
 * Checks an output file (`--out` of sample, reconstruct, interpolate): not a folder or other
 * non-regular file, in an existing, writable folder.
 * @throws UsageError naming the flag and the path.
 */
export function checkOutputFile(flag: string, file: string): void {
  const full = resolve(file);
  if (existsSync(full)) {
    const stats = statSync(full);
    if (!stats.isFile()) throw new UsageError(`--${flag} ${file} is ${kindOf(stats)}; name a file to write, e.g. ${join(file, 'out.png')}`);
  }
  const parent = dirname(full);
  if (!existsSync(parent)) throw new UsageError(`--${flag} ${file}: the folder ${parent} does not exist`);
  checkWritableDirectory(flag, file, realpathSync(parent));
}

/**
 * The file an input flag names, checked to be a regular file; a folder is accepted when it
 * holds `inFolder` (e.g. a run folder's checkpoint.safetensors), which is then returned.
 * @throws UsageError for a missing path, a FIFO, a device or a folder without `inFolder`.
 */
export function checkInputFile(flag: string, path: string, inFolder?: string): string {
  if (!existsSync(path)) throw new UsageError(`--${flag} ${path}: no such file`);
  let file = path;
  let stats = statSync(path);
  if (stats.isDirectory() && inFolder !== undefined) {
    file = join(path, inFolder);
    if (!existsSync(file)) throw new UsageError(`--${flag} ${path}: the folder holds no ${inFolder}`);
    stats = statSync(file);
  }
  if (!stats.isFile()) throw new UsageError(`--${flag} ${file} is ${kindOf(stats)}, not a regular file`);
  return file;
}

/**
 * Removes what a fresh run wrote (config.json, metrics.jsonl, then the folder if that leaves it
 * empty) when it stopped before its first checkpoint: a run that diverged at once would only
 * diverge again on --resume. A folder holding a checkpoint is left as it is.
 */
export function removeRunWithoutCheckpoint(outDir: string): void {
  if (existsSync(join(outDir, CHECKPOINT_FILE))) return;
  for (const file of ['config.json', METRICS_FILE]) rmSync(join(outDir, file), { force: true });
  try {
    rmdirSync(outDir);
  } catch {
    // not empty (the user's files), or gone: left as it is
  }
}
