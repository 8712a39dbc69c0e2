import { EXP32, LOG1P32 } from '../logistic.js';

/**
 * Small SIMD loops over the wasm memory besides the matmul, in WebAssembly text (assembled by
 * `wat.ts`), four float32 lanes at a time:
 *
 * - `addRows`: C[r, j] += bias[j], the bias of a `linear` layer added to the product while it
 *   is still in wasm memory (one pass, no extra copy);
 * - `adam`: Adam's update of one parameter, θ, m and v in place from g (the formulas of
 *   `nn/optim/adam.ts`) in float32 arithmetic, 4 elements per instruction; PyTorch's
 *   s·m/(√v/q + ε) is computed as (s·q)·m/(√v + q·ε), with one division instead of two;
 * - `exp`, `sigmoid`, `softplus`, `logSigmoid`, `bceWithLogits` and `sigmoidSub` of float32 arrays,
 *   in float32 arithmetic four lanes at a time: exactly the operations, in the same order, of the
 *   float32 path of `../logistic.ts` (range reduction, polynomial exp and ln(1 + e), see there),
 *   each an IEEE float32 operation (f32x4.mul and f32x4.add, no fused multiply-add), so the
 *   results equal the JavaScript ones bit for bit on every engine;
 * - `colSum`: the sum over the rows of a matrix (a linear layer's bias gradient), accumulated in
 *   float64 in the reference's order, so the float32 sums equal its bit for bit;
 * - `relu` and `maskPositive` (x·[y > 0], ReLU's gradient) on float32 lanes, without the branch
 *   a JS loop mispredicts on half of the elements of a ReLU layer, and neg, add, sub, mul and div
 *   (the last four also against one scalar y: `addScalar`, ..., a tensor times a number).
 *
 * Lengths are in floats and multiples of 4 (8 for the logistic loops; the caller pads);
 * pointers are byte addresses, 16-byte aligned.
 */

const get = (x: string): string => `(local.get ${x})`;
const range8 = [0, 1, 2, 3, 4, 5, 6, 7];
const range4 = [0, 1, 2, 3];
/** The float32 constants of the loop being generated; `k(v)` reads v, splatted, from its local $k<i>. */
const constants: number[] = [];
const k = (v: number): string => {
  if (!constants.includes(v)) constants.push(v);
  return get(`$k${constants.indexOf(v)}`);
};
/** `(op a b)` on f32x4 lanes. */
const f4 = (op: string, ...args: string[]): string => `(f32x4.${op} ${args.join(' ')})`;

/**
 * WAT setting $e<h> = e^a for the four floats a in $x<h> (`logistic.ts` exp32): with `whole`,
 * a = x clamped to [min, max] and the scale 2ⁿ applied as two halves, else a = max(−|x|, min)
 * and the scale 2ⁿ⁺²⁵·2⁻²⁵ (one instruction fewer; for a ≤ 0 both round P·2ⁿ once, the same float).
 */
