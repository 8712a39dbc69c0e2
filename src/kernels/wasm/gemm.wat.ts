/**
 * The float32 matmul kernel, in WebAssembly text, 128-bit SIMD (f32x4). Assembled at load time
 * by `wat.ts`; the TypeScript around the WAT only repeats lines that differ by a register
 * index (the MR×NR accumulators), so what runs is exactly what `gemmWat()` prints:
 *   node --import tsx -e "import('./src/kernels/wasm/gemm.wat.ts').then((m) => console.log(m.gemmWat({ shared: false, fma: false })))"
 *
 * Blocking scheme (GotoBLAS / BLIS), for C[m,n] = A[m,k] · B[k,n]:
 *
 *   for jc in [j0, j1) step NC              one task covers C[i0:i1, j0:j1] of one batch item
 *     for pc in [0, k) step KC
 *       pack B[pc:pc+KC, jc:jc+NC]  → Bp    NR-column panels, row p of a panel = NR floats (L2/L3),
 *                                           panel q at Bp + q·KC·NR floats
 *       for ic in [i0, i1) step MC
 *         pack A[ic:ic+MC, pc:pc+KC] → Ap   MR-row panels, column p of a panel = MR floats (L2)
 *         for jr in [0, NC) step NR         one Bp panel (KC·NR·4 bytes) stays in L1
 *           for ir in [0, MC) step MR
 *             micro: C[ir:ir+MR, jr:jr+NR] (+)= Ap panel ᵀ· Bp panel
 *
 * With zero skipping ({@link SKIP}) the A block is not packed: each of its rows lists its
 * non-zero (p, value) pairs, and for every 48 columns (6 Bp panels) a 1×48 micro-kernel adds
 * value·Bp[p, 0:48] for the listed pairs only, so a zero of A costs nothing. That is done only
 * for a B block found finite as it is packed ($packBChecked: each value b copied ors the bits of
 * b − b into an accumulator, no second pass over the block); a block with an ∞ or a NaN is
 * multiplied densely, so that 0·∞ and 0·NaN give their NaN. When the result is
 * wanted transposed (job word `ct`) and k ≤ KC, rows of C' go 4 at a time through a small strip
 * (in the unused Ap buffer) and are stored straight into C, transposed 4×4 in registers; with
 * k > KC they are accumulated in the buffer at `ct` and transposed into C at the end of the task.
 *
 * The micro-kernel holds the MR×NR tile of C in MR·NR/4 v128 registers; per step p it loads
 * NR/4 vectors of B, broadcasts each of the MR values of A (`v128.load32_splat`) and does
 * MR·NR/4 multiply-adds: MR·NR·2 flops for MR + NR/4 loads. With MR=4, NR=8 that is 8
 * accumulators + 2 B vectors + 1 broadcast: 11 of the 16 xmm registers V8 allocates from,
 * so nothing spills, and 8 independent add chains hide the adder latency.
 *
 * Transposes cost nothing extra: packing reads A(i,p) at i·rsA + p·csA and B(p,j) at
 * p·rsB + j·csB (element strides), so Aᵀ or Bᵀ is only a swap of the two strides. Packing has a
 * vector fast path when the panel's MR (or NR) values are contiguous in memory, and pads
 * partial panels with zeros so the micro-kernel never sees an edge: C is stored with its row
 * length rounded up to NR and its rows to MR (the caller copies the valid part out). K is padded
 * to a multiple of the unroll U with zeros as well (U = 1 is fastest: V8 compiles the unrolled
 * loop worse, see bench/RESULTS.md).
 *
 * Threads share one memory; each runs `task(job, t, slot)` for the tasks it claims, with its own
 * packing buffers at `scratch + slot·slotBytes`. The job descriptor is a row of i32 at `job`
 * (see {@link JOB}).
 */

import { sparseWat } from './gemm-sparse.wat.js';
import { get, i32, range, transpose4x4 } from './wat-text.js';

/** Register tile (MR rows × NR columns), k-unroll U (a power of 2), cache blocks (MC rows, KC depth, NC columns). */
export interface Tile { MR: number; NR: number; U: number; MC: number; KC: number; NC: number }
/**
 * The tile sizes the backend uses (see bench/RESULTS.md for how they were chosen). KC = 128 rather
 * than 256 for the zero-skipping products: their 1×48 micro-kernel reads the 6 panels of B' at the
 * listed steps only, 24 KB of B' per call at KC = 128 (48 KB at 256, more than this machine's L1);
 * the step ran 3.6% faster (1 thread), the dense kernel alone 0.4-2.8% slower on squares of 256-1024.
 */
