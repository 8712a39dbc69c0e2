import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { sigmoid, softplus } from '../cpu.js';

/**
 * float32 elementwise and reduce kernels for the wasm backend, in plain JavaScript: one loop per
 * op, so every loop stays monomorphic and V8 inlines the arithmetic (the reference's one loop
 * over a table of functions becomes megamorphic: 2-15× slower). Copying into wasm memory and
 * back would cost as much as these memory-bound loops, so they stay in JS.
 *
 * Each computes exactly what the cpu reference computes (same formulas, float64 arithmetic,
 * same summation order), so results are bit-identical; the tests check equality.
 * Shapes these loops do not cover return false and the caller uses the reference.
 */

type F32 = Float32Array;

/** out[i] = f(x[i]) for float32 arrays, one loop per op. */
export function unaryF32(op: UnaryOp, x: F32, out: F32, p: number, q: number): void {
  const n = x.length;
  let i = 0;
  switch (op) {
    case 'neg': for (; i < n; i++) out[i] = -x[i]!; return;
    case 'exp': for (; i < n; i++) out[i] = Math.exp(x[i]!); return;
    case 'log': for (; i < n; i++) out[i] = Math.log(x[i]!); return;
    case 'log1p': for (; i < n; i++) out[i] = Math.log1p(x[i]!); return;
    case 'sqrt': for (; i < n; i++) out[i] = Math.sqrt(x[i]!); return;
    case 'abs': for (; i < n; i++) out[i] = Math.abs(x[i]!); return;
    case 'sign': for (; i < n; i++) out[i] = Math.sign(x[i]!); return;
    case 'step': for (; i < n; i++) out[i] = x[i]! > 0 ? 1 : 0; return;
    case 'relu': for (; i < n; i++) { const v = x[i]!; out[i] = v <= 0 ? 0 : v; } return; // NaN passes through
    case 'sigmoid': for (; i < n; i++) out[i] = sigmoid(x[i]!); return;
    case 'tanh': for (; i < n; i++) out[i] = Math.tanh(x[i]!); return;
    case 'softplus': for (; i < n; i++) out[i] = softplus(x[i]!); return;
    case 'logSigmoid': for (; i < n; i++) { const v = x[i]!; out[i] = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v))); } return;
    case 'pow': for (; i < n; i++) out[i] = Math.pow(x[i]!, p); return;
    case 'leakyRelu': for (; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : p * v; } return;
    case 'elu': for (; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : p * Math.expm1(v); } return;
    case 'clamp': for (; i < n; i++) { const v = x[i]!; out[i] = v < p ? p : v > q ? q : v; } return;
  }
}

/**
 * Merges adjacent axes that step through both inputs alike, and keeps the result only if it has
 * at most two axes: [rows, cols] with per-input strides (0 along broadcast axes).
 */
function collapse2(shape: readonly number[], as: readonly number[], bs: readonly number[]): [number, number, number, number, number, number] | undefined {
  const dims: [number, number, number][] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = dims[dims.length - 1];
    if (last && last[1] === as[i]! * d && last[2] === bs[i]! * d) {
      last[0] *= d;
      last[1] = as[i]!;
      last[2] = bs[i]!;
    } else dims.push([d, as[i]!, bs[i]!]);
  }
  if (dims.length > 2) return undefined;
  while (dims.length < 2) dims.unshift([1, 0, 0]);
  const [[rows, aR, bR], [cols, aC, bC]] = dims as [[number, number, number], [number, number, number]];
  return [rows, cols, aR, aC, bR, bC];
}

/**
 * out = f(a, b) over `shape` (strides as in {@link Backend.binary}) when the broadcast collapses
 * to two axes (same shape, scalar, bias row, per-row column); returns false otherwise.
 */
export function binaryF32(op: BinaryOp, a: F32, aStrides: readonly number[], b: F32, bStrides: readonly number[], shape: readonly number[], out: F32): boolean {
  const n = out.length;
  if (a.length === n && b.length === n) {
    // Same shape, contiguous: the simplest loop, which V8 compiles best.
    let i = 0;
    switch (op) {
      case 'add': for (; i < n; i++) out[i] = a[i]! + b[i]!; return true;
      case 'sub': for (; i < n; i++) out[i] = a[i]! - b[i]!; return true;
      case 'mul': for (; i < n; i++) out[i] = a[i]! * b[i]!; return true;
      case 'div': for (; i < n; i++) out[i] = a[i]! / b[i]!; return true;
      case 'eq': for (; i < n; i++) out[i] = a[i]! === b[i]! ? 1 : 0; return true;
      case 'bceWithLogits': for (; i < n; i++) { const x = a[i]!; out[i] = softplus(x) - x * b[i]!; } return true;
    }
  }
  const c = collapse2(shape, aStrides, bStrides);
  if (!c) return false;
  const [rows, cols, aR, aC, bR, bC] = c;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const ia = r * aR;
    const ib = r * bR;
    let j = 0;
    switch (op) {
      case 'add': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! + b[ib + j * bC]!; break;
      case 'sub': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! - b[ib + j * bC]!; break;
      case 'mul': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! * b[ib + j * bC]!; break;
      case 'div': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! / b[ib + j * bC]!; break;
      case 'eq': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! === b[ib + j * bC]! ? 1 : 0; break;
      case 'bceWithLogits': for (; j < cols; j++) { const x = a[ia + j * aC]!; out[o + j] = softplus(x) - x * b[ib + j * bC]!; } break;
    }
  }
  return true;
}

/**
 * Reduces `x` of `shape` over `axes` when they are one contiguous run of axes (sum or max over
 * rows, columns, or everything): out[o, j] = op over r of x[o, r, j], accumulated in float64 in
 * increasing r like the reference. Returns false for other axis sets.
 */
export function reduceF32(op: ReduceOp, x: F32, shape: readonly number[], axes: readonly number[], out: F32): boolean {
  if (axes.length === 0 || axes[axes.length - 1]! - axes[0]! !== axes.length - 1) return false;
  const size = (from: number, to: number): number => shape.slice(from, to).reduce((s, d) => s * d, 1);
  const outer = size(0, axes[0]!);
  const red = size(axes[0]!, axes[axes.length - 1]! + 1);
  const inner = size(axes[axes.length - 1]! + 1, shape.length);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(op === 'sum' ? 0 : -Infinity);
    const base = o * red * inner;
    if (op === 'sum') {
      if (inner === 1) {
        let s = 0;
        for (let r = 0; r < red; r++) s += x[base + r]!;
        acc[0] = s;
      } else for (let r = 0; r < red; r++) for (let j = 0, at = base + r * inner; j < inner; j++) acc[j]! += x[at + j]!;
    } else {
      for (let r = 0; r < red; r++) {
        for (let j = 0, at = base + r * inner; j < inner; j++) {
          const v = x[at + j]!;
          if (v > acc[j]! || Number.isNaN(v)) acc[j] = v;
        }
      }
    }
    out.set(acc, o * inner);
  }
  return true;
}