function exp(h: string, whole: boolean): string {
  const [x, a, t, n, r, m] = ['$x', '$a', '$t', '$n', '$r', '$m'].map((v) => get(v + h)) as [string, string, string, string, string, string];
  const c = EXP32.coefficients;
  let q = k(c[4]!);
  for (let i = 3; i >= 0; i--) q = f4('add', f4('mul', q, r), k(c[i]!));
  const p = f4('add', k(1), f4('add', r, f4('mul', f4('mul', r, r), q))); // 1 + (r + r²·Q(r))
  // pmax(a, min) = a < min ? min : a and pmin(a, max) = max < a ? max : a: NaN passes through, like Math.max and Math.min
  const clamped = whole ? f4('pmin', f4('pmax', x, k(EXP32.min)), k(EXP32.max)) : f4('pmax', f4('neg', f4('abs', x)), k(EXP32.min));
  // 2ᵏ from v = 1.5·2²³ + k + 127 (an integer, as a float): v's low 9 bits hold k + 127, and
  // shifted left by 23 they are the exponent field of 2ᵏ.
  const pow2 = (v: string): string => `(i32x4.shl ${v} (i32.const 23))`;
  const scaled = whole
    ? // m = ⌊n/2⌋; (P·2ᵐ)·2ⁿ⁻ᵐ: t = 1.5·2²³ + n, so m + (1.5·2²³ + 127) and (t + 127) − m hold m + 127 and n − m + 127
      `(local.set $m${h} ${f4('floor', f4('mul', n, k(0.5)))})
      (local.set $e${h} ${f4('mul', f4('mul', p, pow2(f4('add', m, k(EXP32.magic + 127)))), pow2(f4('sub', f4('add', t, k(127)), m)))})`
    : // 2ⁿ⁺²⁵ from the bits of t + 152 = 1.5·2²³ + n + 152: (n + 25 + 127) << 23 is its exponent field
      `(local.set $e${h} ${f4('mul', f4('mul', p, pow2(f4('add', t, k(152)))), k(2 ** -25))})`;
  return `(local.set $a${h} ${clamped})
      (local.set $t${h} ${f4('add', f4('mul', a, k(EXP32.log2e)), k(EXP32.magic))})
      (local.set $n${h} ${f4('sub', t, k(EXP32.magic))})
      (local.set $r${h} ${f4('sub', f4('sub', a, f4('mul', n, k(EXP32.ln2Hi))), f4('mul', n, k(EXP32.ln2Lo)))})
      ${scaled}`;
}

/** WAT setting $l<h> = ln(1 + e) for $e<h> (`logistic.ts` log1pUnit32). */
function log1pUnit(h: string): string {
  const [e, s, z, hh] = ['$e', '$s', '$z', '$h'].map((v) => get(v + h)) as [string, string, string, string];
  let q = k(LOG1P32[3]!);
  for (let i = 2; i >= 0; i--) q = f4('add', f4('mul', q, z), k(LOG1P32[i]!));
  return `(local.set $s${h} ${f4('div', e, f4('add', k(2), e))})
      (local.set $z${h} ${f4('mul', s, s)})
      (local.set $h${h} ${f4('mul', k(0.5), f4('mul', e, e))})
      (local.set $l${h} ${f4('sub', e, f4('sub', hh, f4('mul', s, f4('add', hh, f4('mul', z, q)))))})`;
}

/**
 * The float32 result of each logistic op for vector h, given $x<h> (and $y<h>), $e<h> and $l<h>
 * (or $q<h>). max(v, 0) is `f32x4.pmax(v, 0)` = v < 0 ? 0 : v, one instruction: it differs from
 * JavaScript's Math.max(v, 0) only at v = −0 (−0 for +0), where ln(1 + e) = ln 2 is then added.
 */
const LOGISTIC: Record<'exp' | 'sigmoid' | 'softplus' | 'logSigmoid' | 'bceWithLogits' | 'sigmoidSub', (h: string) => string> = {
  exp: (h) => get('$e' + h), // eˣ over the whole float32 range
  // σ = 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise
  sigmoid: (h) => f4('div', `(v128.bitselect ${k(1)} ${get('$e' + h)} ${f4('ge', get('$x' + h), k(0))})`, f4('add', k(1), get('$e' + h))),
  softplus: (h) => f4('add', f4('pmax', get('$x' + h), k(0)), get('$l' + h)), // max(x, 0) + ln(1 + e)
  logSigmoid: (h) => f4('neg', f4('add', f4('pmax', f4('neg', get('$x' + h)), k(0)), get('$l' + h))), // −(max(−x, 0) + ln(1 + e))
  // (1 − y) − e/(1 + e) for x ≥ 0, e/(1 + e) − y otherwise
  sigmoidSub: (h) => `(v128.bitselect ${f4('sub', f4('sub', k(1), get('$y' + h)), get('$q' + h))} ${f4('sub', get('$q' + h), get('$y' + h))} ${f4('ge', get('$x' + h), k(0))})`,
  bceWithLogits: (h) => f4('add', f4('sub', f4('pmax', get('$x' + h), k(0)), f4('mul', get('$x' + h), get('$y' + h))), get('$l' + h)), // (max(x, 0) − x·y) + ln(1 + e)
};