export const TILE: Readonly<Tile> = { MR: 4, NR: 8, U: 1, MC: 128, KC: 128, NC: 1024 };

/** Word index of each field of the job descriptor (i32 words; pointers are byte addresses, the rest elements). */
export const JOB = {
  a: 0, b: 1, c: 2, m: 3, n: 4, k: 5, rsA: 6, csA: 7, rsB: 8, csB: 9, ldc: 10,
  aBatchStride: 11, bBatchStride: 12, cBatchStride: 13, tm: 14, tn: 15, tasksM: 16, tasksN: 17,
  scratch: 18, slotBytes: 19, skip: 20, ct: 21, ldct: 22, ctBatchStride: 23, colMap: 24,
} as const;

/**
 * Zero skipping (the job's `skip` word): 0 none; {@link SKIP}.rows skips every zero element of
 * A': each row of an A block lists its non-zero steps and a 1×W micro-kernel multiplies only
 * those into W columns of the packed B block (`gemm-sparse.wat.ts`). With the job's `ct` word
 * set the result is computed transposed, C' = Cᵀ, and each task writes its tile of it to C
 * transposed: straight from the micro-kernel's rows when k ≤ KC, else from the buffer at `ct`
 * (`ldct` floats a row) where it was accumulated, at the end. The caller computes
 * Cᵀ = op(B)ᵀ·op(A)ᵀ this way when op(B) is the sparse operand. A skipped ±0·b is exactly the
 * ±0 the dense kernel would add when b is finite, and then the result has the dense kernel's
 * bits (see `microRows` there). So each block of B' is checked while it is packed, and one
 * holding ∞ or NaN goes through the dense kernel; with a result stored straight into C (k ≤ KC), which the dense
 * kernel cannot write, the caller asks for skipping only when B' is finite. Such a result may also
 * leave out rows of C: with the job's `colMap` word set, column j of C' (of n, the rows kept) is
 * row map[j] of C (i32s at `colMap`), B' is packed from those columns only ($packMapped), and the
 * caller fills the rows left out (those of op(A) that are all zero make zero rows of C).
 */
export const SKIP = { none: 0, rows: 1 } as const;

/**
 * Bytes of packing buffers each thread needs: Ap (MC·KC) then Bp (KC·NC) floats, then for zero
 * skipping the lists of the MC rows of an A block (KC 8-byte entries each) and their lengths (an i32 per row).
 */
export const slotBytes = (t: Tile): number => (t.MC * t.KC + t.KC * t.NC) * 4 + t.MC * (t.KC * 8 + 4);

/** How to build the kernel module. */
export interface GemmWatOptions {
  /** Import the memory as shared (threads) or not (single thread, no SharedArrayBuffer). */
  shared: boolean;
  /** Use relaxed-SIMD `f32x4.relaxed_madd` (one fused op) instead of `f32x4.mul` + `f32x4.add`. */
  fma: boolean;
  /** Tile sizes; {@link TILE} by default (NR a multiple of 4). */
  tile?: Tile;
}

const min = (x: string, y: string): string => `(select ${x} ${y} (i32.lt_s ${x} ${y}))`;

/**
 * Copies `count` floats from `src`+`so` to `dst`+`do`, in v128 pieces then f32 pieces
 * (or stores zeros when `src` is null).
 */
function copyFloats(count: number, src: string | null, dst: string, so = 0, dOff = 0): string {
  const lines: string[] = [];
  for (let e = 0; e < count; ) {
    const vec = count - e >= 4;
    const load = src === null ? (vec ? '(f32x4.splat (f32.const 0))' : '(f32.const 0)')
      : `(${vec ? 'v128' : 'f32'}.load offset=${so + e * 4} ${src})`;
    lines.push(`(${vec ? 'v128' : 'f32'}.store offset=${dOff + e * 4} ${dst} ${load})`);
    e += vec ? 4 : 1;
  }
  return lines.join('\n        ');
}

/**
 * Packs 4 p-steps of an R-row panel whose rows are contiguous along p: for each group of 4 rows,
 * load 4×4 floats (row q at $s + q·$rs), transpose them in registers, store 4 columns of the panel.
 */
