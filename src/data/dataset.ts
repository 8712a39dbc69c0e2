/**
 * The in-memory form every data loader returns: n grayscale images, row-major, pixels in [0, 1].
 */
export interface Dataset {
  /** n × rows × cols pixels, row-major, one image after another; values in [0, 1]. */
  readonly images: Float32Array;
  /** One class label per image (0-9 for MNIST and Fashion-MNIST). */
  readonly labels: Uint8Array;
  /** Number of images. */
  readonly n: number;
  readonly rows: number;
  readonly cols: number;
  /** e.g. `mnist/train`, `fashion-mnist/test`, or the file it came from. */
  readonly name: string;
  /** Optional human-readable class names, indexed by label (for legends). */
  readonly classes?: readonly string[];
}

/** A train split and a test split of one data set. */
export interface DataSplits {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Thrown for data that cannot be loaded: missing files, bad magic numbers, truncation, mismatched counts. */
export class DataError extends Error {
  override name = 'DataError';
}

/** The class names of the ten digits, '0' to '9'. */
export const DIGIT_CLASSES: readonly string[] = Object.freeze(Array.from({ length: 10 }, (_, d) => String(d)));

/** Pixels per image: rows × cols (784 for 28 × 28). */
export const imageSize = (data: Pick<Dataset, 'rows' | 'cols'>): number => data.rows * data.cols;

/**
 * The images at `indices`, in that order, as a new data set (the pixels are copied).
 * @example subset(train, [0, 1, 2]).n // 3
 */
export function subset(data: Dataset, indices: ArrayLike<number>, name = data.name): Dataset {
  const d = imageSize(data);
  const images = new Float32Array(indices.length * d);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= data.n) throw new DataError(`subset: index ${i} is out of range for ${data.name} (n = ${data.n})`);
    images.set(data.images.subarray(i * d, (i + 1) * d), k * d);
    labels[k] = data.labels[i]!;
  }
  return { images, labels, n: indices.length, rows: data.rows, cols: data.cols, name, ...(data.classes ? { classes: data.classes } : {}) };
}
