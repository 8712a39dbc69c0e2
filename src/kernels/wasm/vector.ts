import type { AdamStep } from '../backend.js';
import type { WasmMatmul } from './matmul.js';
import { roundUp } from './memory-manager.js';
import { SCALAR_LOOPS, type ScalarOp, SIMD_OPS, type SimdOp, type TASK_OPS, vectorWat } from './vector.wat.js';
import { assembleWat } from './wat.js';

/**
 * The JS side of the SIMD loops of `vector.wat.ts`, on the matmul engine's memory. An array that
 * is resident there (`MemoryManager.keep`: parameters, Adam's moments, gradients zeroed in place, a
 * scratch scope's results) is read and written where it is; any other is copied into the
 * per-call area, and a result copied back out. Long loops (elementwise, Adam's update, the
 * finiteness check, the row and column sums) are cut into chunks the matmul's thread pool shares
 * (the `task` of `vector.wat.ts`, run by `WasmMatmul.shareLoop`).
 */

const compiled = new Map<boolean, WebAssembly.Module>();

/** The `vector.wat.ts` module for a shared or unshared memory, compiled once for each. */
export function compileVector(shared: boolean): WebAssembly.Module {
  let module = compiled.get(shared);
  if (!module) compiled.set(shared, (module = new WebAssembly.Module(assembleWat(vectorWat({ shared })))));
  return module;
}

/** The exports of the `vector.wat.ts` module instantiated on `memory`. */
export const vectorKernels = (memory: WebAssembly.Memory, shared: boolean): WebAssembly.Exports =>
  new WebAssembly.Instance(compileVector(shared), { env: { mem: memory } }).exports;

/**
 * Loops this long (in floats) are shared with the idle workers (shorter ones cost less than a
 * wake-up): every elementwise loop and Adam's update. The plain float32 ones (relu, maskPositive,
 * add, mul, ...) are memory-bound, but a worker still awake from the step's last product halves
 * them: a training step on 2 threads ran 0.9% and 3.2% faster with them shared than with only the
 * logistic loops and Adam (two runs, 1,500 alternating steps each, 2026-12-06).
 */
export const PARALLEL_MIN = 16384;
/**
 * The row and column sums and a product's bias add are shared from this many floats on: IWAE's
 * (2,500 × 784 and 2,500 × 400 a chunk of draws) but not a training step's (128 × 784 at most).
 * Sharing IWAE's made IWAE(1000) on 100 test digits 0.91× as long on 2 threads (12 alternating
 * rounds, one process). Sharing the step's too sped up a steady loop of steps by 0–9%, but in
 * `elbo bench`'s pairing with PyTorch (our blocks of steps alternating with its, 2 threads) it
 * made ours slower: 1.07–1.18× PyTorch against 0.98–1.04× without (five runs each, alternated).
 */
export const PARALLEL_SUM_MIN = 1 << 18;
/** The loops whose y is one float ({@link ScalarOp}). */
const SCALAR_Y_LOOPS = new Set<string>(SCALAR_LOOPS);

type Loop = (x: number, y: number, out: number, n: number) => void;
type AdamFn = (
  theta: number,
  grad: number,
  m: number,
  v: number,
  n: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  sq: number,
  qEps: number,
  decay: number,
  l2: number,
) => void;

/** The SIMD elementwise loops, the row sum and Adam's update of one wasm backend. */
export class WasmVector {
  private readonly loops: Record<SimdOp | ScalarOp, Loop>;
  private readonly colSumFn: (x: number, acc: number, out: number, rows: number, n: number, ld: number) => void;
  private readonly rowSumFn: (x: number, out: number, groups: number, n: number) => void;
  private readonly adamFn: AdamFn;
  constructor(private readonly engine: WasmMatmul) {
    const exports = engine.vector;
    this.loops = Object.fromEntries([...SIMD_OPS, ...SCALAR_LOOPS].map((op) => [op, exports[op]])) as Record<SimdOp | ScalarOp, Loop>;
    this.colSumFn = exports['colSum'] as WasmVector['colSumFn'];
    this.rowSumFn = exports['rowSum'] as WasmVector['rowSumFn'];
    this.adamFn = exports['adam'] as AdamFn;
  }

