import type { AdamStep } from '../backend.js';
import type { WasmMatmul } from './matmul.js';
import { SIMD_OPS, type SimdOp, TASK_OPS, VECTOR_JOB, vectorWat } from './vector.wat.js';
import { assembleWat } from './wat.js';

/**
 * The JS side of the SIMD loops of `vector.wat.ts`, on the matmul engine's memory: elementwise
 * ops and the sum over rows copy their operands into the per-call area and the result out;
 * Adam's moments stay in memory for good (`WasmMatmul.keep`), and so do parameters and staged
 * gradients when the caller keeps them there, so that an update copies nothing. Long logistic loops and Adam's update are cut into chunks the
 * matmul's thread pool shares (the `task` of `vector.wat.ts`).
 */

const roundUp = (x: number, r: number): number => Math.ceil(x / r) * r;
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

/** Where a job for the pool is described (after the matmul's job descriptor). */
const JOB_ADDR = 1280;
/** Loops this long are shared with the idle workers (shorter ones cost less than a wake-up). */
const PARALLEL_MIN = 16384;
/** The loops worth sharing: the logistic ones (~4-8 ns an element) and Adam's update. */
const SHARED_OPS = new Set<string>(['sigmoid', 'softplus', 'logSigmoid', 'bceWithLogits', 'sigmoidSub', 'adam']);

type Loop = (x: number, y: number, out: number, n: number) => void;
type AdamFn = (theta: number, grad: number, m: number, v: number, n: number, b1: number, c1: number, b2: number, c2: number, s: number, q: number, eps: number, decay: number, l2: number) => void;

/** The SIMD elementwise loops, the row sum and Adam's update of one wasm backend. */
export class WasmVector {
  private readonly loops: Record<SimdOp, Loop>;
  private readonly colSumFn: (x: number, acc: number, out: number, rows: number, n: number) => void;
  private readonly adamFn: AdamFn;
  private readonly allFiniteFn: (x: number, n: number) => number;
  private readonly task: (job: number, t: number, slot: number) => void;
  constructor(private readonly engine: WasmMatmul) {
    const exports = vectorKernels(engine.memory, engine.shared);
    this.loops = Object.fromEntries(SIMD_OPS.map((op) => [op, exports[op]])) as Record<SimdOp, Loop>;
    this.colSumFn = exports['colSum'] as WasmVector['colSumFn'];
    this.adamFn = exports['adam'] as AdamFn;
    this.allFiniteFn = exports['allFinite'] as WasmVector['allFiniteFn'];
    this.task = exports['task'] as WasmVector['task'];
  }

  /**
   * Runs op `op` of {@link TASK_OPS} over n floats (a multiple of 8, or of 4 for Adam) at the
   * given addresses, through the pool in chunks when it is long enough and the pool has threads,
   * else here in one call; `scalars` are Adam's, in the order of its parameters.
   */
  private run(op: (typeof TASK_OPS)[number], x: number, y: number, out: number, n: number, run: () => void, m = 0, v = 0, scalars: number[] = []): void {
    const threads = this.engine.threads;
    if (threads === 1 || n < PARALLEL_MIN || !SHARED_OPS.has(op)) return run();
    const job = new Int32Array(this.engine.memory.buffer, JOB_ADDR, VECTOR_JOB.scalars + scalars.length);
    const chunk = roundUp(Math.ceil(n / (2 * threads)), 8);
    job.set([TASK_OPS.indexOf(op), x, y, out, m, v, n, chunk, 0]);
    new Float32Array(job.buffer, JOB_ADDR + VECTOR_JOB.scalars * 4, scalars.length).set(scalars);
    this.engine.runTasks(JOB_ADDR, Math.ceil(n / chunk), (t) => this.task(JOB_ADDR, t, 0), 1);
  }

  /**
   * out = op(x) (or op(x, y) for binary ops) element by element, or with `repeats` > 1
   * op(x, y repeated that many times) (y's length, n / repeats, a multiple of 8): resident arrays
   * (a scope's results, parameters) read and written where they are, the others copied in and
   * the result out. False, having done nothing, if they do not fit.
   */
  elementwise(op: SimdOp, x: Float32Array, y: Float32Array | undefined, out: Float32Array, repeats = 1): boolean {
    const n = x.length;
    const bytes = roundUp(n * 4, 64); // resident blocks are rounded up so too: room for n rounded up to 8
    const yBytes = roundUp((y?.length ?? 0) * 4, 64);
    const resident = [x, y, out].map((a) => (a ? this.engine.addressOf(a) : 0));
    const base = this.engine.scratch((resident[0] === undefined ? bytes : 0) + (resident[1] === undefined ? yBytes : 0) + (resident[2] === undefined ? bytes : 0));
    if (base === undefined) return false;
    let next = base;
    const place = (at: number | undefined, size: number): number => at ?? (next += size) - size;
    const [xAt, yAt, outAt] = [place(resident[0], bytes), place(resident[1], yBytes), place(resident[2], bytes)];
    const f32 = this.engine.view;
    if (resident[0] === undefined) f32.set(x, xAt >> 2);
    if (y && resident[1] === undefined) f32.set(y, yAt >> 2);
    if (repeats === 1) {
      this.run(op, xAt, yAt, outAt, roundUp(n, 8), () => this.loops[op](xAt, yAt, outAt, roundUp(n, 8)));
    } else {
      // out[r·m + i] = op(x[r·m + i], y[i]): y (m floats, a multiple of 8) read again for every
      // repeat r; long ones shared with the pool, a repeat per task.
      const m = n / repeats;
      if (this.engine.threads > 1 && n >= PARALLEL_MIN && SHARED_OPS.has(op)) {
        new Int32Array(this.engine.memory.buffer, JOB_ADDR, VECTOR_JOB.scalars).set([TASK_OPS.indexOf(op), xAt, yAt, outAt, 0, 0, n, m, 1]);
        this.engine.runTasks(JOB_ADDR, repeats, (t) => this.task(JOB_ADDR, t, 0), 1);
      } else {
        for (let r = 0, offset = 0; r < repeats; r++, offset += m * 4) this.loops[op](xAt + offset, yAt, outAt + offset, m);
      }
    }
    if (resident[2] === undefined) out.set(f32.subarray(outAt >> 2, (outAt >> 2) + n));
    return true;
  }

