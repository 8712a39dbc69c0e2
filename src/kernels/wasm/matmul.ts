import type { MatmulDims } from '../backend.js';
import { binaryRows } from '../loops.js';
import { JOB, SKIP, TILE, type Tile, gemmWat, slotBytes } from './gemm.wat.js';
import { ThreadPool } from './pool.js';
import { wasmHost } from './host.js';
import { compileConv } from './conv.js';
import { compileVector, PARALLEL_SUM_MIN, vectorKernels } from './vector.js';
import { TASK_OPS, VECTOR_JOB } from './vector.wat.js';
import { chooseSkip, NO_SKIP, ROWS_SPLIT_WEIGHT, type SkipChoice, sampledZeros } from './skip-choice.js';
import { MAX_PAGES, MemoryManager, PAGE, roundUp } from './memory-manager.js';
import { assembleWat } from './wat.js';

/**
 * The JS side of the wasm matmul, on the backend's memory ({@link MemoryManager}, which it
 * creates with the kernels' packing slots below the operand area): places each call's operands
 * (copying in those that are not resident), chooses how to skip zeros, splits the product into
 * tasks, runs them on the calling thread and the pool, and copies the result out. The operand
 * area of a call holds A, B, the bias, C and, for a product computed transposed over more than
 * KC steps to skip the zeros of op(B), its Cᵀ (or, through the strip, the map of the rows of C
 * it leaves out).
 */

const JOB_ADDR = 1024;
/** Where a job of the SIMD loops shared with the pool (`vector.wat.ts`'s `task`) is described. */
const LOOP_JOB_ADDR = 1280;
const SCRATCH = 65536;

/** Options of {@link WasmMatmul} (see `createWasmBackend` for the defaults). */
export interface WasmMatmulOptions {
  /** Threads in total, the calling thread included (1 = no workers). */
  threads: number;
  /** Products with fewer flops (2·batch·m·n·k) run on the calling thread alone. */
  minParallelFlops: number;
  /** Use relaxed-SIMD fused multiply-add if the engine validates it. */
  relaxedSimd: boolean;
  /** Tasks per thread a parallel product is cut into (more: better balance, more packing). */
  tasksPerThread: number;
  /** Tile sizes (for tuning; {@link TILE} by default). */
  tile?: Tile;
  /**
   * Skip the zeros of a sparse operand element by element (see `SKIP` in gemm.wat.ts): 'auto'
   * when the product is large and enough of a sample of the operand is zero (40% for 256 or more
   * result columns, 50% for 128-255, never below); 'always' whenever a sampled element is zero
   * (tests); 'off'. Blocks of the other operand that hold ∞ or NaN are multiplied densely, so the
   * result has the bits of the product without skipping.
   */
  skipZeros?: 'auto' | 'always' | 'off';
}

/** Counters for tests and benchmarks. */
export interface WasmMatmulStats {
  /** Products computed in wasm (not counting empty ones or cpu fallbacks). */
  matmuls: number;
  /** Of those, how many were split across threads. */
  threaded: number;
  /** Tasks run by worker threads (the rest ran on the calling thread). */
  workerTasks: number;
  /** Products computed skipping the zeros of a sparse operand (see `WasmMatmulOptions.skipZeros`; a block of the other operand holding ∞ or NaN is still multiplied densely). */
  zeroSkipping: number;
  /**
   * Of those, products computed as Cᵀ (op(B) sparse) that left out the rows of C that the all-zero
   * rows of op(A) make zero (a ReLU layer's units dead for the whole batch, in its weight gradient).
   */
  zeroRowsLeftOut: number;
}

/** Whether this engine can create a shared WebAssembly.Memory (needs SharedArrayBuffer). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * Relaxed SIMD (`f32x4.relaxed_madd`) is standard WebAssembly, on by default in browsers since
 * Chrome 114 and in Node 22, but Node 20's V8 keeps it behind --experimental-wasm-relaxed-simd.
 * Wasm feature flags are read when a module is validated, so setting the flag before the first
 * compile turns it on for this process (and its worker threads). ELBO_RELAXED_SIMD=0 leaves the
 * engine as it is (then the kernel uses f32x4.mul + f32x4.add). Outside Node this does nothing.
 */
