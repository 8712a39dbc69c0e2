import type { BinaryOp, Conv2dDims, UnaryOp } from './backend.js';

/**
 * Kernel sources for the gpu.js backend, as strings. gpu.js transpiles a kernel's JavaScript
 * text to GLSL (webgl, webgl2), WebAssembly (webasm) or plain JS (cpu); giving it text rather
 * than functions keeps bundlers and test transforms (which rename or instrument functions)
 * away from the code it parses. Each body is one thread's work: `this.thread.x` (and `.y`,
 * `.z`) index the output, `this.constants` hold sizes frozen when the kernel is built.
 *
 * GLSL's log1p/expm1 (and gpu.js's shims for them) are `log(1 + x)` and `eˣ − 1`, which lose
 * every digit for small x. The classic fixes (Goldberg's ln(u)·w/(u − 1)) do not survive GPU
 * compilers, which fold (1 + w) − 1 back to w. So near 0 the snippets below use series with
 * no cancellation, and the plain formulas only where those are already accurate:
 * - log1p(w) = 2·atanh(s) = 2s·(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9 + …), s = w/(2 + w), for |w| < ¼
 *   (|s| < 0.143: the first omitted term is below 2⁻³¹ relative); ln(1 + w) otherwise, where
 *   rounding 1 + w costs at most a few ulps of the result;
 * - expm1(w) = w·(1 + w/2·(1 + w/3·(… (1 + w/8)))), the Taylor series in Horner form, for
 *   |w| < ½ (first omitted term ≤ 2⁻²⁶ relative); eʷ − 1 otherwise (|result| > 0.39).
 */

/** Statements that set `out` to ln(1 + w) accurately (temporaries lgS, lgS2). */
const log1p = (w: string, out: string): string =>
  `let lgS = ${w} / (2.0 + ${w}); let lgS2 = lgS * lgS; ` +
  `let ${out} = 2.0 * lgS * (1.0 + lgS2 * (1.0 / 3.0 + lgS2 * (1.0 / 5.0 + lgS2 * (1.0 / 7.0 + lgS2 * (1.0 / 9.0))))); ` +
  `if (Math.abs(${w}) >= 0.25) { ${out} = Math.log(1.0 + ${w}); }`;

/** Statements that set `out` to eʷ − 1 accurately. */
const expm1 = (w: string, out: string): string => {
  let horner = '1.0';
  for (let k = 8; k >= 2; k--) horner = `(1.0 + ${w} / ${k}.0 * ${horner})`;
  return `let ${out} = ${w} * ${horner}; if (Math.abs(${w}) >= 0.5) { ${out} = Math.exp(${w}) - 1.0; }`;
};

/**
 * x^p for a fixed exponent: a chain of products for integers up to 8 (exact to |p| ulps), √x
 * for ½, and otherwise exp(p·ln|x|), the sign of an odd power restored (NaN for x < 0 and a
 * fractional p). The last carries the error of rounding p·ln|x|, about |p·ln x| ulps.
 */
function powBody(p: number): string {
  if (p === 0) return 'r = 1.0;';
  if (p === 0.5) return 'r = Math.sqrt(v);';
  if (Number.isInteger(p) && Math.abs(p) <= 8) {
    const product = new Array<string>(Math.abs(p)).fill('v').join(' * ');
    return p > 0 ? `r = ${product};` : `r = 1.0 / (${product});`;
  }
  const magnitude = `Math.exp(${p.toExponential()} * Math.log(Math.abs(v)))`;
  if (!Number.isInteger(p)) return `if (v < 0.0) { r = v / 0.0 * 0.0; } else { r = ${magnitude}; }`; // NaN for x < 0
  const odd = Math.abs(p) % 2 === 1;
  return `r = ${magnitude};${odd ? ' if (v < 0.0) { r = -r; }' : ''}`;
}

