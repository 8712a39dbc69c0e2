import { EXP, LOG1P } from '../logistic.js';

/**
 * Small SIMD loops over the wasm memory besides the matmul, in WebAssembly text (assembled by
 * `wat.ts`), four float32 lanes at a time:
 *
 * - `addRows`: C[r, j] += bias[j], the bias of a `linear` layer added to the product while it
 *   is still in wasm memory (one pass, no extra copy);
 * - `adam`: Adam's update of one parameter, θ, m and v in place from g (the formulas of
 *   `nn/optim/adam.ts`), in float32 arithmetic like PyTorch's, 4 elements per instruction;
 * - `sigmoid`, `softplus`, `logSigmoid`, `bceWithLogits` and `sigmoidSub` of float32 arrays: each float32 is
 *   widened to float64 and the formulas of `../logistic.ts` run two lanes at a time, exactly
 *   the operations of that file's float32 path (polynomial exp and ln(1 + e), see there), then
 *   rounded back to float32; the results equal the JavaScript ones bit for bit;
 * - `colSum`: the sum over the rows of a matrix (a linear layer's bias gradient), accumulated in
 *   float64 in the reference's order, so the float32 sums equal its bit for bit;
 * - `relu` and `maskPositive` (x·[y > 0], ReLU's gradient) on float32 lanes, without the branch
 *   a JS loop mispredicts on half of the elements of a ReLU layer, and add, sub, mul and div.
 *
 * Lengths are in floats and multiples of 4 (8 for the logistic loops; the caller pads);
 * pointers are byte addresses, 16-byte aligned.
 */

const get = (x: string): string => `(local.get ${x})`;
/** The float64 constants of the loop being generated; `f64(v)` reads v from its local $k<i>. */
const constants: number[] = [];
const f64 = (v: number): string => {
  if (!constants.includes(v)) constants.push(v);
  return get(`$k${constants.indexOf(v)}`);
};

/** WAT setting $e<h> = e^a, a = max(−|x|, min), for the float64 pair in $x<h> (`logistic.ts` expNeg). */
function expNeg(h: string): string {
  const c = EXP.coefficients;
  let p = f64(c[9]);
  for (let k = 8; k >= 0; k--) p = `(f64x2.add (f64x2.mul ${p} ${get('$r' + h)}) ${f64(c[k]!)})`;
  return `(local.set $a${h} (f64x2.max (f64x2.neg (f64x2.abs ${get('$x' + h)})) ${f64(EXP.min)}))
      (local.set $t${h} (f64x2.add (f64x2.mul ${get('$a' + h)} ${f64(EXP.log2e)}) ${f64(EXP.magic)}))
      (local.set $n${h} (f64x2.sub ${get('$t' + h)} ${f64(EXP.magic)}))
      (local.set $r${h} (f64x2.sub (f64x2.sub ${get('$a' + h)} (f64x2.mul ${get('$n' + h)} ${f64(EXP.ln2Hi)})) (f64x2.mul ${get('$n' + h)} ${f64(EXP.ln2Lo)})))
      ;; 2ⁿ from the bits of t = 1.5·2⁵² + n: (n + 1023) << 52 is its float64 exponent field
      (local.set $e${h} (f64x2.mul ${p} (i64x2.shl (f64x2.add ${get('$t' + h)} ${f64(1023)}) (i32.const 52))))`;
}

/** WAT for ln(1 + e) of $e<h> (`logistic.ts` log1pUnit). */
function log1pUnit(h: string): string {
  let q = f64(LOG1P[10]!);
  for (let k = 9; k >= 0; k--) q = `(f64x2.add (f64x2.mul ${q} ${get('$z' + h)}) ${f64(LOG1P[k]!)})`;
  return `(local.set $s${h} (f64x2.div ${get('$e' + h)} (f64x2.add ${f64(2)} ${get('$e' + h)})))
      (local.set $z${h} (f64x2.mul ${get('$s' + h)} ${get('$s' + h)}))
      (local.set $l${h} (f64x2.mul ${get('$s' + h)} ${q}))`;
}

/** The float64 result of each logistic op for half h, given $x<h> (and $y<h>). */
const LOGISTIC: Record<'sigmoid' | 'softplus' | 'logSigmoid' | 'bceWithLogits' | 'sigmoidSub', (h: string) => string> = {
  // σ = 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise
  sigmoid: (h) => `(f64x2.div (v128.bitselect ${f64(1)} ${get('$e' + h)} (f64x2.ge ${get('$x' + h)} ${f64(0)})) (f64x2.add ${f64(1)} ${get('$e' + h)}))`,
  softplus: (h) => `(f64x2.add (f64x2.max ${get('$x' + h)} ${f64(0)}) ${get('$l' + h)})`, // max(x, 0) + ln(1 + e)
  logSigmoid: (h) => `(f64x2.sub (f64x2.min ${get('$x' + h)} ${f64(0)}) ${get('$l' + h)})`, // min(x, 0) − ln(1 + e)
  sigmoidSub: (h) => `(f64x2.sub ${LOGISTIC.sigmoid(h)} ${get('$y' + h)})`, // σ(x) − y
  bceWithLogits: (h) => `(f64x2.sub (f64x2.add (f64x2.max ${get('$x' + h)} ${f64(0)}) ${get('$l' + h)}) (f64x2.mul ${get('$x' + h)} ${get('$y' + h)}))`, // softplus(x) − x·y
};