function enableRelaxedSimd(): void {
  wasmHost().enableRelaxedSimd?.();
}

/** Compiled kernels (or undefined: rejected by the engine) by shared, fma and tile, so each is assembled and compiled once. */
const compiledGemm = new Map<string, WebAssembly.Module | undefined>();

/** Assembles and compiles the kernel (once), or returns undefined if the engine rejects it (e.g. no relaxed SIMD). */
export function compileGemm(shared: boolean, fma: boolean, tile: Tile = TILE): WebAssembly.Module | undefined {
  const key = JSON.stringify([shared, fma, tile]);
  if (compiledGemm.has(key)) return compiledGemm.get(key);
  const bytes = assembleWat(gemmWat({ shared, fma, tile }));
  let valid = WebAssembly.validate(bytes);
  if (!valid && fma) {
    enableRelaxedSimd();
    valid = WebAssembly.validate(bytes);
  }
  const module = valid ? new WebAssembly.Module(bytes) : undefined;
  compiledGemm.set(key, module);
  return module;
}

/** A float32 matmul engine on one wasm memory (see the file comment). */
export class WasmMatmul extends MemoryManager {
  readonly threads: number;
  readonly relaxedSimd: boolean;
  readonly tile: Tile;
  private readonly task: (job: number, t: number, slot: number) => void;
  private readonly pool: ThreadPool | undefined;
  private readonly addRows: (c: number, bias: number, rows: number, n: number, ld: number) => void;
  private readonly loopTask: (job: number, t: number, slot: number) => void;
  private readonly allFinite: (x: number, n: number) => number;
  private readonly zeroRowsScan: (x: number, rs: number, cs: number, m: number, k: number, flags: number) => void;
  /** The exports of `vector.wat.ts` on this memory (the bias add here; the rest in `vector.ts`). */
  readonly vector: WebAssembly.Exports;
  /** The job descriptors' words (the matmul's; the SIMD loops', and their f32 scalars), remade with the float32 view when the memory grows. */
  private jobWords: Int32Array;
  private loopWords: Int32Array;
  private loopScalars: Float32Array;
  private calls = 0;
  private parallelCalls = 0;
  private skippingCalls = 0;
  private zeroRowCalls = 0;

  constructor(private readonly options: WasmMatmulOptions) {
    const shared = canShareMemory();
    const tile = options.tile ?? TILE;
    const fmaModule = options.relaxedSimd ? compileGemm(shared, true, tile) : undefined;
    const module = fmaModule ?? compileGemm(shared, false, tile);
    if (!module) throw new Error('wasm backend: this engine does not support WebAssembly SIMD');
    const threads = shared && wasmHost().startWorker ? Math.min(options.threads, 32) : 1;
    const operands = SCRATCH + roundUp(threads * slotBytes(tile), PAGE);
    super(new WebAssembly.Memory({ initial: operands / PAGE + 16, maximum: MAX_PAGES, ...(shared ? { shared: true } : {}) }), shared, operands);
    this.tile = tile;
    this.relaxedSimd = fmaModule !== undefined;
    this.threads = threads;
    const instance = new WebAssembly.Instance(module, { env: { mem: this.memory } });
    this.task = instance.exports['task'] as (job: number, t: number, slot: number) => void;
    this.zeroRowsScan = instance.exports['zeroRows'] as WasmMatmul['zeroRowsScan'];
    this.vector = vectorKernels(this.memory, shared);
    this.addRows = this.vector['addRows'] as WasmMatmul['addRows'];
    this.loopTask = this.vector['task'] as WasmMatmul['loopTask'];
    this.allFinite = this.vector['allFinite'] as WasmMatmul['allFinite'];
    this.pool = this.threads > 1 ? new ThreadPool([module, compileVector(shared), compileConv(shared)], this.memory, this.threads - 1) : undefined;
    [this.jobWords, this.loopWords, this.loopScalars] = this.jobViews();
  }

