/** The two element types a tensor can hold. float64 is for checks (gradcheck); float32 for speed. */
export type DType = 'float32' | 'float64';

/** The typed array behind a tensor of each dtype. */
export type TypedArray = Float32Array | Float64Array;

/** Thrown when tensors of different dtypes meet in one op, or a dtype is unknown. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}

/** A new zero-filled array of `size` elements of `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** Arrays this long and longer skip zero-filling in {@link allocateEmpty} (shorter ones gain nothing), and take a backend's scratch memory. */
export const EMPTY_MIN = 4096;
/** Node's Buffer, whose allocUnsafeSlow gives memory that is not zero-filled; absent in browsers. */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(bytes: number): Uint8Array } }).Buffer;

/**
 * Host memory whose initial contents are unspecified, like `torch.empty`: for outputs a kernel
 * writes in full before anything reads them. In Node, long arrays come from memory that is not
 * zero-filled (a pass over every byte saved); elsewhere this is {@link allocate}. Op results are
 * allocated by their backend's memory (`Memory.empty` in `kernels/backend.ts`), which uses this.
 */
export function allocateEmpty(dtype: DType, size: number): TypedArray {
  if (size < EMPTY_MIN) return allocate(dtype, size);
  if (NodeBuffer === undefined) return allocate(dtype, size);
  const bytes = NodeBuffer.allocUnsafeSlow(size * (dtype === 'float64' ? 8 : 4));
  return dtype === 'float64' ? new Float64Array(bytes.buffer, bytes.byteOffset, size) : new Float32Array(bytes.buffer, bytes.byteOffset, size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function assertDType(op: string, dtype: unknown): DType {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} (expected 'float32' or 'float64')`);
  }
  return dtype;
}
