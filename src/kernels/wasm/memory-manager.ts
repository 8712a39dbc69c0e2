/**
 * The wasm backend's memory manager: one WebAssembly.Memory that every kernel works in, grown
 * (never shrunk) as calls need, and the arrays that live in it.
 *
 * Memory layout (bytes): [0, 1024) pool control words; [1024, 1280) the matmul's job descriptor;
 * [1280, 1536) that of the SIMD loops shared with the pool (`vector.ts`); [1536, 1792) that of
 * the convolutions' data movement (`conv.ts`); [65536, …) one packing slot per thread; then the
 * resident arrays ({@link MemoryManager.keep}: parameters, Adam's moments and its staged
 * gradients, read and updated in place every step, and the chunks of the scratch arena,
 * {@link MemoryManager.scratchArray}); then the operands of the current call (the matmul's A, B,
 * bias and C; the operands of the loops of `vector.ts`).
 * An operand that is resident is read where it is, not copied. The memory only grows (once to
 * the largest call seen), so steady-state calls allocate nothing. It is shared whenever the
 * engine allows, even for one thread: growing a shared memory never detaches it, so views of
 * resident arrays stay valid.
 */

export const PAGE = 65536;
/** 2 GiB: byte addresses stay positive i32 in the kernels. */
export const MAX_PAGES = 32768;
/** Bytes of a scratch-arena chunk (a larger result gets a chunk of its own size). */
const ARENA_CHUNK = 8 << 20;

/** x rounded up to a multiple of r. */
export const roundUp = (x: number, r: number): number => Math.ceil(x / r) * r;

/** Where arrays live in one wasm memory: resident ones, a scratch arena, and each call's operand area. */
export class MemoryManager {
  /** The memory every kernel of the backend works in. */
  readonly memory: WebAssembly.Memory;
  /** Whether the memory is shared (then views of it stay valid as it grows). */
  readonly shared: boolean;
  /** Where the current call's operands start: after the packing slots and the resident arrays. */
  protected operands: number;
  /** A float32 view of the whole memory, remade by {@link MemoryManager.reserve} when it grows. */
  protected f32: Float32Array;
  /** The scratch arena's chunks, the [chunk, bytes used in it] it has reached, and the scopes open. */
  private readonly arena: Array<{ at: number; bytes: number }> = [];
  private arenaUsed: [number, number] = [0, 0];
  private scopeDepth = 0;
  /** Views of this memory handed out (by keep() and the scratch arena), by identity. */
  private readonly resident = new WeakSet<Float32Array>();
  /** Those handed out by keep(), which live on, and the blocks of collected ones, by byte size, for reuse. */
  private readonly kept = new WeakSet<Float32Array>();
  private readonly freeBlocks = new Map<number, number[]>();
  private readonly reclaim = new FinalizationRegistry<[number, number]>(([at, bytes]) => {
    const list = this.freeBlocks.get(bytes) ?? [];
    list.push(at);
    this.freeBlocks.set(bytes, list);
  });

  /** Manages `memory` from byte `operands` on (what lies below belongs to the kernels). */
  constructor(memory: WebAssembly.Memory, shared: boolean, operands: number) {
    this.memory = memory;
    this.shared = shared;
    this.operands = operands;
    this.f32 = new Float32Array(memory.buffer);
  }

  /**
   * The start of the per-call operand area, after `bytes` more of it have been reserved (its
   * float32 view is {@link MemoryManager.view}); undefined if they do not fit.
   */
  scratch(bytes: number): number | undefined {
    return this.reserve(this.operands + bytes) ? this.operands : undefined;
  }

  /** A float32 view of the whole memory, current after the last {@link MemoryManager.scratch}. */
  get view(): Float32Array {
    return this.f32;
  }

  /**
   * Takes `bytes` (a multiple of 64) for good from the start of the operand area, which moves up:
   * room for an array that stays in memory across calls. Undefined if they do not fit.
   */
  takeResident(bytes: number): number | undefined {
    if (!this.reserve(this.operands + bytes)) return undefined;
    this.operands += bytes;
    return this.operands - bytes;
  }