  protected override viewsRenewed(): void {
    [this.jobWords, this.loopWords, this.loopScalars] = this.jobViews();
  }

  /** Views of the job descriptors on the current buffer: the matmul's words, the SIMD loops' words and scalars. */
  private jobViews(): [Int32Array, Int32Array, Float32Array] {
    const buffer = this.memory.buffer;
    return [
      new Int32Array(buffer, JOB_ADDR, 32),
      new Int32Array(buffer, LOOP_JOB_ADDR, VECTOR_JOB.scalars),
      new Float32Array(buffer, LOOP_JOB_ADDR + VECTOR_JOB.scalars * 4, 64 - VECTOR_JOB.scalars), // the rest of its 256 bytes
    ];
  }

  /** Resolves when the worker threads have started (calls before that use fewer threads). */
  ready(): Promise<void> {
    return this.pool?.ready() ?? Promise.resolve();
  }

  /** Matmuls run here, how many of them woke workers, and how many tasks the workers ran. */
  stats(): WasmMatmulStats {
    return {
      matmuls: this.calls,
      threaded: this.parallelCalls,
      workerTasks: this.pool?.workerTasks() ?? 0,
      zeroSkipping: this.skippingCalls,
      zeroRowsLeftOut: this.zeroRowCalls,
    };
  }

  /**
   * Runs tasks 0..ntasks-1 of the job at `job` of module `kind` (0 the matmul, 1 `vector.wat.ts`, 2 `conv.wat.ts`)
   * here, through `local`, and on the idle workers.
   */
  runTasks(job: number, ntasks: number, local: (t: number) => void, kind: number, workers = this.pool?.idleWorkers() ?? 0): void {
    if (workers > 0) this.pool!.run(job, ntasks, workers, local, kind);
    else for (let t = 0; t < ntasks; t++) local(t);
  }

  /**
   * Runs a job of the SIMD loops (`vector.wat.ts`'s `task`, fields as in {@link VECTOR_JOB}):
   * its ⌈n / chunk⌉ tasks here and on the idle workers.
   */
  shareLoop(
    op: (typeof TASK_OPS)[number],
    job: { x: number; y?: number; out?: number; m?: number; v?: number; n: number; chunk: number; yFixed?: boolean; cols?: number; ld?: number },
    scalars: readonly number[] = [],
  ): void {
    this.loopWords.set([
      TASK_OPS.indexOf(op),
      job.x,
      job.y ?? 0,
      job.out ?? 0,
      job.m ?? 0,
      job.v ?? 0,
      job.n,
      job.chunk,
      job.yFixed ? 1 : 0,
      job.cols ?? 0,
      job.ld ?? 0,
    ]);
    this.loopScalars.set(scalars);
    this.runTasks(LOOP_JOB_ADDR, Math.ceil(job.n / job.chunk), (t) => this.loopTask(LOOP_JOB_ADDR, t, 0), 1);
  }

  /** The units (floats, rows, groups of rows) per task of a shared loop of n units: two tasks a thread, a multiple of `multiple`. */
  loopChunk(n: number, multiple = 1): number {
    return roundUp(Math.ceil(n / (2 * this.threads)), multiple);
  }

  /** C[r, j] += bias[j] for the `rows` rows of C at `c`, `ld` floats each (rows shared with the pool when long). */
  private addBias(c: number, bias: number, rows: number, ld: number): void {
    if (this.threads > 1 && rows > 1 && rows * ld >= PARALLEL_SUM_MIN)
      this.shareLoop('addRows', { x: c, y: bias, n: rows, chunk: this.loopChunk(rows), cols: ld, ld });
    else this.addRows(c, bias, rows, ld, ld);
  }