/**
 * One exported loop: out[i] = op(x[i] (, y[i])) for i < n (a multiple of 8), 8 floats per
 * iteration as four float64 pairs A-D, whose independent chains of multiply-adds overlap in the
 * pipeline. The constants are splatted into locals once, before the loop.
 */
function logisticLoop(op: keyof typeof LOGISTIC): string {
  const pairs = ['A', 'B', 'C', 'D'];
  const inputs = op === 'bceWithLogits' || op === 'sigmoidSub' ? ['x', 'y'] : ['x'];
  // Floats 4q..4q+3 of an input: the low two widen into pair 2q, the high two into pair 2q + 1.
  const widen = (v: string, q: number): string => `(local.set $v (v128.load offset=${16 * q} ${get('$' + v)}))
      (local.set $${v}${pairs[2 * q]} (f64x2.promote_low_f32x4 ${get('$v')}))
      (local.set $${v}${pairs[2 * q + 1]} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('$v')} ${get('$v')})))`;
  const narrow = (q: number): string => `(v128.store offset=${16 * q} ${get('$out')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero ${LOGISTIC[op](pairs[2 * q]!)}) (f32x4.demote_f64x2_zero ${LOGISTIC[op](pairs[2 * q + 1]!)})))`;
  constants.length = 0;
  const body = [
    ...inputs.flatMap((v) => [widen(v, 0), widen(v, 1)]),
    ...pairs.map(expNeg),
    ...(op === 'sigmoid' || op === 'sigmoidSub' ? [] : pairs.map(log1pUnit)),
    narrow(0), narrow(1),
  ].join('\n      ');
  const locals = pairs.flatMap((h) => ['x', 'y', 'a', 't', 'n', 'r', 'e', 's', 'z', 'l'].map((v) => `$${v}${h}`)).concat(constants.map((_, i) => `$k${i}`));
  return `
  (func $${op} (export "${op}") (param $x i32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) ${locals.map((l) => `(local ${l} v128)`).join(' ')}
    ${constants.map((c, i) => `(local.set $k${i} (f64x2.splat (f64.const ${c})))`).join('\n    ')}
    (local.set $end (i32.add ${get('$x')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u ${get('$x')} ${get('$end')}))
      ${body}
      (local.set $x (i32.add ${get('$x')} (i32.const 32)))
      (local.set $y (i32.add ${get('$y')} (i32.const 32)))
      (local.set $out (i32.add ${get('$out')} (i32.const 32)))
      (br $next))))`;
}

/** Elementwise ops on float32 lanes (exact in float32, so equal to the reference's JS loops). */
const FLOAT32: Record<'relu' | 'maskPositive' | 'add' | 'sub' | 'mul' | 'div', (x: string, y: string) => string> = {
  relu: (x) => `(f32x4.max ${x} (f32x4.splat (f32.const 0)))`, // max(x, 0): NaN stays NaN, −0 and −∞ give 0
  maskPositive: (x, y) => `(f32x4.mul ${x} (v128.and (f32x4.gt ${y} (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 1))))`, // x·[y > 0]
  // One IEEE float32 operation, correctly rounded: what JS's float64 result rounds to as well.
  add: (x, y) => `(f32x4.add ${x} ${y})`,
  sub: (x, y) => `(f32x4.sub ${x} ${y})`,
  mul: (x, y) => `(f32x4.mul ${x} ${y})`,
  div: (x, y) => `(f32x4.div ${x} ${y})`,
};

/** out[i] = op(x[i] (, y[i])) for i < n (a multiple of 8), 8 float32 lanes per iteration. */
function float32Loop(op: keyof typeof FLOAT32): string {
  const at = (p: string, q: number): string => `(v128.load offset=${16 * q} ${get(p)})`;
  return `
  (func $${op} (export "${op}") (param $x i32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add ${get('$x')} (i32.shl ${get('$n')} (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u ${get('$x')} ${get('$end')}))
      (v128.store offset=0 ${get('$out')} ${FLOAT32[op](at('$x', 0), at('$y', 0))})
      (v128.store offset=16 ${get('$out')} ${FLOAT32[op](at('$x', 1), at('$y', 1))})
      (local.set $x (i32.add ${get('$x')} (i32.const 32)))
      (local.set $y (i32.add ${get('$y')} (i32.const 32)))
      (local.set $out (i32.add ${get('$out')} (i32.const 32)))
      (br $next))))`;
}