/** Vectors of four floats a logistic loop's iteration works on: independent chains that overlap in the pipeline. */
const VECTORS = ['A', 'B', 'C', 'D', 'E', 'F'];

/**
 * One exported loop: out[i] = op(x[i] (, y[i])) for i < n (a multiple of 8), 24 floats per
 * iteration as six vectors A-F (six independent chains keep the core's SIMD units busier than
 * four, measured ~15% faster on the logistic bench), then the last 8s as A and B. The constants
 * are splatted into locals once, before the loop.
 */
function logisticLoop(op: keyof typeof LOGISTIC): string {
  const inputs = op === 'bceWithLogits' || op === 'sigmoidSub' ? ['x', 'y'] : ['x'];
  constants.length = 0;
  const body = (vectors: string[]): string =>
    [
      ...vectors.flatMap((h, i) => inputs.map((v) => `(local.set $${v}${h} (v128.load offset=${16 * i} ${get('$' + v)}))`)),
      ...vectors.map((h) => exp(h, op === 'exp')),
      ...(op === 'sigmoidSub' ? vectors.map((h) => `(local.set $q${h} ${f4('div', get('$e' + h), f4('add', k(1), get('$e' + h)))})`) : []),
      ...(op === 'exp' || op === 'sigmoid' || op === 'sigmoidSub' ? [] : vectors.map(log1pUnit)),
      ...vectors.map((h, i) => `(v128.store offset=${16 * i} ${get('$out')} ${LOGISTIC[op](h)})`),
      ...['x', 'y', 'out'].map((p) => `(local.set $${p} (i32.add ${get('$' + p)} (i32.const ${16 * vectors.length})))`),
    ].join('\n      ');
  const main = body(VECTORS);
  const tail = body(VECTORS.slice(0, 2));
  const locals = VECTORS.flatMap((h) => ['x', 'y', 'a', 't', 'n', 'r', 'm', 'e', 'q', 's', 'z', 'h', 'l'].map((v) => `$${v}${h}`)).concat(constants.map((_, i) => `$k${i}`));
  return `
  (func $${op} (export "${op}") (param $x i32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32) ${locals.map((l) => `(local ${l} v128)`).join(' ')}
    ${constants.map((c, i) => `(local.set $k${i} (f32x4.splat (f32.const ${c})))`).join('\n    ')}
    (local.set $end (i32.add ${get('$x')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.gt_u (i32.add ${get('$x')} (i32.const ${16 * VECTORS.length})) ${get('$end')}))
      ${main}
      (br $next)))
    (block $tailDone (loop $tailNext
      (br_if $tailDone (i32.ge_u ${get('$x')} ${get('$end')}))
      ${tail}
      (br $tailNext))))`;
}

/** Elementwise ops on float32 lanes (exact in float32, so equal to the reference's JS loops). */
const FLOAT32: Record<'neg' | 'relu' | 'maskPositive' | 'add' | 'sub' | 'mul' | 'div', (x: string, y: string) => string> = {
  neg: (x) => `(f32x4.neg ${x})`, // −x: the sign bit flipped, exact
  // max(x, 0) with NaN passed through, −0 and −∞ giving +0: pmax(x, 0) = x < 0 ? 0 : x is one
  // instruction (V8 expands f32x4.max into several, for its NaN and ±0 rules); + 0 turns its −0 into +0
  relu: (x) => `(f32x4.add (f32x4.pmax ${x} (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 0)))`,
  maskPositive: (x, y) => `(f32x4.mul ${x} (v128.and (f32x4.gt ${y} (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 1))))`, // x·[y > 0]
  // One IEEE float32 operation, correctly rounded: what JS's float64 result rounds to as well.
  add: (x, y) => `(f32x4.add ${x} ${y})`,
  sub: (x, y) => `(f32x4.sub ${x} ${y})`,
  mul: (x, y) => `(f32x4.mul ${x} ${y})`,
  div: (x, y) => `(f32x4.div ${x} ${y})`,
};