  /** Stops the worker threads. */
  dispose(): Promise<void> {
    return this.pool?.dispose() ?? Promise.resolve();
  }

  /**
   * Whether and how the product skips the zeros of a sparse operand ({@link chooseSkip}). A
   * skipped 0·∞ or 0·NaN would not give the NaN of the product without skipping: the kernel
   * checks each block of the other operand as it packs it and multiplies a non-finite one
   * densely, except for a result it stores transposed straight into C (`onB`, k ≤ KC), so there
   * op(A) is checked here first, in memory at its address `aAt`. Such a result also leaves out the
   * rows of C that all-zero rows of op(A) make zero: they are found here (a scan of op(A), using
   * `m` i32s at `scanAt`, only when it decides the choice or the result goes through the strip),
   * returned second, and weigh in the choice (the fewer rows left, the cheaper skipping op(B)).
   */
  private skipFor(
    a: Float32Array,
    [aAt, rsA, csA]: [number, number, number],
    aLen: number,
    b: Float32Array,
    bLen: number,
    d: { batch: number; m: number; k: number; n: number; flops: number },
    scanAt: number,
  ): [SkipChoice, number[] | undefined] {
    // Parameters (kept arrays) are dense: not sampled.
    const zerosOf = (x: Float32Array, length: number) => (): number => (this.isKept(x) ? 0 : sampledZeros(x, length));
    let zerosA: number | undefined;
    const sampledA = (): number => (zerosA ??= zerosOf(a, aLen)());
    const stripped = d.k <= this.tile.KC;
    let zeroRows: number[] | undefined | null = stripped && d.batch === 1 ? null : undefined; // null: not scanned yet
    const rowsOfA = (): number[] | undefined => {
      // an eighth of the rows all zero (the least worth leaving out) makes an eighth of op(A) zeros: scan only then
      if (zeroRows === null) zeroRows = sampledA() >= 0.1 ? this.zeroRowsOf(aAt, rsA, csA, d.m, d.k, scanAt) : undefined;
      return zeroRows;
    };
    const choice = chooseSkip(this.options.skipZeros ?? 'auto', d, sampledA, zerosOf(b, bLen), () => 1 - (rowsOfA()?.length ?? 0) / d.m);
    if (!(choice.mode === SKIP.rows && choice.onB && stripped)) return [choice, undefined];
    return this.finiteAt(aAt, aLen) ? [choice, rowsOfA()] : [NO_SKIP, undefined];
  }

  /**
   * The rows of X (m × k, element (i, p) at byte address `at` + (i·rs + p·cs)·4) that are all ±0,
   * when there are enough of them to leave out (at least NR and an eighth of the rows) and not all
   * are, else undefined (the kernel's `$zeroRows` scan, m i32s of scratch at `scanAt`).
   */
  private zeroRowsOf(at: number, rs: number, cs: number, m: number, k: number, scanAt: number): number[] | undefined {
    this.zeroRowsScan(at, rs, cs, m, k, scanAt);
    const flags = new Int32Array(this.memory.buffer, scanAt, m);
    const zero: number[] = [];
    for (let i = 0; i < m; i++) if (flags[i] === 0) zero.push(i);
    return zero.length >= Math.max(this.tile.NR, m / 8) && zero.length < m ? zero : undefined;
  }

  /**
   * Writes at `mapAt` the map of C' columns to C rows for a product that leaves out the zero rows
   * of C (`zero`, ascending, of m): the other rows' indices in order, padded to a multiple of NR
   * with the first zero row (the kernel writes the zeros of C' padding columns there). Returns
   * how many rows are left.
   */
  private writeRowMap(zero: readonly number[], m: number, mapAt: number): number {
    const map = new Int32Array(this.memory.buffer, mapAt, m);
    let left = 0;
    for (let i = 0, z = 0; i < m; i++) {
      if (z < zero.length && zero[z] === i) z++;
      else map[left++] = i;
    }
    map.fill(zero[0]!, left, roundUp(left, this.tile.NR));
    return left;
  }

