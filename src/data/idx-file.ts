import { readRegularFile } from '../io/read-file.js';
import { DataError, type Dataset } from './dataset.js';
import { idxToDataset } from './idx.js';

function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readRegularFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code ? `${file}: cannot read (${code})` : (e as Error).message);
  }
}

/**
 * A data set from a pair of IDX files (plain or gzipped): images `[n, rows, cols]` (bytes scaled
 * to [0, 1] by /255) and labels `[n]`. Throws a {@link DataError} when the counts differ.
 *
 * @example loadIdxDataset('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz').n // 10000
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, name = imagesPath, classes?: readonly string[]): Dataset {
  return idxToDataset(readBytes(imagesPath), imagesPath, readBytes(labelsPath), labelsPath, name, classes);
}