/**
 * out[i] = op(x[i] (, y[i])) for i < n (a multiple of 8), 8 float32 lanes per iteration; with
 * `scalar`, out[i] = op(x[i], y[0]) (exported as `<op>Scalar`): y's one float splatted once,
 * before the loop.
 */
function float32Loop(op: keyof typeof FLOAT32, scalar = false): string {
  const at = (p: string, q: number): string => `(v128.load offset=${16 * q} ${get(p)})`;
  const y = (q: number): string => (scalar ? get('$s') : at('$y', q));
  return `
  (func $${op}${scalar ? 'Scalar' : ''} (export "${op}${scalar ? 'Scalar' : ''}") (param $x i32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32) (local $s v128)
    ${scalar ? `(local.set $s (v128.load32_splat ${get('$y')}))` : ''}
    (local.set $end (i32.add ${get('$x')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u ${get('$x')} ${get('$end')}))
      (v128.store offset=0 ${get('$out')} ${FLOAT32[op](at('$x', 0), y(0))})
      (v128.store offset=16 ${get('$out')} ${FLOAT32[op](at('$x', 1), y(1))})
      (local.set $x (i32.add ${get('$x')} (i32.const 32)))
      ${scalar ? '' : `(local.set $y (i32.add ${get('$y')} (i32.const 32)))`}
      (local.set $out (i32.add ${get('$out')} (i32.const 32)))
      (br $next))))`;
}

/** The arithmetic ops that also have a loop against one scalar operand, x op y[0]. */
const SCALAR_Y = ['add', 'sub', 'mul', 'div'] as const;

/** The elementwise ops with a SIMD loop here: (x, y, out, n) → out[i] = op(x[i] (, y[i])), n a multiple of 8. */
export type SimdOp = keyof typeof LOGISTIC | keyof typeof FLOAT32;
export const SIMD_OPS = [...Object.keys(LOGISTIC), ...Object.keys(FLOAT32)] as SimdOp[];

/** The loops against a scalar second operand: (x, y, out, n) → out[i] = op(x[i], y[0]), n a multiple of 8. */
export type ScalarOp = `${(typeof SCALAR_Y)[number]}Scalar`;
/** Every {@link ScalarOp} loop. */
export const SCALAR_LOOPS: readonly ScalarOp[] = SCALAR_Y.map((op): ScalarOp => `${op}Scalar`);
/** The loop of {@link ScalarOp} for each binary op that has one: `mul` → `mulScalar`. */
export const SCALAR_OPS: Readonly<Partial<Record<SimdOp, ScalarOp>>> = Object.fromEntries(SCALAR_Y.map((op, i) => [op, SCALAR_LOOPS[i]]));

/**
 * The ops a {@link VECTOR_JOB} names, by index: the elementwise loops, the scalar-operand ones
 * (their jobs set `yFixed`), then Adam's update and the finiteness check.
 */
export const TASK_OPS = [...SIMD_OPS, ...SCALAR_LOOPS, 'adam', 'allFinite', 'rowSum', 'colSum', 'addRows'] as const;

/**
 * Word index of each field of a job descriptor for `task`: the op (index into {@link TASK_OPS}),
 * pointers x, y (θ and g for Adam), out, Adam's m and v, the length n and the floats per task
 * (multiples of 8), whether every task reads y from its start (`yFixed` = 1: y, one chunk long,
 * repeated for every chunk of x), a matrix's row length `cols` and row stride `ld` (floats), then
 * Adam's eight scalars as f32 words, in `adam`'s parameter order.
 *
 * The matrix loops count n and chunk in their own units, and every task works on whole ones, so
 * each row's (or column's) float64 sum is the same as on one thread, bit for bit:
 * - `rowSum`: groups of 8 rows of x, each `cols` floats; out;
 * - `colSum`: columns of x (chunk a multiple of 4), `cols` rows `ld` floats apart; the float64
 *   sums at y; out;
 * - `addRows`: rows of C at x, `ld` floats apart, each with the `cols` floats of the bias at y added.
 */