  /**
   * Runs op `op` of {@link TASK_OPS} over n floats (a multiple of 8, or of 4 for Adam) at the
   * given addresses, through the pool in chunks when it is long enough and the pool has threads,
   * else here in one call; `scalars` are Adam's, in the order of its parameters; `yFixed`: every
   * chunk reads y from its start (a scalar operand).
   */
  private run(
    op: (typeof TASK_OPS)[number],
    at: { x: number; y: number; out: number; m?: number; v?: number; yFixed?: boolean },
    n: number,
    run: () => void,
    scalars: number[] = [],
  ): void {
    const threads = this.engine.threads;
    if (threads === 1 || n < PARALLEL_MIN) return run();
    this.engine.shareLoop(op, { ...at, n, chunk: this.engine.loopChunk(n, 8) }, scalars);
  }

  /**
   * The addresses of one call's arrays: each resident one where it is, the others in
   * consecutive slots of the per-call area (`bytes` long each), copied in when `copyIn`.
   * Undefined, having done nothing, if they do not fit.
   */
  private place(slots: ReadonlyArray<{ array: Float32Array; bytes: number; copyIn: boolean }>): number[] | undefined {
    const resident = slots.map(({ array }) => this.engine.addressOf(array));
    const base = this.engine.scratch(slots.reduce((sum, { bytes }, i) => sum + (resident[i] === undefined ? bytes : 0), 0));
    if (base === undefined) return undefined;
    const f32 = this.engine.view;
    let next = base;
    return slots.map(({ array, bytes, copyIn }, i) => {
      const at = resident[i];
      if (at !== undefined) return at;
      if (copyIn) f32.set(array, next >> 2);
      next += bytes;
      return next - bytes;
    });
  }

  /**
   * out = op(x) (or op(x, y) for binary ops) element by element, or with `repeats` > 1
   * op(x, y repeated that many times) (y's length, n / repeats, a multiple of 8), or for a
   * {@link ScalarOp} op(x, y[0]): resident arrays (a scope's results, parameters) read and
   * written where they are, the others copied in and the result out. False, having done
   * nothing, if they do not fit.
   */
  elementwise(op: SimdOp | ScalarOp, x: Float32Array, y: Float32Array | undefined, out: Float32Array, repeats = 1): boolean {
    const n = x.length;
    const bytes = roundUp(n * 4, 64); // resident blocks are rounded up so too: room for n rounded up to 8
    const placed = this.place([
      { array: x, bytes, copyIn: true },
      { array: y ?? x, bytes: y ? roundUp(y.length * 4, 64) : 0, copyIn: y !== undefined },
      { array: out, bytes, copyIn: false },
    ]);
    if (!placed) return false;
    const [xAt, yAt, outAt] = placed as [number, number, number];
    if (repeats === 1) {
      const yFixed = SCALAR_Y_LOOPS.has(op); // y is one float, read by every chunk
      this.run(op, { x: xAt, y: yAt, out: outAt, yFixed }, roundUp(n, 8), () => this.loops[op](xAt, yAt, outAt, roundUp(n, 8)));
    } else {
      // out[r·m + i] = op(x[r·m + i], y[i]): y (m floats, a multiple of 8) read again for every
      // repeat r; long ones shared with the pool, a repeat per task.
      const m = n / repeats;
      if (this.engine.threads > 1 && n >= PARALLEL_MIN) this.engine.shareLoop(op, { x: xAt, y: yAt, out: outAt, n, chunk: m, yFixed: true });
      else for (let r = 0, offset = 0; r < repeats; r++, offset += m * 4) this.loops[op](xAt + offset, yAt, outAt + offset, m);
    }
    if (this.engine.addressOf(out) === undefined) out.set(this.engine.view.subarray(outAt >> 2, (outAt >> 2) + n));
    return true;
  }

  /**
   * out[j] = Σ_r x[r, j] over the rows of x ([rows, n], n ≥ 4), summed in float64 in increasing r
   * like the reference. False, having done nothing, if it does not fit.
   */
  colSum(x: Float32Array, rows: number, n: number, out: Float32Array): boolean {
    const n4 = roundUp(n, 4);
    // The last row is read 4 floats at a time: (n4 − n)·4 bytes past x's end. x is read in place
    // when resident and its block's rounding leaves that slack, else copied in with it.
    const slack = (n4 - n) * 4;
    const xResident = x.length * 4 + slack <= roundUp(x.length * 4, 64) ? this.engine.addressOf(x) : undefined;
    const accOffset = xResident === undefined ? roundUp(x.length * 4 + slack, 64) : 0;
    const base = this.engine.scratch(accOffset + n4 * 12);
    if (base === undefined) return false;
    const xAt = xResident ?? base;
    const accAt = base + accOffset;
    const resident = this.engine.addressOf(out); // a resident block has room for n rounded up to 4
    const outAt = resident ?? accAt + n4 * 8;
    const f32 = this.engine.view;
    if (xResident === undefined) f32.set(x, xAt >> 2);
    const threads = this.engine.threads;
    // shared with the pool by columns, 4 at a time at least: each column's sum as on one thread
    if (threads > 1 && rows * n >= PARALLEL_SUM_MIN && n4 >= 8)
      this.engine.shareLoop('colSum', { x: xAt, y: accAt, out: outAt, n: n4, chunk: this.engine.loopChunk(n4, 4), cols: rows, ld: n });
    else this.colSumFn(xAt, accAt, outAt, rows, n4, n);
    if (resident === undefined) out.set(f32.subarray(outAt >> 2, (outAt >> 2) + n));
    return true;
  }

