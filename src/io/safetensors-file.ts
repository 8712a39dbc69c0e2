import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { readRegularFile } from './read-file.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsContent } from './safetensors.js';

/** Writes `tensors` (and `metadata`) to a safetensors file at `path`, atomically (temp file, fsync, rename). */
export function saveSafetensors(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: Readonly<Record<string, string>>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and validates the safetensors file at `path` (see {@link decodeSafetensors}). A FIFO, device or folder is refused unread; file-system errors pass through. */
export function loadSafetensors(path: string): SafetensorsContent {
  return decodeSafetensors(readRegularFile(path));
}