  /** Whether the `n` floats at byte address `at` of the memory are all finite (on this thread). */
  finiteAt(at: number, n: number): boolean {
    const body = n & ~3;
    if (body > 0 && this.allFinite(at, body) === 0) return false;
    for (let i = body; i < n; i++) if (!Number.isFinite(this.f32[(at >> 2) + i]!)) return false;
    return true;
  }

  /**
   * out[b] = op(A[b]) @ op(B[b]) in float32 (see {@link MatmulDims}). Returns false, having done
   * nothing, if the operands do not fit in the 2 GiB wasm memory.
   */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, d: MatmulDims, bias?: Float32Array): boolean {
    let { batch, m } = d;
    const { k, n, transA, transB, aBatchStride, bBatchStride } = d;
    if (batch * m * n === 0) return true;
    if (k === 0) {
      out.fill(0, 0, batch * m * n);
      if (bias) binaryRows('add', out, 0, n, 1, bias, 0, 0, 1, out, 0, batch * m, n); // + b on every row
      return true;
    }
    // One B for a stack of contiguous, untransposed A[b]: a single [batch·m, k] @ B product.
    if (batch > 1 && bBatchStride === 0 && !transA && aBatchStride === m * k) {
      m *= batch;
      batch = 1;
    }
    const { MR, NR } = this.tile;
    const aLen = (batch - 1) * aBatchStride + m * k;
    const bLen = (batch - 1) * bBatchStride + k * n;
    // Resident operands (parameters, a scope's results) are read in place; the others get a place in the call's area.
    let next = this.operands;
    const place = (x: Float32Array, floats: number): [at: number, copy: boolean] => {
      const at = this.addressOf(x);
      if (at !== undefined) return [at, false];
      next = roundUp(next + floats * 4, 64);
      return [next - roundUp(floats * 4, 64), true];
    };
    const [aAt, copyA] = place(a, aLen);
    const [bAt, copyB] = place(b, bLen);
    // Element (i, p) of op(A) is at i·rsA + p·csA; (p, j) of op(B) at p·rsB + j·csB.
    const [rsA, csA] = transA ? [1, m] : [k, 1];
    const [rsB, csB] = transB ? [1, k] : [n, 1];
    if (!this.reserve(next + m * 4)) return false;
    if (copyA) this.f32.set(aLen === a.length ? a : a.subarray(0, aLen), aAt >> 2);
    if (copyB) this.f32.set(bLen === b.length ? b : b.subarray(0, bLen), bAt >> 2);
    const flops = 2 * batch * m * n * k;
    // (the scan's scratch at `next` is free again once skipFor returns)
    const [skip, zeroRows] = this.skipFor(a, [aAt, rsA, csA], aLen, b, bLen, { batch, m, k, n, flops }, next);
    // The kernel computes C' = A'·B'. Element-level skipping needs the sparse operand on the left:
    // when that is op(B), it computes Cᵀ = op(B)ᵀ·op(A)ᵀ and writes it out transposed, as C (`trans`).
    // Otherwise a narrow result (n = 20: a VAE's latent layer) would waste the columns padding n to
    // NR in every register tile; when m and n fit the tile the other way round, compute Cᵀ
    // (no padding at all) and transpose it on the way out (`flip`).
    const trans = skip.mode === SKIP.rows && skip.onB;
    const flip = trans || (skip.mode !== SKIP.rows && batch === 1 && n % NR !== 0 && n % MR === 0 && m % NR === 0);
    const [M, N] = flip ? [n, m] : [m, n];
    const mPad = roundUp(M, MR);
    const nPad = roundUp(N, NR);
    // The C buffer: rows × ldc floats per batch item, in the orientation of out (that of C' after a plain flip).
    const [rows, ldc] = trans ? [nPad, roundUp(n, NR)] : [mPad, nPad];
    const transposed = flip && !trans;
    const biasAt = next;
    // A resident result with no padding rows or columns (a gradient zeroed in place) is written where it is.
    const outAt = !transposed && rows === m && ldc === n ? this.addressOf(out) : undefined;
    const cAt = outAt ?? biasAt + (bias ? roundUp(ldc * 4, 64) : 0);
    const cEnd = outAt === undefined ? cAt + batch * rows * ldc * 4 : biasAt + roundUp(ldc * 4, 64);
    // With `trans`, each task computes its tile of C' = Cᵀ and writes it transposed to C: straight
    // when k ≤ KC, else accumulated here first (mPad × nPad a batch item). The kernel writes C's
    // padding columns up to M rounded to MR (room: ldc is M rounded to NR).
    const ctAt = roundUp(cEnd, 64);
    if (!this.reserve(trans && k > this.tile.KC ? ctAt + batch * mPad * nPad * 4 : zeroRows ? ctAt + m * 4 : cEnd)) return false;
    // Through the strip, C's rows come from the columns of B' = op(A)ᵀ, one each: the zero rows of
    // op(A) (a ReLU layer's units dead for the whole batch, in its weight gradient gᵀ·x) give zero
    // rows of C, so B' is packed without them, the kernel computes the other columns of C' only, and
    // the zero rows are filled here. The map of C' columns to C rows lies at ctAt (unused by the strip).
    const nJob = zeroRows ? this.writeRowMap(zeroRows, m, ctAt) : N;
    const nJobPad = roundUp(nJob, NR);
    const f32 = this.f32;
    if (bias && !transposed) f32.fill(0, (biasAt >> 2) + n, (biasAt >> 2) + ldc).set(bias.subarray(0, n), biasAt >> 2);

    // Split into tasks: each batch item into pm × pn tiles when there are fewer items than threads.
    const workers = this.pool && flops >= this.options.minParallelFlops ? this.pool.idleWorkers() : 0;
    const [pm, pn] =
      workers > 0
        ? split(
            this.tile,
            mPad / MR,
            nJobPad / NR,
            Math.ceil(((workers + 1) * this.options.tasksPerThread) / batch),
            skip.mode === SKIP.rows ? ROWS_SPLIT_WEIGHT : 1,
          )
        : [1, 1];
    const tm = roundUp(Math.ceil(mPad / pm), MR);
    const tn = roundUp(Math.ceil(nJobPad / pn), NR);
    const tasksM = Math.ceil(M / tm);
    const tasksN = Math.ceil(nJob / tn);
    const job = this.jobWords;
    job[JOB.c] = cAt;
    job[JOB.m] = M;
    job[JOB.n] = nJob;
    job[JOB.k] = k;
    job[JOB.ldc] = ldc;
    if (flip) {
      // A' = op(B)ᵀ: (j, p) at p·rsB + j·csB; B' = op(A)ᵀ: (p, i) at i·rsA + p·csA.
      job[JOB.a] = bAt;
      job[JOB.rsA] = csB;
      job[JOB.csA] = rsB;
      job[JOB.aBatchStride] = bBatchStride;
      job[JOB.b] = aAt;
      job[JOB.rsB] = csA;
      job[JOB.csB] = rsA;
      job[JOB.bBatchStride] = aBatchStride;
    } else {
      job[JOB.a] = aAt;
      job[JOB.rsA] = rsA;
      job[JOB.csA] = csA;
      job[JOB.aBatchStride] = aBatchStride;
      job[JOB.b] = bAt;
      job[JOB.rsB] = rsB;
      job[JOB.csB] = csB;
      job[JOB.bBatchStride] = bBatchStride;
    }
    job[JOB.cBatchStride] = rows * ldc;
    job[JOB.tm] = tm;
    job[JOB.tn] = tn;
    job[JOB.tasksM] = tasksM;
    job[JOB.tasksN] = tasksN;
    job[JOB.scratch] = SCRATCH;
    job[JOB.slotBytes] = slotBytes(this.tile);
    job[JOB.skip] = skip.mode;
    job[JOB.ct] = trans ? ctAt : 0;
    job[JOB.ldct] = nPad;
    job[JOB.ctBatchStride] = mPad * nPad;
    job[JOB.colMap] = zeroRows ? ctAt : 0;
    const ntasks = batch * tasksM * tasksN;
    this.calls++;
    if (workers > 0) this.parallelCalls++;
    if (skip.mode !== SKIP.none) this.skippingCalls++;
    this.runTasks(JOB_ADDR, ntasks, (t) => this.task(JOB_ADDR, t, 0), 0, workers);
    if (zeroRows) {
      this.zeroRowCalls++;
      for (const row of zeroRows) f32.fill(0, (cAt >> 2) + row * ldc, (cAt >> 2) + (row + 1) * ldc);
    }
    if (transposed) {
      transposeOut(f32, cAt >> 2, nPad, out, m, n, bias);
      return true;
    }
    if (bias) this.addBias(cAt, biasAt, batch * rows, ldc); // + b on every row, in place
    if (outAt !== undefined) return true;
    if (rows === m) copyOut(f32, cAt >> 2, out, 0, batch * m, n, ldc);
    else for (let t = 0; t < batch; t++) copyOut(f32, (cAt >> 2) + t * rows * ldc, out, t * m * n, m, n, ldc);
    return true;
  }
}