export const VECTOR_JOB = { op: 0, x: 1, y: 2, out: 3, m: 4, v: 5, n: 6, chunk: 7, yFixed: 8, cols: 9, ld: 10, scalars: 11 } as const;

/** `task(job, t, slot)`: the t-th chunk of the job at `job`, so that the thread pool can share one loop. */
function taskFunc(): string {
  const word = (field: keyof typeof VECTOR_JOB): string => `(i32.load offset=${VECTOR_JOB[field] * 4} ${get('$job')})`;
  const at = (field: 'x' | 'y' | 'out' | 'm' | 'v'): string =>
    `(i32.add ${word(field)} ${field === 'y' ? `(select (i32.const 0) ${get('$off')} ${word('yFixed')})` : get('$off')})`;
  const scalars = Array.from({ length: 8 }, (_, i) => `(f32.load offset=${(VECTOR_JOB.scalars + i) * 4} ${get('$job')})`).join(' ');
  const call = (op: (typeof TASK_OPS)[number]): string => {
    if (op === 'adam') return `(call $adam ${at('x')} ${at('y')} ${at('m')} ${at('v')} ${get('$len')} ${scalars})`;
    // allFinite: task t stores its chunk's answer (1 or 0) in the i32 word out + 4t.
    if (op === 'allFinite') return `(i32.store (i32.add ${word('out')} (i32.shl ${get('$t')} (i32.const 2))) (call $allFinite ${at('x')} ${get('$len')}))`;
    // rowSum: 8 rows (8·cols floats, 32 bytes of out) a group
    if (op === 'rowSum') return `(call $rowSum (i32.add ${word('x')} (i32.mul ${get('$start')} (i32.shl ${word('cols')} (i32.const 5)))) (i32.add ${word('out')} (i32.shl ${get('$start')} (i32.const 5))) ${get('$len')} ${word('cols')})`;
    // colSum: columns [start, start + len) of `cols` rows ld apart, their float64 sums at acc (8 bytes a column)
    if (op === 'colSum') return `(call $colSum ${at('x')} (i32.add ${word('y')} (i32.shl ${get('$start')} (i32.const 3))) ${at('out')} ${word('cols')} ${get('$len')} ${word('ld')})`;
    // addRows: rows [start, start + len) of C, ld floats apart
    if (op === 'addRows') return `(call $addRows (i32.add ${word('x')} (i32.mul ${get('$start')} (i32.shl ${word('ld')} (i32.const 2)))) ${word('y')} ${get('$len')} ${word('cols')} ${word('ld')})`;
    return `(call $${op} ${at('x')} ${at('y')} ${at('out')} ${get('$len')})`;
  };
  const calls = TASK_OPS.map((op, i) => `(if (i32.eq ${get('$op')} (i32.const ${i})) (then ${call(op)}))`).join('\n    ');
  return `
  (func $task (export "task") (param $job i32) (param $t i32) (param $slot i32)
    (local $op i32) (local $start i32) (local $len i32) (local $off i32)
    (local.set $op ${word('op')})
    (local.set $start (i32.mul ${get('$t')} ${word('chunk')}))
    (local.set $len (i32.sub ${word('n')} ${get('$start')}))
    (if (i32.gt_s ${get('$len')} ${word('chunk')}) (then (local.set $len ${word('chunk')})))
    (if (i32.le_s ${get('$len')} (i32.const 0)) (then (return)))
    (local.set $off (i32.shl ${get('$start')} (i32.const 2)))
    ${calls})`;
}

