import type { TypedArray } from '../tensor/dtype.js';
import type { BinaryOp, ReduceOp, UnaryOp } from './backend.js';
import { bceWithLogits32, exp32, logSigmoid32, sigmoid, sigmoid32, sigmoidSub32, softplus, softplus32 } from './logistic.js';

/**
 * The elementwise and reduce loops of the JavaScript backends (the cpu reference, and the wasm
 * backend, whose elementwise ops stay in JS), for float32 and float64 arrays alike: every op's
 * formula is written here once. One loop per op, not one loop over a table of functions: a
 * loop that calls through a table becomes megamorphic and runs 2-15× slower, while a loop per
 * op stays monomorphic and V8 inlines the arithmetic.
 *
 * Arithmetic is float64 (JavaScript numbers), rounded once when stored into a float32 array;
 * sums accumulate in float64 in increasing index order. eˣ, σ, softplus, ln σ, BCE with logits
 * and σ(x) − y have a float32 evaluation of their own (`logistic.ts`, float32 arithmetic
 * throughout), the very operations of the wasm SIMD kernels.
 */


/** out[i] = f(x[i]); `p`, `q` are the op's scalar parameters (exponent, alpha, min/max). */
export function unaryLoop(op: UnaryOp, x: TypedArray, out: TypedArray, p: number, q: number): void {
  const n = x.length;
  const f32 = out instanceof Float32Array;
  let i = 0;
  switch (op) {
    case 'neg': for (; i < n; i++) out[i] = -x[i]!; return;
    case 'exp': if (f32) for (; i < n; i++) out[i] = exp32(x[i]!); else for (; i < n; i++) out[i] = Math.exp(x[i]!); return;
    case 'log': for (; i < n; i++) out[i] = Math.log(x[i]!); return;
    case 'log1p': for (; i < n; i++) out[i] = Math.log1p(x[i]!); return;
    case 'sqrt': for (; i < n; i++) out[i] = Math.sqrt(x[i]!); return;
    case 'abs': for (; i < n; i++) out[i] = Math.abs(x[i]!); return;
    case 'sign': for (; i < n; i++) out[i] = Math.sign(x[i]!); return;
    case 'step': for (; i < n; i++) out[i] = x[i]! > 0 ? 1 : 0; return;
    case 'relu': for (; i < n; i++) { const v = x[i]!; out[i] = v <= 0 ? 0 : v; } return; // NaN passes through, as in PyTorch
    case 'sigmoid': if (f32) for (; i < n; i++) out[i] = sigmoid32(x[i]!); else for (; i < n; i++) out[i] = sigmoid(x[i]!); return;
    case 'tanh': for (; i < n; i++) out[i] = Math.tanh(x[i]!); return;
    case 'softplus': if (f32) for (; i < n; i++) out[i] = softplus32(x[i]!); else for (; i < n; i++) out[i] = softplus(x[i]!); return;
    case 'logSigmoid':
      if (f32) for (; i < n; i++) out[i] = logSigmoid32(x[i]!);
      else for (; i < n; i++) { const v = x[i]!; out[i] = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v))); }
      return;
    case 'pow': for (; i < n; i++) out[i] = x[i]! ** p; return;
    case 'leakyRelu': for (; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : p * v; } return;
    case 'elu': for (; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : p * Math.expm1(v); } return;
    case 'clamp': for (; i < n; i++) { const v = x[i]!; out[i] = v < p ? p : v > q ? q : v; } return;
    default: unknownOp('unaryLoop', op);
  }
}

/** The `default` of a switch over an op union: compiles only when every op has its case. */
function unknownOp(loop: string, op: never): never {
  throw new Error(`${loop}: no loop for op ${JSON.stringify(op)}`);
}

/**
 * out[o + r·cols + j] = f(a[ia + r·aR + j·aC], b[ib + r·bR + j·bC]) for r < rows, j < cols:
 * a binary op over a 2-axis view of each input (stride 0 along a broadcast axis).
 */
