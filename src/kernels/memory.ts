import { allocateEmpty, type DType, dtypeOf, type TypedArray } from '../tensor/dtype.js';
import type { Memory } from './backend.js';

/**
 * Memory in the JavaScript heap, where the cpu reference (and any backend whose kernels read
 * plain typed arrays) keeps its arrays: every array is where the kernels read it, there is no
 * scratch memory, and a result is written into a given target when one is offered.
 */
export class HostMemory implements Memory {
  /** The target offered by the innermost {@link HostMemory.into} still open, until an allocation takes it. */
  #target: TypedArray | undefined;

  empty(dtype: DType, size: number): TypedArray {
    return this.takeTarget(dtype, size) ?? allocateEmpty(dtype, size);
  }

  keep(x: TypedArray): TypedArray {
    return x;
  }

  isKept(_x: TypedArray): boolean {
    return true;
  }

  persist(x: TypedArray): TypedArray {
    return x;
  }

  scope<T>(fn: () => T): T {
    return fn();
  }

  into<T>(target: TypedArray, fn: () => T): T {
    const outer = this.#target;
    this.#target = target;
    try {
      return fn();
    } finally {
      this.#target = outer;
    }
  }

  /** The offered target if it has this size and dtype (it is then taken: offered once), else undefined. */
  protected takeTarget(dtype: DType, size: number): TypedArray | undefined {
    const target = this.#target;
    if (target === undefined || target.length !== size || dtypeOf(target) !== dtype) return undefined;
    this.#target = undefined;
    return target;
  }
}
