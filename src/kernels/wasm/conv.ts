import type { Conv2dDims, MatmulDims } from '../backend.js';
import { CONV_JOB, CONV_OPS, convWat } from './conv.wat.js';
import type { WasmMatmul } from './matmul.js';
import { assembleWat } from './wat.js';

/**
 * The wasm backend's 2-D convolutions, as products on the threaded GEMM of `matmul.ts`:
 *
 * - conv2d unfolds x (im2col) into col[g, (c, p, q), (n, i, j)] = x[n, g·inC/groups + c,
 *   i·strideH − padH + p·dilationH, j·strideW − padW + q·dilationW] (0 outside the image), and
 *   multiplies each group's weight [out/groups, (c, p, q)] by it: [out/groups, (n, i, j)], whose
 *   rows are then laid out as [batch, out, outHeight, outWidth];
 * - convTranspose2d multiplies each group's weight, transposed ([(o, p, q), in/groups]), by x
 *   laid out as [g, c, (n, i, j)]: col[g, (o, p, q), (n, i, j)] = Σ_c W[c, o, p, q]·x[n, c, i, j],
 *   and adds every column onto the output position it lands on (col2im, the adjoint of im2col).
 *
 * The unfolded arrays and the products live in the wasm memory for the call
 * (`MemoryManager.workspace`, which `WasmMatmul` extends), where the GEMM reads and writes them in place; the unfolding, the
 * folding back and the layout changes are the tasks of `conv.wat.ts`, shared with the pool.
 */

const compiled = new Map<boolean, WebAssembly.Module>();

/** The `conv.wat.ts` module for a shared or unshared memory, compiled once for each. */
export function compileConv(shared: boolean): WebAssembly.Module {
  let module = compiled.get(shared);
  if (!module) compiled.set(shared, (module = new WebAssembly.Module(assembleWat(convWat({ shared })))));
  return module;
}

/** Where the job for the pool is described (after the matmul's and the vector loops' descriptors). */
const JOB_ADDR = 1536;
/** Moves of fewer floats run on the calling thread alone (a wake-up costs more). */
const PARALLEL_MIN = 16384;
/** Tasks per thread a move is cut into. */
const TASKS_PER_THREAD = 4;

/** The sizes a {@link CONV_JOB} moves between: an image, the grid of kernel placements, the kernel. */
interface Movement {
  src: number;
  dst: number;
  batch: number;
  channels: number;
  height: number;
  width: number;
  gridHeight: number;
  gridWidth: number;
}

/** The first and one-past-last grid index g < count whose image index g·stride − pad + offset lies in [0, size). */
function validRange(count: number, size: number, stride: number, pad: number, offset: number): [number, number] {
  const start = Math.min(count, Math.max(0, Math.ceil((pad - offset) / stride)));
  const end = Math.min(count, Math.floor((size - 1 + pad - offset) / stride) + 1);
  return [start, Math.max(start, end)];
}

/** The conv2d and convTranspose2d kernels of one wasm backend, on its engine's memory and pool. */
export class WasmConv {
  private readonly task: (job: number, t: number, slot: number) => void;

  constructor(private readonly engine: WasmMatmul) {
    this.task = new WebAssembly.Instance(compileConv(engine.shared), { env: { mem: engine.memory } }).exports['task'] as WasmConv['task'];
  }

  /** conv2d of float32 arrays (see `Kernels.conv2d`); false, having done nothing, if it does not fit in the wasm memory. */
  conv2d(x: Float32Array, weight: Float32Array, out: Float32Array, d: Conv2dDims): boolean {
    const { batch, groups, outChannels } = d;
    const inPerGroup = d.inChannels / groups;
    const outPerGroup = outChannels / groups;
    const depth = inPerGroup * d.kernelHeight * d.kernelWidth; // the product's k
    const pixels = d.outHeight * d.outWidth;
    const columns = batch * pixels; // the product's n
    if (out.length === 0) return true;
    const xAt = this.engine.addressOf(x);
    const outAt = this.engine.addressOf(out);
    // One image: the product [groups, out/groups, pixels] is the output itself.
    const sizes = [2 * (d.kernelHeight + d.kernelWidth), groups * depth * columns, xAt === undefined ? x.length : 0, batch === 1 ? 0 : out.length];
    const done = this.engine.workspace(sizes, ([tables, col, xCopy, product]) => {
      if (xAt === undefined) xCopy!.set(x);
      const image = { batch, channels: d.inChannels, height: d.height, width: d.width, gridHeight: d.outHeight, gridWidth: d.outWidth };
      this.move(
        'im2col',
        { src: xAt ?? xCopy!.byteOffset, dst: col!.byteOffset, ...image },
        d,
        tables!,
        d.inChannels * d.kernelHeight * d.kernelWidth,
        col!.length,
      );
      const dims: MatmulDims = {
        batch: groups,
        m: outPerGroup,
        k: depth,
        n: columns,
        transA: false,
        transB: false,
        aBatchStride: outPerGroup * depth,
        bBatchStride: depth * columns,
      };
      if (!this.engine.matmul(weight, col!, batch === 1 ? out : product!, dims)) return false;
      if (batch > 1) this.transpose(product!, outChannels, batch, pixels, out, outAt);
      return true;
    });
    return done === true;
  }

