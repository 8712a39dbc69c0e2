import { nodeBuiltin } from '../node-builtin.js';
import { DataError, type Dataset } from './dataset.js';

/**
 * The IDX format of the MNIST files (LeCun et al.): a 4-byte magic number `0x0000TTNN` (TT =
 * element type code, NN = number of dimensions), NN big-endian uint32 sizes, then the elements,
 * row-major. Images are `0x00000803` (unsigned bytes, [n, rows, cols]); labels `0x00000801`
 * (unsigned bytes, [n]). Files may be gzipped (detected by the bytes 1f 8b).
 */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** The magic number of an IDX label file: unsigned bytes, one dimension. */
export const IDX_LABELS_MAGIC = 0x00000801;

const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes per dimension, from the header. */
  readonly dims: readonly number[];
  /** The elements, row-major (a view into the file's bytes). */
  readonly data: Uint8Array;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** Inflates gzipped bytes (recognized by 1f 8b); returns other bytes unchanged. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const zlib = nodeBuiltin<{ gunzipSync(bytes: Uint8Array): Uint8Array }>('node:zlib');
  if (!zlib) throw new DataError(`${file}: gzipped; outside Node, decompress it first (e.g. with DecompressionStream('gzip'))`);
  try {
    return new Uint8Array(zlib.gunzipSync(bytes));
  } catch (e) {
    throw new DataError(`${file}: not valid gzip (${(e as Error).message})`);
  }
}

/**
 * Parses the bytes of an IDX file (plain or gzipped) whose magic number must be `magic`
 * ({@link IDX_IMAGES_MAGIC} or {@link IDX_LABELS_MAGIC}). Only unsigned-byte data is supported.
 * Every problem is a one-line {@link DataError} naming `file`: bad magic number, unsupported
 * type code, truncated header or data, trailing bytes.
 */
export function parseIdx(raw: Uint8Array, file: string, magic: number): IdxArray {
  const bytes = maybeGunzip(raw, file);
  const kind = magic === IDX_LABELS_MAGIC ? 'labels' : 'images';
  const ndim = magic & 0xff;
  if (bytes.length < 4) throw new DataError(`${file}: truncated: expected at least 4 bytes (the magic number), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[3] !== ndim) {
    throw new DataError(
      `${file}: bad magic number ${hex(found)} (expected ${hex(magic)}: IDX ${kind}, unsigned bytes, ${ndim} dimension${ndim > 1 ? 's' : ''})`,
    );
  }
  if (bytes[2] !== 0x08) {
    const name = TYPE_NAMES[bytes[2]!] ?? 'unknown';
    throw new DataError(`${file}: unsupported IDX type code 0x${bytes[2]!.toString(16).padStart(2, '0')} (${name}); only 0x08 (unsigned byte) is supported`);
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new DataError(`${file}: truncated: expected a ${header}-byte header, got ${bytes.length} bytes`);
  const dims = Array.from({ length: ndim }, (_, k) => view.getUint32(4 + 4 * k));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  if (bytes.length < expected) {
    throw new DataError(`${file}: truncated: expected ${expected} bytes (${header}-byte header + ${dims.join(' × ')}), got ${bytes.length}`);
  }
  if (bytes.length > expected)
    throw new DataError(`${file}: ${bytes.length - expected} unexpected trailing bytes after ${expected} bytes (${header}-byte header + ${dims.join(' × ')})`);
  return { dims, data: bytes.subarray(header, expected) };
}

/** The bytes of an IDX file of unsigned bytes with the given sizes (the inverse of {@link parseIdx}). */
export function encodeIdx(data: Uint8Array, dims: readonly number[]): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (dims.length < 1 || dims.length > 255 || size !== data.length)
    throw new DataError(`encodeIdx: ${data.length} bytes do not fill dims [${dims.join(', ')}]`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * A data set from the bytes of a pair of IDX files (plain, or gzipped in Node): images
 * `[n, rows, cols]` (bytes scaled to [0, 1] by /255) and labels `[n]`; the paths only name the
 * sources in errors. Throws a {@link DataError} when the counts differ. (`loadIdxDataset` in
 * 'elbo/node' reads the files.)
 */
export function idxToDataset(
  imageBytes: Uint8Array,
  imagesPath: string,
  labelBytes: Uint8Array,
  labelsPath: string,
  name = imagesPath,
  classes?: readonly string[],
): Dataset {
  const img = parseIdx(imageBytes, imagesPath, IDX_IMAGES_MAGIC);
  const lab = parseIdx(labelBytes, labelsPath, IDX_LABELS_MAGIC);
  const [n, rows, cols] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) throw new DataError(`count mismatch: ${imagesPath} has ${n} images but ${labelsPath} has ${lab.dims[0]} labels`);
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i]! / 255;
  return { images, labels: new Uint8Array(lab.data), n, rows, cols, name, ...(classes ? { classes } : {}) };
}