function transpose4(R: number, check: boolean): string {
  return range(R / 4)
    .flatMap((g) => [
      ...transpose4x4(
        (q) => `(v128.load (i32.add ${get('$s')} (i32.mul ${get('$rs')} ${i32(g * 4 + q)})))`,
        (p, column) => `(v128.store offset=${(p * R + g * 4) * 4} ${get('$d')} ${column})`,
      ),
      ...(check ? range(4).map((q) => finiteVector(`$v${q}`)) : []),
    ])
    .join('\n        ');
}

/** Ors b − b into $fin for the 4 floats b of v128 local `v`: +0 for a finite b, NaN for ±∞ and NaN. */
const finiteVector = (v: string): string => `(local.set $fin (v128.or ${get('$fin')} (f32x4.sub ${get(v)} ${get(v)})))`;
/** The same for the f32 local `x`, added to the f32 $finS (+0 while all are finite, NaN from the first that is not). */
const finiteScalar = (x: string): string => `(local.set $finS (f32.add ${get('$finS')} (f32.sub ${get(x)} ${get(x)})))`;

/** Copies R floats (R a multiple of 4) from $s to $d in v128 pieces, each checked into $fin ({@link finiteVector}). */
function copyChecked(R: number): string {
  return range(R / 4)
    .map((q) => `(local.set $v0 (v128.load offset=${q * 16} ${get('$s')}))
        (v128.store offset=${q * 16} ${get('$d')} ${get('$v0')})
        ${finiteVector('$v0')}`)
    .join('\n        ');
}

/** Copies the float at `from` to `to`, checked into $finS when `check` ({@link finiteScalar}). */
const copyScalar = (to: string, offset: number, from: string, check: boolean): string =>
  check
    ? `(local.set $x (f32.load ${from})) (f32.store offset=${offset} ${to} ${get('$x')}) ${finiteScalar('$x')}`
    : `(f32.store offset=${offset} ${to} (f32.load ${from}))`;

/** The micro-kernel: C[MR×NR] (+)= Σ_p Ap[p, 0:MR]ᵀ ⊗ Bp[p, 0:NR], kc a multiple of U. */
function micro(fma: boolean, { MR, NR, U }: Tile): string {
  const V = NR / 4;
  const acc = (r: number, q: number): string => `$c${r}_${q}`;
  const madd = (r: number, q: number): string => (fma
    ? `(local.set ${acc(r, q)} (f32x4.relaxed_madd ${get('$x')} ${get(`$b${q}`)} ${get(acc(r, q))}))`
    : `(local.set ${acc(r, q)} (f32x4.add ${get(acc(r, q))} (f32x4.mul ${get('$x')} ${get(`$b${q}`)})))`);
  const step = (u: number): string => [
    ...range(V).map((q) => `(local.set $b${q} (v128.load offset=${(u * NR + q * 4) * 4} ${get('$b')}))`),
    ...range(MR).flatMap((r) => [
      `(local.set $x (v128.load32_splat offset=${(u * MR + r) * 4} ${get('$a')}))`,
      ...range(V).map((q) => madd(r, q)),
    ]),
  ].join('\n      ');
  const rows = range(MR);
  return `
  (func $micro (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $acc i32)
    (local $end i32) (local $x v128) ${range(V).map((q) => `(local $b${q} v128)`).join(' ')}
    ${rows.flatMap((r) => range(V).map((q) => `(local ${acc(r, q)} v128)`)).join(' ')}
    (local.set $end (i32.add ${get('$a')} (i32.mul ${get('$kc')} ${i32(MR * 4)})))
    (if (i32.lt_u ${get('$a')} ${get('$end')}) (then
    (loop $k
      ${range(U).map(step).join('\n      ')}
      (local.set $a (i32.add ${get('$a')} ${i32(U * MR * 4)}))
      (local.set $b (i32.add ${get('$b')} ${i32(U * NR * 4)}))
      (br_if $k (i32.lt_u ${get('$a')} ${get('$end')})))))
    (local.set $ldc (i32.shl ${get('$ldc')} ${i32(2)}))
    (if ${get('$acc')} (then
      ${rows.flatMap((r) => range(V).map((q) =>
        `(local.set ${acc(r, q)} (f32x4.add ${get(acc(r, q))} (v128.load offset=${q * 16} (i32.add ${get('$c')} (i32.mul ${get('$ldc')} ${i32(r)})))))`)).join('\n      ')}))
    ${rows.map((r) => range(V).map((q) =>
      `(v128.store offset=${q * 16} ${get('$c')} ${get(acc(r, q))})`).join(' ') + `\n    (local.set $c (i32.add ${get('$c')} ${get('$ldc')}))`).join('\n    ')})`;
}

