import { writeFileAtomic } from './atomic.js';
import { type CheckpointContents, type CheckpointTargets, decodeCheckpoint, encodeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { readRegularFile } from './read-file.js';

/** Saves a checkpoint to `path` atomically (temp file, fsync, rename; see `encodeCheckpoint` for the layout). */
export function saveCheckpoint(path: string, contents: CheckpointContents): void {
  writeFileAtomic(path, encodeCheckpoint(contents));
}

/**
 * Loads the checkpoint at `path` into `into.model` (strictly: names and shapes must match) and,
 * when given, `into.optimizer` and `into.rng`; returns the step, epoch and config.
 * @throws SafetensorsError for a malformed file; Error for a checkpoint that does not fit.
 */
export function loadCheckpoint(path: string, into: CheckpointTargets): LoadedCheckpoint {
  return decodeCheckpoint(readRegularFile(path), into, path);
}