export function binaryRows(op: BinaryOp, a: TypedArray, ia: number, aR: number, aC: number, b: TypedArray, ib: number, bR: number, bC: number, out: TypedArray, o: number, rows: number, cols: number): void {
  if (rows === 1 && aC === 1 && bC === 1 && ia === 0 && ib === 0 && o === 0) {
    // Same shape, contiguous: the simplest loops, which V8 compiles best.
    let i = 0;
    const n = cols;
    switch (op) {
      case 'add': for (; i < n; i++) out[i] = a[i]! + b[i]!; return;
      case 'sub': for (; i < n; i++) out[i] = a[i]! - b[i]!; return;
      case 'mul': for (; i < n; i++) out[i] = a[i]! * b[i]!; return;
      case 'div': for (; i < n; i++) out[i] = a[i]! / b[i]!; return;
      case 'eq': for (; i < n; i++) out[i] = a[i]! === b[i]! ? 1 : 0; return;
      case 'bceWithLogits':
        if (out instanceof Float32Array) for (; i < n; i++) out[i] = bceWithLogits32(a[i]!, b[i]!);
        else for (; i < n; i++) { const x = a[i]!; out[i] = softplus(x) - x * b[i]!; }
        return;
      case 'sigmoidSub':
        if (out instanceof Float32Array) for (; i < n; i++) out[i] = sigmoidSub32(a[i]!, b[i]!);
        else for (; i < n; i++) out[i] = sigmoid(a[i]!) - b[i]!;
        return;
      case 'maskPositive': for (; i < n; i++) out[i] = a[i]! * +(b[i]! > 0); return; // +(bool): no branch to mispredict
      default: unknownOp('binaryRows', op);
    }
  }
  for (let r = 0; r < rows; r++, o += cols, ia += aR, ib += bR) {
    let j = 0;
    switch (op) {
      case 'add': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! + b[ib + j * bC]!; break;
      case 'sub': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! - b[ib + j * bC]!; break;
      case 'mul': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! * b[ib + j * bC]!; break;
      case 'div': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! / b[ib + j * bC]!; break;
      case 'eq': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! === b[ib + j * bC]! ? 1 : 0; break;
      case 'bceWithLogits':
        if (out instanceof Float32Array) for (; j < cols; j++) out[o + j] = bceWithLogits32(a[ia + j * aC]!, b[ib + j * bC]!);
        else for (; j < cols; j++) { const x = a[ia + j * aC]!; out[o + j] = softplus(x) - x * b[ib + j * bC]!; }
        break;
      case 'sigmoidSub':
        if (out instanceof Float32Array) for (; j < cols; j++) out[o + j] = sigmoidSub32(a[ia + j * aC]!, b[ib + j * bC]!);
        else for (; j < cols; j++) out[o + j] = sigmoid(a[ia + j * aC]!) - b[ib + j * bC]!;
        break;
      case 'maskPositive': for (; j < cols; j++) out[o + j] = a[ia + j * aC]! * +(b[ib + j * bC]! > 0); break;
      default: unknownOp('binaryRows', op);
    }
  }
}

/**
 * Merges adjacent axes that step through both inputs alike (dropping size-1 axes); returns
 * [size, aStride, bStride] per remaining axis, outermost first.
 */
function collapseAxes(shape: readonly number[], as: readonly number[], bs: readonly number[]): Array<[number, number, number]> {
  const dims: Array<[number, number, number]> = [];
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
  return dims;
}

/**
 * out = f(a, b) over `shape`, with per-input element strides per output axis (0 along broadcast
 * axes). Collapses the axes first; the last two become one {@link binaryRows} call per index of
 * the others (none for same-shape, scalar, bias-row and per-row-column broadcasts).
 */
export function binaryLoop(op: BinaryOp, a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], shape: readonly number[], out: TypedArray): void {
  if (out.length === 0) return;
  const dims = collapseAxes(shape, aStrides, bStrides);
  while (dims.length < 2) dims.unshift([1, 0, 0]);
  const outer = dims.slice(0, -2);
  const [[rows, aR, bR], [cols, aC, bC]] = dims.slice(-2) as [[number, number, number], [number, number, number]];
  const block = rows * cols;
  const index = new Array<number>(outer.length).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < out.length; o += block) {
    binaryRows(op, a, ia, aR, aC, b, ib, bR, bC, out, o, rows, cols);
    for (let axis = outer.length - 1; axis >= 0; axis--) {
      const [size, sa, sb] = outer[axis]!;
      index[axis]!++;
      ia += sa;
      ib += sb;
      if (index[axis]! < size) break;
      ia -= sa * size;
      ib -= sb * size;
      index[axis] = 0;
    }
  }
}

/**
 * out[o·inner + j] = op over r < red of x[(o·red + r)·inner + j], for o < outer, j < inner:
 * the reduction of a contiguous run of axes (rows, columns, or everything), accumulated in
 * float64 in increasing r. `max` propagates NaN.
 */
export function reduceRun(op: ReduceOp, x: TypedArray, outer: number, red: number, inner: number, out: TypedArray): void {
  const acc = inner === 1 ? undefined : new Float64Array(inner);
  let o = 0;
  if (!acc && op === 'sum') {
    // Row sums, four rows at a time: four independent chains of additions (each row's still in
    // increasing r) keep the adder busy instead of waiting on one chain.
    for (; o + 4 <= outer; o += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let r = 0, b = o * red; r < red; r++, b++) {
        s0 += x[b]!;
        s1 += x[b + red]!;
        s2 += x[b + 2 * red]!;
        s3 += x[b + 3 * red]!;
      }
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
    }
  }
  for (; o < outer; o++) {
    const base = o * red * inner;
    if (!acc) {
      let s = op === 'sum' ? 0 : -Infinity;
      if (op === 'sum') for (let r = 0; r < red; r++) s += x[base + r]!;
      else for (let r = 0; r < red; r++) { const v = x[base + r]!; if (v > s || Number.isNaN(v)) s = v; }
      out[o] = s;
      continue;
    }
    acc.fill(op === 'sum' ? 0 : -Infinity);
    if (op === 'sum') {
      for (let r = 0; r < red; r++) for (let j = 0, at = base + r * inner; j < inner; j++) acc[j]! += x[at + j]!;
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
}