/**
 * A packing routine. For A: `R` = MR, X(i,p) at i·rs + p·cs, panels of R "rows" i, each stored
 * p-major (R floats per p). For B the same with i→j: `R` = NR, X(j,p) = B(p,j) at j·cs + p·rs,
 * so packB is packX with the strides swapped by the caller. With `check` (R a multiple of 4) it
 * returns 1 if every value it copied is finite, else 0, checking each as it goes (b − b is +0 for
 * a finite b and NaN for ±∞ and NaN, so the or of their bits stays 0 only if all are finite).
 * With `mapped`, row i of X is row map[i] (an i32 at $map + 4i, a last parameter): X(i,p) at
 * map[i]·rs + p·cs, gathered one row at a time (a product that leaves out the zero rows of C,
 * see `macroRows` in gemm-sparse.wat.ts).
 */
function pack(name: string, R: number, check: boolean, mapped = false): string {
  // the gather: one row at a time, a partial panel zeroed first
  const gather = `(if (i32.lt_s ${get('$rows')} ${i32(R)}) (then
            (loop $z
        ${copyFloats(R, null, get('$d'))}
              (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
              (br_if $z (i32.lt_u ${get('$d')} ${get('$end')})))))
          (local.set $r (i32.const 0))
          (loop $row
            (local.set $d (i32.add ${get('$dst')} (i32.shl ${get('$r')} ${i32(2)})))
            (local.set $p ${
              mapped
                ? `(i32.add ${get('$src')} (i32.mul (i32.load (i32.add ${get('$map')} (i32.shl (i32.add ${get('$i')} ${get('$r')}) ${i32(2)}))) ${get('$rs')}))`
                : `(i32.add ${get('$s')} (i32.mul ${get('$r')} ${get('$rs')}))`
            })
            (loop $p
              ${copyScalar(get('$d'), 0, get('$p'), check)}
              (local.set $p (i32.add ${get('$p')} ${get('$cs')}))
              (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
              (br_if $p (i32.lt_u ${get('$d')} ${get('$end')})))
            (local.set $r (i32.add ${get('$r')} ${i32(1)}))
            (br_if $row (i32.lt_s ${get('$r')} ${get('$rows')})))`;
  return `
  ;; ${name}: dst[panel][p][r] = X(i0 + r, p) for the mc×kc block at $src, X(i,p) at i·$rs + p·$cs
  ;; (element strides), zero-padded to whole ${R}-wide panels and to kcPad.
  (func $${name} (export "${name}") (param $src i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32) (param $kcPad i32) (param $dst i32) (param $pstride i32)${mapped ? ' (param $map i32)' : ''}${check ? ' (result i32)\n    (local $fin v128) (local $finS f32) (local $x f32)' : ''}
    (local $i i32) (local $r i32) (local $rows i32) (local $p i32) (local $s i32) (local $d i32) (local $end i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rs (i32.shl ${get('$rs')} ${i32(2)}))
    (local.set $cs (i32.shl ${get('$cs')} ${i32(2)}))
    (block $done (loop $panels
      (br_if $done (i32.ge_s ${get('$i')} ${get('$mc')}))
      (local.set $rows ${min(i32(R), `(i32.sub ${get('$mc')} ${get('$i')})`)})
      (local.set $s (i32.add ${get('$src')} (i32.mul ${get('$i')} ${get('$rs')})))
      (local.set $d ${get('$dst')})
      (local.set $end (i32.add ${get('$dst')} (i32.mul ${get('$kc')} ${i32(R * 4)})))
      ${
        mapped
          ? gather
          : `(if (i32.and (i32.eq ${get('$rows')} ${i32(R)}) (i32.eq ${get('$rs')} ${i32(4)}))
        (then ;; the panel's ${R} values are contiguous for each p: vector copies
          (loop $p
        ${check ? copyChecked(R) : copyFloats(R, get('$s'), get('$d'))}
            (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
            (br_if $p (i32.lt_u ${get('$d')} ${get('$end')}))))
        (else (if (i32.and (i32.eq ${get('$rows')} ${i32(R)}) (i32.eq ${get('$cs')} ${i32(4)}))
        (then ;; each row is contiguous along p: 4×4 transposes of 4 rows × 4 p, then the p tail
          (local.set $p (i32.add ${get('$dst')} (i32.mul (i32.and ${get('$kc')} ${i32(-4)}) ${i32(R * 4)})))
          (block $tdone (loop $t
            (br_if $tdone (i32.ge_u ${get('$d')} ${get('$p')}))
        ${transpose4(R, check)}
            (local.set $s (i32.add ${get('$s')} ${i32(16)}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 16)}))
            (br $t)))
          (block $rdone (loop $rest
            (br_if $rdone (i32.ge_u ${get('$d')} ${get('$end')}))
        ${range(R).map((r) => copyScalar(get('$d'), r * 4, `(i32.add ${get('$s')} (i32.mul ${get('$rs')} ${i32(r)}))`, check)).join('\n        ')}
            (local.set $s (i32.add ${get('$s')} ${i32(4)}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
            (br $rest))))
        (else ;; gather one row at a time
          ${gather}))))`
      }
      ;; zero the k-padding rows p in [kc, kcPad)
      (local.set $d ${get('$end')})
      (local.set $end (i32.add ${get('$dst')} (i32.mul ${get('$kcPad')} ${i32(R * 4)})))
      (block $zdone (loop $z
        (br_if $zdone (i32.ge_u ${get('$d')} ${get('$end')}))
        ${copyFloats(R, null, get('$d'))}
        (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
        (br $z)))
      (local.set $dst (i32.add ${get('$dst')} ${get('$pstride')}))
      (local.set $i (i32.add ${get('$i')} ${i32(R)}))
      (br $panels)))${check ? `
    (i32.eqz (v128.any_true (v128.or ${get('$fin')} (f32x4.splat ${get('$finS')}))))` : ''}
  )`;
}

/** The whole module as WAT text. */
export function gemmWat(options: GemmWatOptions): string {
  const tile = options.tile ?? TILE;
  const { MR, NR, U, MC, KC, NC } = tile;
  const job = (field: keyof typeof JOB): string => `(i32.load offset=${JOB[field] * 4} ${get('$job')})`;
  // packing B[pc:pc+kc, jc:jc+nc] into Bp from B's element `offset` (`$packMapped` finds column j's offset in the map itself)
  const packBFrom = (offset: string): string => `(i32.add ${get('$b')} (i32.shl ${offset} ${i32(2)}))
          ${job('csB')} ${job('rsB')} ${get('$nc')} ${get('$kc')} ${get('$kcPad')} ${get('$bp')} ${i32(KC * NR * 4)}`;
  const packBArgs = packBFrom(`(i32.add (i32.mul ${get('$pc')} ${job('rsB')}) (i32.mul ${get('$jc')} ${job('csB')}))`);
  const locals = ['m', 'n', 'k', 'a', 'b', 'c', 'ldc', 'i0', 'i1', 'j0', 'j1', 'per', 'r', 'ap', 'bp', 'jc', 'pc', 'ic', 'nc', 'kc', 'kcPad', 'mc', 'skip', 'sparse', 'lists', 'cOut', 'ldcOut', 'strip', 'map'];
  return `(module
  (import "env" "mem" (memory 1 32768${options.shared ? ' shared' : ''}))
  ${micro(options.fma, tile)}
  ${pack('packA', MR, false)}
  ${pack('packB', NR, false)}
  ${pack('packBChecked', NR, true)}
  ${pack('packMapped', NR, false, true)}
  ${sparseWat(options.fma, tile)}

  ;; macro: every MR×NR tile of C[0:mc, 0:nc] from packed Ap (mc×kcPad) and Bp (nc/NR panels, KC·NR floats apart).
  (func $macro (export "macro") (param $ap i32) (param $bp i32) (param $c i32) (param $mc i32) (param $nc i32) (param $kcPad i32) (param $ldc i32) (param $acc i32)
    (local $j i32) (local $i i32) (local $a i32) (local $cc i32)
    (loop $jr
      (local.set $a ${get('$ap')})
      (local.set $cc (i32.add ${get('$c')} (i32.shl ${get('$j')} ${i32(2)})))
      (local.set $i (i32.const 0))
      (loop $ir
        (call $micro ${get('$a')} ${get('$bp')} ${get('$cc')} ${get('$kcPad')} ${get('$ldc')} ${get('$acc')})
        (local.set $a (i32.add ${get('$a')} (i32.mul ${get('$kcPad')} ${i32(MR * 4)})))
        (local.set $cc (i32.add ${get('$cc')} (i32.mul ${get('$ldc')} ${i32(MR * 4)})))
        (local.set $i (i32.add ${get('$i')} ${i32(MR)}))
        (br_if $ir (i32.lt_s ${get('$i')} ${get('$mc')})))
      (local.set $bp (i32.add ${get('$bp')} ${i32(KC * NR * 4)}))
      (local.set $j (i32.add ${get('$j')} ${i32(NR)}))
      (br_if $jr (i32.lt_s ${get('$j')} ${get('$nc')}))))

  ;; task t of the job: batch item t / (tasksM·tasksN), rows i0:i1 and columns j0:j1 of it.
  (func $task (export "task") (param $job i32) (param $t i32) (param $slot i32)
    ${locals.map((l) => `(local $${l} i32)`).join(' ')}
    (local.set $m ${job('m')}) (local.set $n ${job('n')}) (local.set $k ${job('k')}) (local.set $ldc ${job('ldc')})
    (local.set $per (i32.mul ${job('tasksM')} ${job('tasksN')}))
    (local.set $r (i32.div_u ${get('$t')} ${get('$per')}))   ;; batch item
    (local.set $a (i32.add ${job('a')} (i32.shl (i32.mul ${get('$r')} ${job('aBatchStride')}) ${i32(2)})))
    (local.set $b (i32.add ${job('b')} (i32.shl (i32.mul ${get('$r')} ${job('bBatchStride')}) ${i32(2)})))
    (local.set $c (i32.add ${job('c')} (i32.shl (i32.mul ${get('$r')} ${job('cBatchStride')}) ${i32(2)})))
    (local.set $r (i32.rem_u ${get('$t')} ${get('$per')}))   ;; tile within the item
    (local.set $i0 (i32.mul (i32.div_u ${get('$r')} ${job('tasksN')}) ${job('tm')}))
    (local.set $j0 (i32.mul (i32.rem_u ${get('$r')} ${job('tasksN')}) ${job('tn')}))
    (local.set $i1 ${min(get('$m'), `(i32.add ${get('$i0')} ${job('tm')})`)})
    (local.set $j1 ${min(get('$n'), `(i32.add ${get('$j0')} ${job('tn')})`)})
    (local.set $ap (i32.add ${job('scratch')} (i32.mul ${get('$slot')} ${job('slotBytes')})))
    (local.set $bp (i32.add ${get('$ap')} ${i32(MC * KC * 4)}))
    (local.set $lists (i32.add ${get('$bp')} ${i32(KC * NC * 4)}))
    (local.set $skip ${job('skip')})
    ;; with a result through the strip, the map of C' columns to C rows when C's zero rows are left out (else 0)
    (local.set $map ${job('colMap')})
    ;; with a transposed result (job word ct ≠ 0): when k ≤ KC (each element written once) C' is
    ;; stored transposed straight into C through a strip at $ap (unused when skipping); else C'
    ;; goes to its own buffer first (ldct floats a row) and C = C'ᵀ at the end
    (local.set $cOut ${get('$c')})
    (local.set $ldcOut ${get('$ldc')})
    (if ${job('ct')} (then
      (if (i32.le_s ${get('$k')} ${i32(KC)})
        (then (local.set $strip ${get('$ap')}))
        (else
          (local.set $c (i32.add ${job('ct')} (i32.shl (i32.mul (i32.div_u ${get('$t')} ${get('$per')}) ${job('ctBatchStride')}) ${i32(2)})))
          (local.set $ldc ${job('ldct')})))))
    (local.set $jc ${get('$j0')})
    (loop $jcL
      (local.set $nc ${min(i32(NC), `(i32.sub ${get('$j1')} ${get('$jc')})`)})
      (local.set $pc (i32.const 0))
      (loop $pcL
        (local.set $kc ${min(i32(KC), `(i32.sub ${get('$k')} ${get('$pc')})`)})
        (local.set $kcPad (i32.and (i32.add ${get('$kc')} ${i32(U - 1)}) ${i32(-U)}))
        ;; skip zeros only over a finite B block: checked while packing it, or by the caller for a result stored through the strip
        (local.set $sparse (i32.eq ${get('$skip')} ${i32(SKIP.rows)}))
        (if ${get('$map')}
          (then (call $packMapped ${packBFrom(`(i32.mul ${get('$pc')} ${job('rsB')})`)} (i32.add ${get('$map')} (i32.shl ${get('$jc')} ${i32(2)}))))
          (else (if (i32.and ${get('$sparse')} (i32.eqz ${get('$strip')}))
            (then (local.set $sparse (call $packBChecked ${packBArgs})))
            (else (call $packB ${packBArgs})))))
        (local.set $ic ${get('$i0')})
        (loop $icL
          (local.set $mc ${min(i32(MC), `(i32.sub ${get('$i1')} ${get('$ic')})`)})
          (if ${get('$sparse')}
            (then
              (call $listRows (i32.add ${get('$a')} (i32.shl (i32.add (i32.mul ${get('$ic')} ${job('rsA')}) (i32.mul ${get('$pc')} ${job('csA')})) ${i32(2)}))
                ${job('rsA')} ${job('csA')} ${get('$mc')} ${get('$kc')} ${get('$lists')} (i32.add ${get('$lists')} ${i32(MC * KC * 8)}))
              (call $macroRows ${get('$lists')} (i32.add ${get('$lists')} ${i32(MC * KC * 8)}) ${get('$bp')}
                (i32.add ${get('$c')} (i32.shl (select (select ${get('$ic')} (i32.add (i32.mul ${get('$jc')} ${get('$ldc')}) ${get('$ic')}) ${get('$map')}) (i32.add (i32.mul ${get('$ic')} ${get('$ldc')}) ${get('$jc')}) ${get('$strip')}) ${i32(2)}))
                ${get('$ldc')} ${get('$mc')} ${get('$nc')} (i32.ne ${get('$pc')} (i32.const 0)) ${get('$strip')}
                (select (i32.add ${get('$map')} (i32.shl ${get('$jc')} ${i32(2)})) ${i32(0)} ${get('$map')})))
            (else
          (call $packA (i32.add ${get('$a')} (i32.shl (i32.add (i32.mul ${get('$ic')} ${job('rsA')}) (i32.mul ${get('$pc')} ${job('csA')})) ${i32(2)}))
            ${job('rsA')} ${job('csA')} ${get('$mc')} ${get('$kc')} ${get('$kcPad')} ${get('$ap')} (i32.mul ${get('$kcPad')} ${i32(MR * 4)}))
          (call $macro ${get('$ap')} ${get('$bp')} (i32.add ${get('$c')} (i32.shl (i32.add (i32.mul ${get('$ic')} ${get('$ldc')}) ${get('$jc')}) ${i32(2)}))
            ${get('$mc')} ${get('$nc')} ${get('$kcPad')} ${get('$ldc')} (i32.ne ${get('$pc')} (i32.const 0)))))
          (local.set $ic (i32.add ${get('$ic')} ${i32(MC)}))
          (br_if $icL (i32.lt_s ${get('$ic')} ${get('$i1')})))
        (local.set $pc (i32.add ${get('$pc')} ${i32(KC)}))
        (br_if $pcL (i32.lt_s ${get('$pc')} ${get('$k')})))
      (local.set $jc (i32.add ${get('$jc')} ${i32(NC)}))
      (br_if $jcL (i32.lt_s ${get('$jc')} ${get('$j1')})))
    (if (i32.and (i32.ne ${job('ct')} ${i32(0)}) (i32.eqz ${get('$strip')})) (then
      (call $transposeOut (i32.add ${get('$c')} (i32.shl (i32.add (i32.mul ${get('$i0')} ${get('$ldc')}) ${get('$j0')}) ${i32(2)})) ${get('$ldc')}
        (i32.sub (i32.and (i32.add ${get('$i1')} ${i32(3)}) ${i32(-4)}) ${get('$i0')}) (i32.sub (i32.and (i32.add ${get('$j1')} ${i32(3)}) ${i32(-4)}) ${get('$j0')})
        (i32.add ${get('$cOut')} (i32.shl (i32.add (i32.mul ${get('$j0')} ${get('$ldcOut')}) ${get('$i0')}) ${i32(2)})) ${get('$ldcOut')}))))
)
`;
}