  /**
   * `x` if keep() handed it out, else a view of the memory holding a copy of it (of a scratch
   * array too, which would not live on), which stays there (its block is reused once the view is
   * collected); undefined when the memory is not shared, since growing an unshared memory
   * detaches every view of it.
   */
  keep(x: Float32Array): Float32Array | undefined {
    if (this.kept.has(x)) return x;
    if (!this.shared) return undefined;
    const bytes = roundUp(Math.max(x.length, 1) * 4, 64);
    const at = this.freeBlocks.get(bytes)?.pop() ?? this.takeResident(bytes);
    if (at === undefined) return undefined;
    const view = new Float32Array(this.memory.buffer, at, x.length);
    view.set(x);
    this.resident.add(view);
    this.kept.add(view);
    this.reclaim.register(view, [at, bytes]);
    return view;
  }

  /**
   * Runs `fn` with a scratch arena open in this memory: {@link MemoryManager.scratchArray} hands
   * out resident arrays from it (kernels read and write them in place), reused from the start
   * once the outermost scope ends: nothing made inside may be used after. Unshared memory: just `fn()`.
   */
  scope<T>(fn: () => T): T {
    if (!this.shared) return fn();
    this.scopeDepth++;
    try {
      return fn();
    } finally {
      if (--this.scopeDepth === 0) this.arenaUsed = [0, 0];
    }
  }

  /**
   * A resident view of `size` floats from the scratch arena while a {@link MemoryManager.scope} is
   * open (bump allocation in chunks that are kept for reuse); undefined outside one or when full.
   */
  scratchArray(size: number): Float32Array | undefined {
    if (this.scopeDepth === 0) return undefined;
    const bytes = roundUp(size * 4, 64);
    let [chunk, used] = this.arenaUsed;
    while (chunk < this.arena.length && used + bytes > this.arena[chunk]!.bytes) [chunk, used] = [chunk + 1, 0];
    if (chunk === this.arena.length) {
      const chunkBytes = Math.max(ARENA_CHUNK, bytes);
      const at = this.takeResident(chunkBytes);
      if (at === undefined) return undefined;
      this.arena.push({ at, bytes: chunkBytes });
    }
    const view = new Float32Array(this.memory.buffer, this.arena[chunk]!.at + used, size);
    this.resident.add(view);
    this.arenaUsed = [chunk, used + bytes];
    return view;
  }

  /**
   * Runs `fn` with resident views of `sizes` floats each at the start of the per-call operand
   * area (a convolution's unfolded input and its product), which matmuls inside `fn` read and
   * write in place, placing their own operands after them. The views are valid only inside `fn`.
   * Undefined, having run nothing, when the memory is not shared or they do not fit.
   */
  workspace<T>(sizes: readonly number[], fn: (views: Float32Array[]) => T): T | undefined {
    if (!this.shared) return undefined;
    const start = this.operands;
    const blocks = sizes.map((size) => roundUp(Math.max(size, 1) * 4, 64));
    const end = blocks.reduce((at, bytes) => at + bytes, start);
    if (!this.reserve(end)) return undefined;
    let at = start;
    const views = sizes.map((size, i) => {
      const view = new Float32Array(this.memory.buffer, at, size);
      this.resident.add(view);
      at += blocks[i]!;
      return view;
    });
    this.operands = end;
    try {
      return fn(views);
    } finally {
      // Only matmuls run inside; should anything have taken memory for good meanwhile, the views' blocks stay taken.
      if (this.operands === end) this.operands = start;
    }
  }

  /** Whether `x` was handed out by the scratch arena (it does not outlive its scope). */
  isScratch(x: Float32Array): boolean {
    return this.resident.has(x) && !this.kept.has(x);
  }

  /** The byte address of `x` if it is resident ({@link MemoryManager.keep}), else undefined. */
  addressOf(x: Float32Array): number | undefined {
    return this.resident.has(x) ? x.byteOffset : undefined;
  }

  /** Whether keep() handed `x` out (a parameter or optimizer state: dense, never sampled for zeros). */
  protected isKept(x: Float32Array): boolean {
    return this.kept.has(x);
  }

  /** Grows the memory (never shrinks) so that `bytes` fit, and refreshes the views. */
  protected reserve(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const pages = Math.ceil((bytes - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) return false;
      this.memory.grow(Math.min(MAX_PAGES - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 4))));
    }
    if (this.f32.buffer !== this.memory.buffer || this.f32.length * 4 !== this.memory.buffer.byteLength) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.viewsRenewed();
    }
    return true;
  }

  /** Called when the memory's buffer has changed (it grew): a subclass remakes its own views here. */
  protected viewsRenewed(): void {}
}