/** One thread's statements per unary op: input `v`, parameters `p`, `q`, result in `r`. */
const unaryBodies: Record<Exclude<UnaryOp, 'pow'>, string> = {
  neg: 'r = -v;',
  exp: 'r = Math.exp(v);',
  log: 'r = Math.log(v);',
  log1p: `${log1p('v', 'l1')} r = l1;`,
  sqrt: 'r = Math.sqrt(v);',
  abs: 'r = Math.abs(v);',
  sign: 'if (v > 0.0) { r = 1.0; } else if (v < 0.0) { r = -1.0; }',
  step: 'r = 0.0; if (v > 0.0) { r = 1.0; }',
  relu: 'if (v <= 0.0) { r = 0.0; }', // NaN passes through where the device compares like IEEE
  sigmoid: 'const s = Math.exp(-Math.abs(v)); if (v >= 0.0) { r = 1.0 / (1.0 + s); } else { r = s / (1.0 + s); }',
  // tanh|v| = −t/(2 + t) with t = expm1(−2|v|): no overflow, full relative accuracy near 0
  tanh: `const a = -2.0 * Math.abs(v); ${expm1('a', 'em1')} r = -em1 / (2.0 + em1); if (v < 0.0) { r = -r; }`,
  softplus: `const a = Math.exp(-Math.abs(v)); ${log1p('a', 'l1')} r = Math.max(v, 0.0) + l1;`,
  logSigmoid: `const a = Math.exp(-Math.abs(v)); ${log1p('a', 'l1')} r = Math.min(v, 0.0) - l1;`,
  leakyRelu: 'if (v <= 0.0) { r = p * v; }',
  elu: `const w = Math.min(v, 0.0); ${expm1('w', 'em1')} if (v <= 0.0) { r = p * em1; }`,
  clamp: 'if (v < p) { r = p; } else if (v > q) { r = q; }',
};

/** The source of a kernel computing out[i] = op(x[i]; p, q), or, for `pow`, x[i]^p with p frozen in. */
export function unarySource(op: UnaryOp, p: number): string {
  const body = op === 'pow' ? powBody(p) : unaryBodies[op];
  return `function (x, p, q) { const v = x[this.thread.x]; let r = v; ${body} return r; }`;
}

/** How a binary kernel reads an input: element by element, or one number for all. */
export type Operand = 'array' | 'scalar';

const binaryBodies: Record<BinaryOp, string> = {
  add: 'r = x + y;',
  sub: 'r = x - y;',
  mul: 'r = x * y;',
  div: 'r = x / y;',
  eq: 'if (x === y) { r = 1.0; }',
  // bceWithLogits(x, y) = softplus(x) − x·y
  bceWithLogits: `const ex = Math.exp(-Math.abs(x)); ${log1p('ex', 'l1')} r = Math.max(x, 0.0) + l1 - x * y;`,
  // sigmoidSub(x, y) = σ(x) − y
  sigmoidSub: 'const s = Math.exp(-Math.abs(x)); if (x >= 0.0) { r = 1.0 / (1.0 + s) - y; } else { r = s / (1.0 + s) - y; }',
  // maskPositive(x, y) = x·[y > 0] (a NaN or infinite x stays NaN where y ≤ 0, as x·0 does)
  maskPositive: 'if (y > 0.0) { r = x; } else { r = x * 0.0; }',
};

/** The source of a kernel computing out[i] = op(a[i], b[i]); a 'scalar' operand is passed as a number. */
export function binarySource(op: BinaryOp, a: Operand, b: Operand): string {
  const read = (name: string, kind: Operand): string => (kind === 'scalar' ? name : `${name}[this.thread.x]`);
  return `function (a, b) { const x = ${read('a', a)}; const y = ${read('b', b)}; let r = 0.0; ${binaryBodies[op]} return r; }`;
}

/**
 * The matmul kernel: thread (x, y, z) = (j, i, t) computes out[t, i, j] = Σ_p A[t][i, p]·B[t][p, j].
 * Both operands are flat arrays; A[t][i, p] sits at t·aBatch + i·aRow + p·aStep and B[t][p, j]
 * at t·bBatch + p·bStep + j·bCol, so a transposed operand is read in place (only the strides
 * change) and a batch stride of 0 repeats one matrix. The loop walks both indices by their
 * steps, which the webasm backend runs about twice as fast as recomputing products.
 */