  /** convTranspose2d of float32 arrays (see `Kernels.convTranspose2d`); false, having done nothing, if it does not fit. */
  convTranspose2d(x: Float32Array, weight: Float32Array, out: Float32Array, d: Conv2dDims): boolean {
    const { batch, groups, inChannels, outChannels } = d;
    const inPerGroup = inChannels / groups;
    const outPerGroup = outChannels / groups;
    const taps = outPerGroup * d.kernelHeight * d.kernelWidth; // the product's m
    const pixels = d.height * d.width;
    const columns = batch * pixels; // the product's n
    if (out.length === 0) return true;
    const outAt = this.engine.addressOf(out);
    // One image: x is [groups, in/groups, pixels] already.
    const sizes = [2 * (d.kernelHeight + d.kernelWidth), groups * taps * columns, batch === 1 ? 0 : x.length, outAt === undefined ? out.length : 0];
    const done = this.engine.workspace(sizes, ([tables, col, xByChannel, outCopy]) => {
      if (batch > 1) this.transpose(x, batch, inChannels, pixels, xByChannel!, xByChannel!.byteOffset);
      const dims: MatmulDims = {
        batch: groups,
        m: taps,
        k: inPerGroup,
        n: columns,
        transA: true,
        transB: false,
        aBatchStride: inPerGroup * taps,
        bBatchStride: inPerGroup * columns,
      };
      if (!this.engine.matmul(weight, batch === 1 ? x : xByChannel!, col!, dims)) return false;
      const image = { batch, channels: outChannels, height: d.outHeight, width: d.outWidth, gridHeight: d.height, gridWidth: d.width };
      this.move('col2im', { src: col!.byteOffset, dst: outAt ?? outCopy!.byteOffset, ...image }, d, tables!, outChannels * batch, out.length);
      if (outAt === undefined) out.set(outCopy!);
      return true;
    });
    return done === true;
  }

  /**
   * src [a, b, pixels] → dst [b, a, pixels]: by the pool's tasks when both are in the wasm
   * memory (`dstAt` given), else here in JavaScript.
   */
  private transpose(src: Float32Array, a: number, b: number, pixels: number, dst: Float32Array, dstAt: number | undefined): void {
    const srcAt = this.engine.addressOf(src);
    if (srcAt === undefined || dstAt === undefined) {
      for (let i = 0, from = 0; i < a; i++) {
        for (let j = 0; j < b; j++, from += pixels) dst.set(src.subarray(from, from + pixels), (j * a + i) * pixels);
      }
      return;
    }
    const sizes = { batch: a, channels: b, height: 1, width: pixels, gridHeight: 1, gridWidth: 1 };
    this.run('transpose', { src: srcAt, dst: dstAt, ...sizes }, undefined, a * b, src.length);
  }

  /**
   * im2col or col2im (see `conv.wat.ts`) over `count` rows or planes, `floats` moved in all:
   * writes the tables of valid grid positions for each tap into `tables`, then runs the tasks.
   */
  private move(op: 'im2col' | 'col2im', m: Movement, d: Conv2dDims, tables: Float32Array, count: number, floats: number): void {
    const words = new Int32Array(tables.buffer, tables.byteOffset, tables.length);
    const { kernelHeight: kh, kernelWidth: kw } = d;
    for (let p = 0; p < kh; p++) [words[p], words[kh + p]] = validRange(m.gridHeight, m.height, d.strideH, d.padH, p * d.dilationH);
    for (let q = 0; q < kw; q++) [words[2 * kh + q], words[2 * kh + kw + q]] = validRange(m.gridWidth, m.width, d.strideW, d.padW, q * d.dilationW);
    this.run(op, m, { ...d, tables: tables.byteOffset }, count, floats);
  }

  /** Writes the job descriptor and runs its tasks (a share of `count` each) here and, for long moves, on the idle workers. */
  private run(op: (typeof CONV_OPS)[number], m: Movement, d: (Conv2dDims & { tables: number }) | undefined, count: number, floats: number): void {
    const threads = floats >= PARALLEL_MIN ? this.engine.threads : 1;
    const tasks = Math.min(count, threads === 1 ? 1 : threads * TASKS_PER_THREAD);
    const chunk = Math.ceil(count / tasks);
    const job = new Int32Array(this.engine.memory.buffer, JOB_ADDR, 20);
    const fields: Record<keyof typeof CONV_JOB, number> = {
      op: CONV_OPS.indexOf(op),
      src: m.src,
      dst: m.dst,
      tables: d?.tables ?? 0,
      count,
      chunk,
      batch: m.batch,
      channels: m.channels,
      height: m.height,
      width: m.width,
      gridHeight: m.gridHeight,
      gridWidth: m.gridWidth,
      kh: d?.kernelHeight ?? 1,
      kw: d?.kernelWidth ?? 1,
      sh: d?.strideH ?? 1,
      sw: d?.strideW ?? 1,
      ph: d?.padH ?? 0,
      pw: d?.padW ?? 0,
      dh: d?.dilationH ?? 1,
      dw: d?.dilationW ?? 1,
    };
    for (const [field, value] of Object.entries(fields)) job[CONV_JOB[field as keyof typeof CONV_JOB]] = value;
    this.engine.runTasks(JOB_ADDR, Math.ceil(count / chunk), (t) => this.task(JOB_ADDR, t, 0), 2, threads === 1 ? 0 : undefined);
  }
}
