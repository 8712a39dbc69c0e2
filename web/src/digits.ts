import { DIGIT_CLASSES, type DataSplits, type Dataset } from 'elbo/data';

/**
 * The page side of the digits asset written by web/build/digits.ts: fetch, gunzip (the
 * browser's DecompressionStream), decode, and split exactly as src/data/mnist.ts does (sample i
 * in canonical order is a test sample when i % 5 == 4), so `train` and `test` hold the same
 * float32 pixels and labels as loadMnist() in Node.
 */

const MAGIC = 'ELBODIG1';

/** Fetches and decodes the digits asset at `url`. */
export async function fetchDigits(url: string): Promise<DataSplits> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`digits: GET ${url} answered ${response.status}`);
  const unzipped = response.body.pipeThrough(new DecompressionStream('gzip'));
  return decodeDigits(new Uint8Array(await new Response(unzipped).arrayBuffer()));
}

/** Decodes the (gunzipped) bytes of the asset into the 8,000 / 2,000 split. */
export function decodeDigits(bytes: Uint8Array): DataSplits {
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error('digits: not an elbo digits asset (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [n, rows, cols, paletteSize] = [0, 1, 2, 3].map((i) => view.getUint32(8 + 4 * i, true)) as [number, number, number, number];
  const palette = Float64Array.from({ length: paletteSize }, (_, i) => view.getFloat64(24 + 8 * i, true));
  const labelsAt = 24 + 8 * paletteSize;
  const pixelsAt = labelsAt + n;
  const d = rows * cols;
  if (bytes.length !== pixelsAt + n * d) throw new Error(`digits: expected ${pixelsAt + n * d} bytes, got ${bytes.length}`);
  const nTest = Math.floor(n / 5);
  const make = (count: number, name: string) => ({
    images: new Float32Array(count * d),
    labels: new Uint8Array(count),
    n: count,
    rows,
    cols,
    name,
    classes: DIGIT_CLASSES,
    k: 0,
  });
  const train = make(n - nTest, 'mnist/train');
  const test = make(nTest, 'mnist/test');
  for (let i = 0; i < n; i++) {
    const split = i % 5 === 4 ? test : train;
    const from = pixelsAt + i * d;
    for (let p = 0; p < d; p++) split.images[split.k * d + p] = palette[bytes[from + p]!]!;
    split.labels[split.k++] = bytes[labelsAt + i]!;
  }
  const strip = ({ k: _k, ...dataset }: typeof train): Dataset => dataset;
  return { train: strip(train), test: strip(test) };
}