export function matmulSource(batched: boolean): string {
  const z = (stride: string): string => (batched ? `this.thread.z * this.constants.${stride} + ` : '');
  return `function (a, b) {
  let ia = ${z('aBatch')}this.thread.y * this.constants.aRow;
  let ib = ${z('bBatch')}this.thread.x * this.constants.bCol;
  let s = 0.0;
  for (let p = 0; p < this.constants.k; p++) {
    s += a[ia] * b[ib];
    ia += this.constants.aStep;
    ib += this.constants.bStep;
  }
  return s;
}`;
}

/**
 * The reduce kernel over x viewed as [outer, r, inner] (the reduced axes are one contiguous
 * block): thread (x, y) = (i, o) folds x[o, 0..r, i] with + or max. `max` here does not
 * propagate NaN; the backend hands inputs containing NaN to the cpu kernel.
 */
export function reduceSource(op: 'sum' | 'max'): string {
  const fold = op === 'sum' ? 's += v;' : 'if (v > s) { s = v; }';
  return `function (x) {
  let ix = this.thread.y * this.constants.block + this.thread.x;
  let s = x[ix];
  for (let j = 1; j < this.constants.r; j++) {
    ix += this.constants.inner;
    const v = x[ix];
    ${fold}
  }
  return s;
}`;
}

/**
 * floor(a / b) for integers a ≥ 0, b ≥ 1 on any engine: GPU division is not correctly rounded
 * (6/3 may come out 1.9999999), but (a + ½)/b lies at least ½/b away from every integer, which
 * float32 resolves while a stays below 2²¹ (the backend keeps larger convolutions on the cpu).
 */
const floorDiv = (a: string, b: string): string => `Math.floor((${a} + 0.5) / ${b})`;

/**
 * The conv2d kernel (a direct gather, as the cpu reference): thread (x, y, z) = (j, i, n·outC + o)
 * computes out[n, o, i, j] = Σ_c,p,q x[n, g·inPerGroup + c, i·strideH − padH + p·dilationH, j·strideW − padW + q·dilationW]·W[o, c, p, q],
 * g = ⌊o / outPerGroup⌋, skipping taps outside the image. Every loop is bounded by a constant;
 * the index arithmetic stays on small integers.
 */
export function conv2dSource(): string {
  return `function (x, w) {
  const n = ${floorDiv('this.thread.z', 'this.constants.outC')};
  const o = this.thread.z - n * this.constants.outC;
  const g = ${floorDiv('o', 'this.constants.outPerGroup')};
  const top = this.thread.y * this.constants.strideH - this.constants.padH;
  const left = this.thread.x * this.constants.strideW - this.constants.padW;
  let xPlane = (n * this.constants.inC + g * this.constants.inPerGroup) * this.constants.height;
  let wPlane = o * this.constants.inPerGroup * this.constants.kh;
  let s = 0.0;
  for (let c = 0; c < this.constants.inPerGroup; c++) {
    for (let p = 0; p < this.constants.kh; p++) {
      const row = top + p * this.constants.dilationH;
      if (row >= 0 && row < this.constants.height) {
        const xRow = (xPlane + row) * this.constants.width;
        const wRow = (wPlane + p) * this.constants.kw;
        for (let q = 0; q < this.constants.kw; q++) {
          const col = left + q * this.constants.dilationW;
          if (col >= 0 && col < this.constants.width) {
            s += x[xRow + col] * w[wRow + q];
          }
        }
      }
    }
    xPlane += this.constants.height;
    wPlane += this.constants.kh;
  }
  return s;
}`;
}

/**
 * The convTranspose2d kernel, a gather too (each output element written once, no atomics):
 * thread (x, y, z) = (xx, yy, n·outC + o) sums x[n, c, i, j]·W[c, o − g·outPerGroup, p, q] over
 * the input channels c of o's group g and the taps (p, q) with yy = i·strideH − padH + p·dilationH
 * for a whole i in [0, height) (likewise xx, j). Along rows, the taps p whose offset
 * yy + padH − p·dilationH is a multiple of strideH form a progression of step
 * stepH = strideH / gcd(strideH, dilationH), along which i falls by iStepH = dilationH / gcd:
 * the kernel finds the first (p0 < stepH) and walks only those (tapsH = ⌈kh / stepH⌉ of them),
 * a quarter of the taps for stride 2. Likewise along columns.
 */