/** The module as WAT text; `shared` must match the memory it is instantiated on. */
export function vectorWat(options: { shared: boolean }): string {
  const splat = (x: string): string => `(f32x4.splat ${get(x)})`;
  return `(module
  (import "env" "mem" (memory 1 32768${options.shared ? ' shared' : ''}))
${(Object.keys(LOGISTIC) as Array<keyof typeof LOGISTIC>).map(logisticLoop).join('\n')}
${(Object.keys(FLOAT32) as Array<keyof typeof FLOAT32>).map((op) => float32Loop(op)).join('\n')}
${SCALAR_Y.map((op) => float32Loop(op, true)).join('\n')}
${taskFunc()}

  ;; out[j] = Σ_r x[r·ld + j] for j < n (a multiple of 4; x has slack past its end), summed in
  ;; float64 in increasing r, like the reference: the float64 sums at acc, then rounded to out.
  (func $colSum (export "colSum") (param $x i32) (param $acc i32) (param $out i32) (param $rows i32) (param $n i32) (param $ld i32)
    (local $j i32) (local $r i32) (local $v v128) (local $p i32) (local $a i32)
    (local.set $j (i32.const 0))
    (block $zeroed (loop $zero
      (br_if $zeroed (i32.ge_u ${get('$j')} (i32.shl ${get('$n')} (i32.const 3))))
      (v128.store (i32.add ${get('$acc')} ${get('$j')}) (f64x2.splat (f64.const 0)))
      (local.set $j (i32.add ${get('$j')} (i32.const 16)))
      (br $zero)))
    (block $done (loop $row
      (br_if $done (i32.ge_u ${get('$r')} ${get('$rows')}))
      (local.set $p (i32.add ${get('$x')} (i32.shl (i32.mul ${get('$r')} ${get('$ld')}) (i32.const 2))))
      (local.set $a ${get('$acc')})
      (local.set $j (i32.const 0))
      (block $rowDone (loop $col
        (br_if $rowDone (i32.ge_u ${get('$j')} ${get('$n')}))
        (local.set $v (v128.load ${get('$p')}))
        (v128.store offset=0 ${get('$a')} (f64x2.add (v128.load offset=0 ${get('$a')}) (f64x2.promote_low_f32x4 ${get('$v')})))
        (v128.store offset=16 ${get('$a')} (f64x2.add (v128.load offset=16 ${get('$a')})
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('$v')} ${get('$v')}))))
        (local.set $p (i32.add ${get('$p')} (i32.const 16)))
        (local.set $a (i32.add ${get('$a')} (i32.const 32)))
        (local.set $j (i32.add ${get('$j')} (i32.const 4)))
        (br $col)))
      (local.set $r (i32.add ${get('$r')} (i32.const 1)))
      (br $row)))
    (local.set $j (i32.const 0))
    (block $stored (loop $store
      (br_if $stored (i32.ge_u ${get('$j')} ${get('$n')}))
      (v128.store (i32.add ${get('$out')} (i32.shl ${get('$j')} (i32.const 2))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (v128.load offset=0 (i32.add ${get('$acc')} (i32.shl ${get('$j')} (i32.const 3)))))
        (f32x4.demote_f64x2_zero (v128.load offset=16 (i32.add ${get('$acc')} (i32.shl ${get('$j')} (i32.const 3)))))))
      (local.set $j (i32.add ${get('$j')} (i32.const 4)))
      (br $store))))

  ;; out[o] = Σ_r x[o·n + r] for o < 8·groups, r < n: the sum over the last axis of rows of n
  ;; floats, accumulated in float64 in increasing r like the reference (so the float32 results
  ;; equal its bit for bit), 8 rows at a time: rows 2q and 2q + 1 share the two lanes of $a<q>,
  ;; four independent chains of additions. Each 4 steps of a row pair: two loads, interleaved
  ;; ((u0 w0 u1 w1), (u2 w2 u3 w3)) and widened in order; the n mod 4 last steps one at a time.
  (func $rowSum (export "rowSum") (param $x i32) (param $out i32) (param $groups i32) (param $n i32)
    (local $g i32) (local $r i32) (local $n4 i32) (local $rowBytes i32) (local $u v128) (local $w v128) (local $s v128)
    ${range8.map((i) => `(local $p${i} i32)`).join(' ')} ${range4.map((q) => `(local $a${q} v128)`).join(' ')}
    (local.set $n4 (i32.and ${get('$n')} (i32.const -4)))
    (local.set $rowBytes (i32.shl ${get('$n')} (i32.const 2)))
    (block $done (loop $group
      (br_if $done (i32.ge_u ${get('$g')} ${get('$groups')}))
      ${range8.map((i) => `(local.set $p${i} (i32.add ${get('$x')} (i32.mul ${get('$rowBytes')} (i32.add (i32.shl ${get('$g')} (i32.const 3)) (i32.const ${i})))))`).join('\n      ')}
      ${range4.map((q) => `(local.set $a${q} (f64x2.splat (f64.const 0)))`).join(' ')}
      (local.set $r (i32.const 0))
      (block $vdone (loop $steps
        (br_if $vdone (i32.ge_u ${get('$r')} ${get('$n4')}))
        ${range4.map((q) => `(local.set $u (v128.load ${get(`$p${2 * q}`)}))
        (local.set $w (v128.load ${get(`$p${2 * q + 1}`)}))
        (local.set $s (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 ${get('$u')} ${get('$w')}))
        (local.set $a${q} (f64x2.add ${get(`$a${q}`)} (f64x2.promote_low_f32x4 ${get('$s')})))
        (local.set $a${q} (f64x2.add ${get(`$a${q}`)} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('$s')} ${get('$s')}))))
        (local.set $s (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 ${get('$u')} ${get('$w')}))
        (local.set $a${q} (f64x2.add ${get(`$a${q}`)} (f64x2.promote_low_f32x4 ${get('$s')})))
        (local.set $a${q} (f64x2.add ${get(`$a${q}`)} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('$s')} ${get('$s')}))))`).join('\n        ')}
        ${range8.map((i) => `(local.set $p${i} (i32.add ${get(`$p${i}`)} (i32.const 16)))`).join(' ')}
        (local.set $r (i32.add ${get('$r')} (i32.const 4)))
        (br $steps)))
      (block $tdone (loop $tail
        (br_if $tdone (i32.ge_u ${get('$r')} ${get('$n')}))
        ${range4.map((q) => `(local.set $a${q} (f64x2.add ${get(`$a${q}`)} (f64x2.replace_lane 1 (f64x2.splat (f64.promote_f32 (f32.load ${get(`$p${2 * q}`)}))) (f64.promote_f32 (f32.load ${get(`$p${2 * q + 1}`)})))))`).join('\n        ')}
        ${range8.map((i) => `(local.set $p${i} (i32.add ${get(`$p${i}`)} (i32.const 4)))`).join(' ')}
        (local.set $r (i32.add ${get('$r')} (i32.const 1)))
        (br $tail)))
      ${range4.map((q) => `(f32.store offset=${8 * q} ${get('$out')} (f32.demote_f64 (f64x2.extract_lane 0 ${get(`$a${q}`)})))
      (f32.store offset=${8 * q + 4} ${get('$out')} (f32.demote_f64 (f64x2.extract_lane 1 ${get(`$a${q}`)})))`).join('\n      ')}
      (local.set $out (i32.add ${get('$out')} (i32.const 32)))
      (local.set $g (i32.add ${get('$g')} (i32.const 1)))
      (br $group))))

  ;; C[r, j] += bias[j] for r < rows, j < n; rows are ld floats apart.
  (func $addRows (export "addRows") (param $c i32) (param $bias i32) (param $rows i32) (param $n i32) (param $ld i32)
    (local $end i32) (local $j i32)
    (local.set $end (i32.add ${get('$c')} (i32.shl (i32.mul ${get('$rows')} ${get('$ld')}) (i32.const 2))))
    (block $done (loop $row
      (br_if $done (i32.ge_u ${get('$c')} ${get('$end')}))
      (local.set $j (i32.const 0))
      (block $rowDone (loop $col
        (br_if $rowDone (i32.ge_u ${get('$j')} (i32.shl ${get('$n')} (i32.const 2))))
        (v128.store (i32.add ${get('$c')} ${get('$j')})
          (f32x4.add (v128.load (i32.add ${get('$c')} ${get('$j')})) (v128.load (i32.add ${get('$bias')} ${get('$j')}))))
        (local.set $j (i32.add ${get('$j')} (i32.const 16)))
        (br $col)))
      (local.set $c (i32.add ${get('$c')} (i32.shl ${get('$ld')} (i32.const 2))))
      (br $row))))

  ;; One Adam step over n floats: c1 = 1 − β₁, c2 = 1 − β₂, and with s = α/(1 − β₁ᵗ) and
  ;; q = √(1 − β₂ᵗ): sq = s·q, qEps = q·ε.
  (func $adam (export "adam") (param $theta i32) (param $grad i32) (param $m i32) (param $v i32) (param $n i32)
      (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $sq f32) (param $qEps f32) (param $decay f32) (param $l2 f32)
    (local $end i32) (local $th v128) (local $g v128) (local $mi v128) (local $vi v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $S v128) (local $E v128) (local $D v128) (local $L v128)
    (local.set $B1 ${splat('$b1')}) (local.set $C1 ${splat('$c1')}) (local.set $B2 ${splat('$b2')}) (local.set $C2 ${splat('$c2')})
    (local.set $S ${splat('$sq')}) (local.set $E ${splat('$qEps')}) (local.set $D ${splat('$decay')}) (local.set $L ${splat('$l2')})
    (local.set $end (i32.add ${get('$theta')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u ${get('$theta')} ${get('$end')}))
      (local.set $th (v128.load ${get('$theta')}))
      ;; g = ∇f(θ) + λθ
      (local.set $g (f32x4.add (v128.load ${get('$grad')}) (f32x4.mul ${get('$L')} ${get('$th')})))
      ;; m = β₁m + (1 − β₁)g
      (local.set $mi (f32x4.add (f32x4.mul ${get('$B1')} (v128.load ${get('$m')})) (f32x4.mul ${get('$C1')} ${get('$g')})))
      (v128.store ${get('$m')} ${get('$mi')})
      ;; v = β₂v + (1 − β₂)g²
      (local.set $vi (f32x4.add (f32x4.mul ${get('$B2')} (v128.load ${get('$v')})) (f32x4.mul (f32x4.mul ${get('$C2')} ${get('$g')}) ${get('$g')})))
      (v128.store ${get('$v')} ${get('$vi')})
      ;; θ = θ·decay − s·m/(√v/q + ε), as θ·decay − (s·q)·m/(√v + q·ε): one division, not two
      ;; (the divider, shared with the square root, bounds this loop)
      (v128.store ${get('$theta')} (f32x4.sub (f32x4.mul ${get('$th')} ${get('$D')})
        (f32x4.mul ${get('$S')} (f32x4.div ${get('$mi')} (f32x4.add (f32x4.sqrt ${get('$vi')}) ${get('$E')})))))
      (local.set $theta (i32.add ${get('$theta')} (i32.const 16)))
      (local.set $grad (i32.add ${get('$grad')} (i32.const 16)))
      (local.set $m (i32.add ${get('$m')} (i32.const 16)))
      (local.set $v (i32.add ${get('$v')} (i32.const 16)))
      (br $next))))

  ;; 1 if x[i] is finite for every i < n (a multiple of 4), else 0: x − x is +0 for a finite x
  ;; and NaN for ±∞ and NaN, so the bits or-ed over all of them stay 0 only if all are finite.
  (func $allFinite (export "allFinite") (param $x i32) (param $n i32) (result i32)
    (local $end i32) (local $acc v128) (local $v v128)
    (local.set $end (i32.add ${get('$x')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u ${get('$x')} ${get('$end')}))
      (local.set $v (v128.load ${get('$x')}))
      (local.set $acc (v128.or ${get('$acc')} (f32x4.sub ${get('$v')} ${get('$v')})))
      (local.set $x (i32.add ${get('$x')} (i32.const 16)))
      (br $next)))
    (i32.eqz (v128.any_true ${get('$acc')})))
)
`;
}