/**
 * Tiles per batch item, pm along m and pn along n with pm·pn ≥ parts, that pack the least in
 * total: A is packed once per column of tiles (pn·m·k floats), B once per row (pm·k·n).
 * Sizes are in register tiles (mTiles·MR ≈ m, nTiles·NR ≈ n).
 */
function split({ MR, NR }: Tile, mTiles: number, nTiles: number, parts: number, aWeight: number): [number, number] {
  let best: [number, number] = [1, 1];
  let cost = Infinity;
  for (let pm = 1; pm <= Math.min(parts, mTiles); pm++) {
    const pn = Math.min(nTiles, Math.ceil(parts / pm));
    // Too few tasks counts as a large cost, so the most even split wins when none reaches `parts`.
    const c = aWeight * pn * mTiles * MR + pm * nTiles * NR + Math.max(0, parts - pm * pn) * (aWeight * mTiles * MR + nTiles * NR) * parts;
    if (c < cost) [best, cost] = [[pm, pn], c];
  }
  return best;
}

/** Copies `rows` rows of `n` floats, stored `ld` apart from `src`, to `out` from `at` on, contiguously. */
function copyOut(f32: Float32Array, src: number, out: Float32Array, at: number, rows: number, n: number, ld: number): void {
  if (ld === n) {
    out.set(f32.subarray(src, src + rows * n), at);
  } else if (n >= 64) {
    for (let r = 0; r < rows; r++) out.set(f32.subarray(src + r * ld, src + r * ld + n), at + r * n);
  } else {
    for (let r = 0, o = at; r < rows; r++, src += ld) for (let j = 0; j < n; j++) out[o++] = f32[src + j]!;
  }
}

/**
 * out[i, j] = Cᵀ[j, i] (+ b[j]) for i < m, j < n, from Cᵀ ([n, ld] from `src`): the result of a
 * product computed transposed. The bias sum rounds once to float32, as f32x4.add does.
 */
function transposeOut(f32: Float32Array, src: number, ld: number, out: Float32Array, m: number, n: number, bias?: Float32Array): void {
  for (let j = 0; j < n; j++) {
    const b = bias ? bias[j]! : 0;
    const row = src + j * ld;
    if (bias) for (let i = 0, o = j; i < m; i++, o += n) out[o] = f32[row + i]! + b;
    else for (let i = 0, o = j; i < m; i++, o += n) out[o] = f32[row + i]!;
  }
}