/** The elementwise ops with a SIMD loop here: (x, y, out, n) → out[i] = op(x[i] (, y[i])), n a multiple of 8. */
export type SimdOp = keyof typeof LOGISTIC | keyof typeof FLOAT32;
export const SIMD_OPS = [...Object.keys(LOGISTIC), ...Object.keys(FLOAT32)] as SimdOp[];
/** The logistic loops (float64 polynomials, ~4-8 ns an element): the ones worth sharing with the pool. */
export const LOGISTIC_OPS = Object.keys(LOGISTIC) as Array<keyof typeof LOGISTIC>;

/** The ops a {@link VECTOR_JOB} names, by index: the elementwise loops, then Adam's update. */
export const TASK_OPS = [...SIMD_OPS, 'adam', 'allFinite'] as const;

/**
 * Word index of each field of a job descriptor for `task`: the op (index into {@link TASK_OPS}),
 * pointers x, y (θ and g for Adam), out, Adam's m and v, the length n and the floats per task
 * (multiples of 8), whether every task reads y from its start (`yFixed` = 1: y, one chunk long,
 * repeated for every chunk of x), then Adam's nine scalars as f32 words, in `adam`'s parameter order.
 */
export const VECTOR_JOB = { op: 0, x: 1, y: 2, out: 3, m: 4, v: 5, n: 6, chunk: 7, yFixed: 8, scalars: 9 } as const;

/** `task(job, t, slot)`: the t-th chunk of the job at `job`, so that the thread pool can share one loop. */
function taskFunc(): string {
  const word = (field: keyof typeof VECTOR_JOB): string => `(i32.load offset=${VECTOR_JOB[field] * 4} ${get('$job')})`;
  const at = (field: 'x' | 'y' | 'out' | 'm' | 'v'): string =>
    `(i32.add ${word(field)} ${field === 'y' ? `(select (i32.const 0) ${get('$off')} ${word('yFixed')})` : get('$off')})`;
  const scalars = Array.from({ length: 9 }, (_, i) => `(f32.load offset=${(VECTOR_JOB.scalars + i) * 4} ${get('$job')})`).join(' ');
  const call = (op: (typeof TASK_OPS)[number]): string => {
    if (op === 'adam') return `(call $adam ${at('x')} ${at('y')} ${at('m')} ${at('v')} ${get('$len')} ${scalars})`;
    // allFinite: task t stores its chunk's answer (1 or 0) in the i32 word out + 4t.
    if (op === 'allFinite') return `(i32.store (i32.add ${word('out')} (i32.shl ${get('$t')} (i32.const 2))) (call $allFinite ${at('x')} ${get('$len')}))`;
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
${(Object.keys(FLOAT32) as Array<keyof typeof FLOAT32>).map(float32Loop).join('\n')}
${taskFunc()}

  ;; out[j] = Σ_r x[r·n + j] for j < n (a multiple of 4; x has slack past its end), summed in
  ;; float64 in increasing r, like the reference: the float64 sums at acc, then rounded to out.
  (func $colSum (export "colSum") (param $x i32) (param $acc i32) (param $out i32) (param $rows i32) (param $n i32)
    (local $j i32) (local $r i32) (local $v v128) (local $p i32) (local $a i32)
    (local.set $j (i32.const 0))
    (block $zeroed (loop $zero
      (br_if $zeroed (i32.ge_u ${get('$j')} (i32.shl ${get('$n')} (i32.const 3))))
      (v128.store (i32.add ${get('$acc')} ${get('$j')}) (f64x2.splat (f64.const 0)))
      (local.set $j (i32.add ${get('$j')} (i32.const 16)))
      (br $zero)))
    (block $done (loop $row
      (br_if $done (i32.ge_u ${get('$r')} ${get('$rows')}))
      (local.set $p (i32.add ${get('$x')} (i32.shl (i32.mul ${get('$r')} ${get('$n')}) (i32.const 2))))
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

  ;; One Adam step over n floats: c1 = 1 − β₁, c2 = 1 − β₂, q = √(1 − β₂ᵗ), s = α/(1 − β₁ᵗ).
  (func $adam (export "adam") (param $theta i32) (param $grad i32) (param $m i32) (param $v i32) (param $n i32)
      (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $s f32) (param $q f32) (param $eps f32) (param $decay f32) (param $l2 f32)
    (local $end i32) (local $th v128) (local $g v128) (local $mi v128) (local $vi v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $S v128) (local $Q v128) (local $E v128) (local $D v128) (local $L v128)
    (local.set $B1 ${splat('$b1')}) (local.set $C1 ${splat('$c1')}) (local.set $B2 ${splat('$b2')}) (local.set $C2 ${splat('$c2')})
    (local.set $S ${splat('$s')}) (local.set $Q ${splat('$q')}) (local.set $E ${splat('$eps')}) (local.set $D ${splat('$decay')}) (local.set $L ${splat('$l2')})
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
      ;; θ = θ·decay − s·m/(√v/q + ε)
      (v128.store ${get('$theta')} (f32x4.sub (f32x4.mul ${get('$th')} ${get('$D')})
        (f32x4.mul ${get('$S')} (f32x4.div ${get('$mi')} (f32x4.add (f32x4.div (f32x4.sqrt ${get('$vi')}) ${get('$Q')}) ${get('$E')})))))
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