  /**
   * out[j] = Σ_r x[r, j] over the rows of x ([rows, n], n ≥ 4), summed in float64 in increasing r
   * like the reference. False, having done nothing, if it does not fit.
   */
  colSum(x: Float32Array, rows: number, n: number, out: Float32Array): boolean {
    const n4 = roundUp(n, 4);
    // x is read in place when resident (its block's rounding leaves the 16 bytes of slack the last
    // row needs, read 4 floats at a time), else copied in with that slack.
    const xResident = x.length * 4 + 16 <= roundUp(x.length * 4, 64) ? this.engine.addressOf(x) : undefined;
    const accOffset = xResident === undefined ? roundUp(x.length * 4 + 16, 64) : 0;
    const base = this.engine.scratch(accOffset + n4 * 12);
    if (base === undefined) return false;
    const xAt = xResident ?? base;
    const accAt = base + accOffset;
    const resident = this.engine.addressOf(out); // a resident block has room for n rounded up to 4
    const outAt = resident ?? accAt + n4 * 8;
    const f32 = this.engine.view;
    if (xResident === undefined) f32.set(x, xAt >> 2);
    this.colSumFn(xAt, accAt, outAt, rows, n);
    if (resident === undefined) out.set(f32.subarray(outAt >> 2, (outAt >> 2) + n));
    return true;
  }

  /** Whether every element of `x` is finite, read in place when `x` is resident; undefined when it is not. */
  allFinite(x: Float32Array): boolean | undefined {
    const at = this.engine.addressOf(x);
    if (at === undefined) return undefined;
    const n4 = x.length & ~3;
    if (this.engine.threads > 1 && n4 >= PARALLEL_MIN) {
      // Shared with the pool: 2 chunks a thread, each answer in a word of the call's area.
      const tasks = 2 * this.engine.threads;
      const chunk = roundUp(Math.ceil(n4 / tasks), 4);
      const answers = this.engine.scratch(tasks * 4);
      if (answers === undefined) return undefined;
      new Int32Array(this.engine.memory.buffer, JOB_ADDR, VECTOR_JOB.scalars).set([TASK_OPS.indexOf('allFinite'), at, 0, answers, 0, 0, n4, chunk, 0]);
      const ran = Math.ceil(n4 / chunk);
      this.engine.runTasks(JOB_ADDR, ran, (t) => this.task(JOB_ADDR, t, 0), 1);
      if (new Int32Array(this.engine.memory.buffer, answers, ran).includes(0)) return false;
    } else if (this.allFiniteFn(at, n4) === 0) return false;
    for (let i = n4; i < x.length; i++) if (x[i]! - x[i]! !== 0) return false;
    return true;
  }

  /**
   * One Adam step (see `Backend.adam`) in float32 SIMD, when m and v are resident
   * ({@link WasmMatmul.keep}): θ and g are read in place when they are resident too, else
   * copied in (and θ back out). Returns false, having done nothing, if m or v is not resident.
   */
  adam(theta: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, h: AdamStep): boolean {
    const mAt = this.engine.addressOf(m);
    const vAt = this.engine.addressOf(v);
    if (mAt === undefined || vAt === undefined) return false;
    const n = theta.length;
    const bytes = roundUp(n * 4, 64);
    let thetaAt = this.engine.addressOf(theta);
    let gradAt = this.engine.addressOf(grad);
    const copyTheta = thetaAt === undefined;
    if (thetaAt === undefined || gradAt === undefined) {
      const at = this.engine.scratch(2 * bytes);
      if (at === undefined) return false;
      thetaAt ??= at;
      gradAt ??= at + bytes;
      const f32 = this.engine.view;
      if (copyTheta) f32.set(theta, thetaAt >> 2);
      if (gradAt === at + bytes) f32.set(grad, gradAt >> 2);
    }
    const scalars = [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.stepSize, h.sqrtBc2, h.eps, h.decay, h.l2] as const;
    const n4 = roundUp(n, 4);
    const [th, g] = [thetaAt, gradAt];
    this.run('adam', th, g, 0, n4, () => this.adamFn(th, g, mAt, vAt, n4, ...scalars), mAt, vAt, [...scalars]);
    if (copyTheta) theta.set(this.engine.view.subarray(th >> 2, (th >> 2) + n));
    return true;
  }
}