export function convTranspose2dSource(): string {
  return `function (x, w) {
  const n = ${floorDiv('this.thread.z', 'this.constants.outC')};
  const o = this.thread.z - n * this.constants.outC;
  const g = ${floorDiv('o', 'this.constants.outPerGroup')};
  const rowBase = this.thread.y + this.constants.padH;
  const colBase = this.thread.x + this.constants.padW;
  let p0 = -1;
  for (let a = 0; a < this.constants.stepH; a++) {
    const rowOffset = rowBase - a * this.constants.dilationH;
    if (p0 < 0 && rowOffset >= 0) {
      if (${floorDiv('rowOffset', 'this.constants.strideH')} * this.constants.strideH === rowOffset) {
        p0 = a;
      }
    }
  }
  let q0 = -1;
  for (let b = 0; b < this.constants.stepW; b++) {
    const colOffset = colBase - b * this.constants.dilationW;
    if (q0 < 0 && colOffset >= 0) {
      if (${floorDiv('colOffset', 'this.constants.strideW')} * this.constants.strideW === colOffset) {
        q0 = b;
      }
    }
  }
  let s = 0.0;
  if (p0 >= 0 && q0 >= 0) {
    const i0 = ${floorDiv('rowBase - p0 * this.constants.dilationH', 'this.constants.strideH')};
    const j0 = ${floorDiv('colBase - q0 * this.constants.dilationW', 'this.constants.strideW')};
    let xPlane = (n * this.constants.inC + g * this.constants.inPerGroup) * this.constants.height;
    let wPlane = ((g * this.constants.inPerGroup) * this.constants.outPerGroup + o - g * this.constants.outPerGroup) * this.constants.kh;
    for (let c = 0; c < this.constants.inPerGroup; c++) {
      for (let t = 0; t < this.constants.tapsH; t++) {
        const p = p0 + t * this.constants.stepH;
        const i = i0 - t * this.constants.iStepH;
        if (p < this.constants.kh && i >= 0 && i < this.constants.height) {
          const xRow = (xPlane + i) * this.constants.width;
          const wRow = (wPlane + p) * this.constants.kw;
          for (let u = 0; u < this.constants.tapsW; u++) {
            const q = q0 + u * this.constants.stepW;
            const j = j0 - u * this.constants.jStepW;
            if (q < this.constants.kw && j >= 0 && j < this.constants.width) {
              s += x[xRow + j] * w[wRow + q];
            }
          }
        }
      }
      xPlane += this.constants.height;
      wPlane += this.constants.outPerGroup * this.constants.kh;
    }
  }
  return s;
}`;
}

/**
 * The transposed kernel's walk along one axis (see convTranspose2dSource): taps whose offsets
 * are multiples of the stride come every step = stride / gcd(stride, dilation) taps, `taps` of
 * them at most, and the input index falls by dilation / gcd between them.
 */
function tapSteps(axis: 'H' | 'W', stride: number, dilation: number, kernel: number): Record<string, number> {
  let [a, b] = [stride, dilation];
  while (b) [a, b] = [b, a % b];
  const step = stride / a;
  return { [`step${axis}`]: step, [`taps${axis}`]: Math.ceil(kernel / step), [axis === 'H' ? 'iStepH' : 'jStepW']: dilation / a };
}

/**
 * The constants a conv kernel is compiled with: each op's own input and output sizes (see
 * Conv2dDims), the per-group channel counts, the window arithmetic, and for the transpose its
 * walk over the taps (tapSteps).
 */
export function convConstants(kind: 'conv2d' | 'convTranspose2d', d: Conv2dDims): Record<string, number> {
  return {
    inC: d.inChannels,
    outC: d.outChannels,
    inPerGroup: d.inChannels / d.groups,
    outPerGroup: d.outChannels / d.groups,
    height: d.height,
    width: d.width,
    kh: d.kernelHeight,
    kw: d.kernelWidth,
    strideH: d.strideH,
    strideW: d.strideW,
    padH: d.padH,
    padW: d.padW,
    dilationH: d.dilationH,
    dilationW: d.dilationW,
    ...(kind === 'convTranspose2d'
      ? { ...tapSteps('H', d.strideH, d.dilationH, d.kernelHeight), ...tapSteps('W', d.strideW, d.dilationW, d.kernelWidth) }
      : {}),
  };
}