  /**
   * out[o] = Σ_r x[o·n + r] for o < rows (a multiple of 8): the sum over the last axis, in float64
   * in increasing r like the reference, so equal to it bit for bit (`rowSum` in vector.wat.ts). x
   * (rows·n floats or more) and out are used in place when resident, else copied in and out. False
   * if they do not fit.
   */
  rowSum(x: Float32Array, rows: number, n: number, out: Float32Array): boolean {
    const placed = this.place([
      { array: x, bytes: roundUp(x.length * 4, 64), copyIn: true },
      { array: out, bytes: roundUp(rows * 4, 64), copyIn: false },
    ]);
    if (!placed) return false;
    const [xAt, outAt] = placed as [number, number];
    const groups = rows / 8;
    const threads = this.engine.threads;
    // shared with the pool by groups of 8 rows: each row's sum as on one thread
    if (threads > 1 && rows * n >= PARALLEL_SUM_MIN && groups > 1)
      this.engine.shareLoop('rowSum', { x: xAt, out: outAt, n: groups, chunk: this.engine.loopChunk(groups), cols: n });
    else this.rowSumFn(xAt, outAt, groups, n);
    if (this.engine.addressOf(out) === undefined) out.set(this.engine.view.subarray(outAt >> 2, (outAt >> 2) + rows));
    return true;
  }

  /** Whether every element of `x` is finite, read in place when `x` is resident; undefined when it is not. */
  allFinite(x: Float32Array): boolean | undefined {
    const at = this.engine.addressOf(x);
    if (at === undefined) return undefined;
    const n4 = x.length & ~3;
    if (this.engine.threads > 1 && n4 >= PARALLEL_MIN) {
      // Shared with the pool, each task's answer in a word of the call's area.
      const chunk = this.engine.loopChunk(n4, 4);
      const tasks = Math.ceil(n4 / chunk);
      const answers = this.engine.scratch(tasks * 4);
      if (answers === undefined) return undefined;
      this.engine.shareLoop('allFinite', { x: at, out: answers, n: n4, chunk });
      if (new Int32Array(this.engine.memory.buffer, answers, tasks).includes(0)) return false;
      return this.engine.finiteAt(at + n4 * 4, x.length - n4); // the last length mod 4
    }
    return this.engine.finiteAt(at, x.length);
  }

  /**
   * One Adam step (see `Backend.adam`) in float32 SIMD, when m and v are resident
   * (`MemoryManager.keep`): θ and g are read in place when they are resident too, else
   * copied in (and θ back out). Returns false, having done nothing, if m or v is not resident.
   */
  adam(theta: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, h: AdamStep): boolean {
    const mAt = this.engine.addressOf(m);
    const vAt = this.engine.addressOf(v);
    if (mAt === undefined || vAt === undefined) return false;
    const n = theta.length;
    const bytes = roundUp(n * 4, 64);
    const placed = this.place([
      { array: theta, bytes, copyIn: true },
      { array: grad, bytes, copyIn: true },
    ]);
    if (!placed) return false;
    const [th, g] = placed as [number, number];
    // s·m/(√v/q + ε) = (s·q)·m/(√v + q·ε): one division per element instead of two.
    const scalars = [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.stepSize * h.sqrtBc2, h.sqrtBc2 * h.eps, h.decay, h.l2] as const;
    const n4 = roundUp(n, 4);
    this.run('adam', { x: th, y: g, out: 0, m: mAt, v: vAt }, n4, () => this.adamFn(th, g, mAt, vAt, n4, ...scalars), [...scalars]);
    if (this.engine.addressOf(theta) === undefined) theta.set(this.engine.view.subarray(th >> 2, (th >> 2) + n));
    return true;
  }
}
