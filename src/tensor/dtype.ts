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

/** Storage offered to the next {@link allocateEmpty} of its size and dtype (see {@link allocatingInto}). */
let destination: TypedArray | undefined;

/**
 * Runs `fn` offering `into` as the storage of the first array of its size and dtype that `fn`
 * allocates with {@link allocateEmpty} (an op's result, which the op then writes in full). The
 * autograd engine computes a parameter's gradient this way straight into the gradient's own
 * memory. Whatever took `into` must not be needed once `fn` returns, unless it is the result.
 */
export function allocatingInto<T>(into: TypedArray, fn: () => T): T {
  const outer = destination;
  destination = into;
  try {
    return fn();
  } finally {
    destination = outer;
  }
}

/** Where {@link allocateEmpty} takes long float32 arrays from inside {@link withScratch}; undefined outside. */
let scratch: ((size: number) => Float32Array | undefined) | undefined;

/**
 * Runs `fn` with {@link allocateEmpty} taking float32 arrays of {@link EMPTY_MIN} elements or more
 * from `take` (when it gives one): a backend's scratch memory, which it reuses once the scope
 * that installed this ends (see `Backend.scope`). Nothing allocated so inside may be used after.
 */
export function withScratch<T>(take: (size: number) => Float32Array | undefined, fn: () => T): T {
  const outer = scratch;
  scratch = take;
  try {
    return fn();
  } finally {
    scratch = outer;
  }
}

/** Arrays this long and longer skip zero-filling in {@link allocateEmpty} (shorter ones gain nothing). */
export const EMPTY_MIN = 4096;
/** Node's Buffer, whose allocUnsafeSlow gives memory that is not zero-filled; absent in browsers. */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(bytes: number): Uint8Array } }).Buffer;

/**
 * Storage whose initial contents are unspecified, like `torch.empty`: for outputs a kernel
 * writes in full before anything reads them. In Node, long arrays come from memory that is not
 * zero-filled (a pass over every byte saved); elsewhere this is {@link allocate}.
 */
export function allocateEmpty(dtype: DType, size: number): TypedArray {
  if (destination !== undefined && destination.length === size && dtypeOf(destination) === dtype) {
    const into = destination;
    destination = undefined;
    return into;
  }
  if (size < EMPTY_MIN) return allocate(dtype, size);
  if (dtype === 'float32' && scratch !== undefined) {
    const view = scratch(size);
    if (view !== undefined) return view;
  }
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
