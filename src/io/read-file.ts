import { readFileSync, type Stats, statSync } from 'node:fs';

/** What a path that is not a regular file is, in words. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The bytes of the regular file at `path`. A FIFO, device, socket or folder is refused before
 * any read (reading a FIFO would block until a writer comes, a device might never end), with an
 * error naming the path and what it is; other file-system errors (ENOENT, EACCES) pass through.
 */
export function readRegularFile(path: string): Buffer {
  const stats = statSync(path);
  if (!stats.isFile()) throw new Error(`${path} is ${kindOf(stats)}, not a regular file; nothing was read`);
  return readFileSync(path);
}
