import type { TypedArray } from './dtype.js';

/**
 * The memory behind a tensor: a typed array that a backend's memory allocated (and may have
 * placed where its kernels read it in place), and whether it holds a gradient's zeros.
 *
 * `zero()` is PyTorch's `zero_grad(set_to_none=False)` on one gradient: the storage is logically
 * zero, and the zeros are written only when it is next read, so a backward that writes a
 * gradient straight into this memory first (see `writeInto`) saves the fill. Either way the same
 * memory stays, so whoever holds the tensor sees the new values.
 */
export class Storage {
  #array: TypedArray;
  /** Logically all zeros: the next gradient may be written straight in, instead of added. */
  #zeroed = false;
  /** The zeros are not written yet (or something else was written since): fill at the next read. */
  #fillPending = false;

  constructor(array: TypedArray) {
    this.#array = array;
  }

  /** The elements, zeros filled in first if they are pending. */
  get array(): TypedArray {
    if (this.#fillPending) {
      this.#array.fill(0);
      this.#fillPending = false;
    }
    return this.#array;
  }

  /** Whether this storage is logically zero, ready to take a gradient in place of adding one. */
  get zeroed(): boolean {
    return this.#zeroed;
  }

  /** Moves the elements to `array` (same dtype and length; see `Tensor.set_`). */
  replace(array: TypedArray): void {
    this.#array = array;
  }

  /** Makes the elements zero, written lazily (at the next read, or never if {@link Storage.write} comes first). */
  zero(): void {
    this.#zeroed = true;
    this.#fillPending = true;
  }

  /**
   * Runs `fn` (which computes a result of this storage's size) with this memory given to it, via
   * `into` (the backend's `Memory.into`): the result may come back in this very memory. Until
   * {@link Storage.write} the storage stays logically zero, so if `fn` or what follows throws,
   * readers still see zeros.
   */
  writeInto<T>(into: <R>(target: TypedArray, fn: () => R) => R, fn: () => T): T {
    this.#fillPending = true;
    return into(this.#array, fn);
  }

  /** Sets the elements to `values` (nothing to copy when they are this memory already); no longer zeroed. */
  write(values: TypedArray): void {
    if (values !== this.#array) this.#array.set(values);
    this.#zeroed = false;
    this.#fillPending = false;
  }
}
