/**
 * The element-level zero skipping of the matmul kernel ({@link SKIP}.rows in `gemm.wat.ts`), in
 * WebAssembly text: for C' = A'·B' with A' sparse, each row of an A block lists its non-zero steps
 * ({@link listRows}), a 1×W micro-kernel multiplies only those into W columns of the packed B block
 * ({@link microRows}, driven by {@link macroRows}). A product computed transposed (C' = Cᵀ) is
 * stored into C by {@link macroRows} itself, 4 rows of C' at a time transposed 4×4 in registers,
 * when k ≤ KC; with more steps C' is accumulated in its own buffer and written back 4×4 blocks at
 * a time at the end ({@link transposeOut}). `gemmWat()` puts these functions in its module.
 */
import type { SKIP, Tile } from './gemm.wat.js';
import { get, i32, range, shuffle32, transpose4x4 } from './wat-text.js';

/** The address of row `r`'s list (KC 8-byte entries a row from $lists), in the functions that take $lists. */
const listOf = (r: string, KC: number): string => `(i32.add ${get('$lists')} (i32.mul ${r} ${i32(KC * 8)}))`;

/** Contiguous steps of a row (cs = 1) that {@link listRows} tests at once, to skip them when none is non-zero. */
const LIST_GROUP = 16;

/**
 * Element-level zero skipping ({@link SKIP}.rows), step 1: for each of the mc rows of the A
 * block at $src (element (r, p) at r·$rs + p·$cs, element strides, p < kc), lists its non-zero
 * steps as 8-byte entries [p·NR·4 (i32: the byte offset of row p in a packed B panel), A(r, p)
 * (f32)] at $lists + r·KC·8, and their number at $counts + r·4. +0 and −0 are zeros (a ReLU
 * gradient g·[h > 0] holds −0 wherever g < 0); any other bit set is listed, NaN included: a value
 * is non-zero when it is, shifted left by one, non-zero. Three ways, all giving the same lists:
 *
 * - cs = 1 (rows contiguous: a batch of images, activations): LIST_GROUP steps at a time, their
 *   v128 loads OR-ed and tested with `v128.any_true`, an all-zero group skipped (MNIST's blank
 *   image rows); in the others each quad of steps gets the bitmask of its non-zero lanes
 *   (`i32x4.bitmask`), skipped when 0, else its four entries are built in two v128 (step offsets
 *   shuffled with the values) and stored by one 8-byte lane store each at the write position, which
 *   moves on by 8 bytes where the lane's bit is set. The last kc mod 4 steps go one by one (below).
 * - rs = 1 (a transposed operand: rows r..r+3 at one p are 4 contiguous floats): 4 rows in one
 *   pass over p, one v128 load per p, each row with its own write position, entries built and
 *   stored as above, a p where all four are zero skipped. The last mc mod 4 rows go one by one.
 * - otherwise one element at a time, branch-free: every step's entry is written, and the write
 *   position moves on only when the value is non-zero.
 *
 * Entries past a row's count are scratch: written, never read.
 */
function listRows({ NR, KC }: Tile): string {
  const step = NR * 4;
  const rowList = (r: string): string => listOf(r, KC);
  const nonZeroLanes = `(i32x4.bitmask (i32x4.ne (i32x4.shl ${get('$x')} ${i32(1)}) (i32x4.splat ${i32(0)})))`;
  // lane q's entry (lane q % 2 of $e<q / 2>: $e0 = [p0, v0, p1, v1], $e1 = [p2, v2, p3, v3]) at cursors[q], which moves on by bit q of $m
  const storeEntries = (cursors: string[]): string =>
    cursors
      .map(
        (l, q) => `
            (v128.store64_lane ${q % 2} ${get(l)} ${get(`$e${q >> 1}`)})
            (local.set ${l} (i32.add ${get(l)} (i32.and ${q < 3 ? `(i32.shl ${get('$m')} ${i32(3 - q)})` : get('$m')} ${i32(8)})))`,
      )
      .join('');
  // cs = 1: the 4 steps at byte offset `at` of $s (steps p + at/4 ...)
  const quad = (at: number): string => `
          (local.set $x (v128.load offset=${at} ${get('$s')}))
          (local.set $m ${nonZeroLanes})
          (if ${get('$m')} (then
            (local.set $e0 (i32x4.add (i32x4.splat ${at ? `(i32.add ${get('$p')} ${i32((at / 4) * step)})` : get('$p')}) ${get('$steps')}))
            (local.set $e1 ${shuffle32([2, 6, 3, 7], get('$e0'), get('$x'))})
            (local.set $e0 ${shuffle32([0, 4, 1, 5], get('$e0'), get('$x'))})
            ${storeEntries(['$l', '$l', '$l', '$l'])}))`;
  const anyNonZero = range(LIST_GROUP / 4)
    .map((q) => `(i32x4.shl (v128.load offset=${q * 16} ${get('$s')}) ${i32(1)})`)
    .reduce((x, y) => `(v128.or ${x} ${y})`);
  return `
  (func $listRows (param $src i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32) (param $lists i32) (param $counts i32)
    (local $r i32) (local $s i32) (local $l i32) (local $start i32) (local $p i32) (local $end i32) (local $v i32)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32) (local $m i32) (local $x v128) (local $e0 v128) (local $e1 v128) (local $steps v128)
    (local.set $rs (i32.shl ${get('$rs')} ${i32(2)}))
    (local.set $cs (i32.shl ${get('$cs')} ${i32(2)}))
    (local.set $end (i32.mul ${get('$kc')} ${i32(step)}))
    ;; [0, 1, 2, 3]·NR·4: the step offsets of a quad
    (local.set $steps (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat ${i32(0)}) ${i32(step)}) ${i32(2 * step)}) ${i32(3 * step)}))
    (if (i32.eq ${get('$rs')} ${i32(4)}) (then
      ;; rs = 1: rows r..r+3 in one pass over p
      (block $quadsDone (loop $quadRows
        (br_if $quadsDone (i32.gt_s (i32.add ${get('$r')} ${i32(4)}) ${get('$mc')}))
        (local.set $s (i32.add ${get('$src')} (i32.shl ${get('$r')} ${i32(2)})))
        ${range(4)
          .map((q) => `(local.set $l${q} ${rowList(`(i32.add ${get('$r')} ${i32(q)})`)})`)
          .join('\n        ')}
        (local.set $p ${i32(0)})
        (block $pdone4 (loop $step4
          (br_if $pdone4 (i32.ge_u ${get('$p')} ${get('$end')}))
          (local.set $x (v128.load ${get('$s')}))
          (local.set $m ${nonZeroLanes})
          (if ${get('$m')} (then
            (local.set $e0 (i32x4.splat ${get('$p')}))
            (local.set $e1 ${shuffle32([0, 6, 0, 7], get('$e0'), get('$x'))})
            (local.set $e0 ${shuffle32([0, 4, 0, 5], get('$e0'), get('$x'))})
            ${storeEntries(['$l0', '$l1', '$l2', '$l3'])}))
          (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
          (local.set $p (i32.add ${get('$p')} ${i32(step)}))
          (br $step4)))
        ${range(4)
          .map(
            (q) =>
              `(i32.store offset=${q * 4} (i32.add ${get('$counts')} (i32.shl ${get('$r')} ${i32(2)})) (i32.shr_u (i32.sub ${get(`$l${q}`)} ${rowList(`(i32.add ${get('$r')} ${i32(q)})`)}) ${i32(3)}))`,
          )
          .join('\n        ')}
        (local.set $r (i32.add ${get('$r')} ${i32(4)}))
        (br $quadRows)))))
    (block $done (loop $row
      (br_if $done (i32.ge_s ${get('$r')} ${get('$mc')}))
      (local.set $s (i32.add ${get('$src')} (i32.mul ${get('$r')} ${get('$rs')})))
      (local.set $start ${rowList(get('$r'))})
      (local.set $l ${get('$start')})
      (local.set $p ${i32(0)})
      (if (i32.eq ${get('$cs')} ${i32(4)}) (then
        ;; cs = 1: groups of ${LIST_GROUP} steps, then quads
        (block $groupsDone (loop $group
          (br_if $groupsDone (i32.gt_u (i32.add ${get('$p')} ${i32(LIST_GROUP * step)}) ${get('$end')}))
          (if (v128.any_true ${anyNonZero}) (then
            ${range(LIST_GROUP / 4)
              .map((q) => quad(q * 16))
              .join('')}))
          (local.set $s (i32.add ${get('$s')} ${i32(LIST_GROUP * 4)}))
          (local.set $p (i32.add ${get('$p')} ${i32(LIST_GROUP * step)}))
          (br $group)))
        (block $quadsDone (loop $quad
          (br_if $quadsDone (i32.gt_u (i32.add ${get('$p')} ${i32(4 * step)}) ${get('$end')}))
          ${quad(0)}
          (local.set $s (i32.add ${get('$s')} ${i32(16)}))
          (local.set $p (i32.add ${get('$p')} ${i32(4 * step)}))
          (br $quad)))))
      (block $pdone (loop $step
        (br_if $pdone (i32.ge_u ${get('$p')} ${get('$end')}))
        (local.set $v (i32.load ${get('$s')}))
        (i32.store ${get('$l')} ${get('$p')})
        (i32.store offset=4 ${get('$l')} ${get('$v')})
        (local.set $l (i32.add ${get('$l')} (i32.shl (i32.ne (i32.and ${get('$v')} ${i32(0x7fffffff)}) ${i32(0)}) ${i32(3)})))
        (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
        (local.set $p (i32.add ${get('$p')} ${i32(step)}))
        (br $step)))
      (i32.store (i32.add ${get('$counts')} (i32.shl ${get('$r')} ${i32(2)})) (i32.shr_u (i32.sub ${get('$l')} ${get('$start')}) ${i32(3)}))
      (local.set $r (i32.add ${get('$r')} ${i32(1)}))
      (br $row)))
  )`;
}

/** Panels of B (NR columns each) one call of the element-level micro-kernel covers: W = ROW_PANELS·NR columns. */
const ROW_PANELS = 6;

/**
 * Element-level zero skipping, step 2, the 1×W micro-kernel ($microRows<P>, W = P·NR):
 * C[r, 0:W] (+)= Σ over the $n entries at $e (a row's list, see {@link listRows}) of
 * value · Bp[p, 0:W], reading the P packed B panels at $b + offset + q·KC·NR·4 (the B block is
 * packed with a fixed panel stride, so these are constant offsets). Per listed non-zero: one
 * splat, P·NR/4 loads and multiply-adds into P·NR/4 accumulators. Terms are added in order of p,
 * like the dense kernel's, and a skipped term is ±0·b = ±0 added to a sum that starts at +0
 * (which, rounding to nearest, never makes it −0 nor changes a non-zero sum): the result has the
 * dense kernel's bits whenever B is finite. $c is the address of C[r, 0].
 */
function microRows(fma: boolean, { NR, KC }: Tile, P: number): string {
  const V = (P * NR) / 4;
  const acc = (v: number): string => `$c${v}`;
  const vecOffset = (v: number): number => Math.floor(v / (NR / 4)) * KC * NR * 4 + (v % (NR / 4)) * 16;
  const madd = (v: number): string => {
    const b = `(v128.load offset=${vecOffset(v)} ${get('$bb')})`;
    return fma
      ? `(local.set ${acc(v)} (f32x4.relaxed_madd ${get('$x')} ${b} ${get(acc(v))}))`
      : `(local.set ${acc(v)} (f32x4.add ${get(acc(v))} (f32x4.mul ${get('$x')} ${b})))`;
  };
  const vectorStore = (add: boolean): string =>
    range(V)
      .map((v) => {
        const value = add ? `(f32x4.add (v128.load offset=${v * 16} ${get('$c')}) ${get(acc(v))})` : get(acc(v));
        return `(v128.store offset=${v * 16} ${get('$c')} ${value})`;
      })
      .join('\n        ');
  return `
  (func $microRows${P} (param $e i32) (param $n i32) (param $b i32) (param $c i32) (param $acc i32)
    (local $end i32) (local $bb i32) (local $x v128) ${range(V)
      .map((v) => `(local ${acc(v)} v128)`)
      .join(' ')}
    (local.set $end (i32.add ${get('$e')} (i32.shl ${get('$n')} ${i32(3)})))
    (if (i32.lt_u ${get('$e')} ${get('$end')}) (then
    (loop $k
      (local.set $bb (i32.add ${get('$b')} (i32.load ${get('$e')})))
      (local.set $x (v128.load32_splat offset=4 ${get('$e')}))
      ${range(V).map(madd).join('\n      ')}
      (local.set $e (i32.add ${get('$e')} ${i32(8)}))
      (br_if $k (i32.lt_u ${get('$e')} ${get('$end')})))))
    (if ${get('$acc')}
      (then ${vectorStore(true)})
      (else ${vectorStore(false)})))`;
}

/**
 * Element-level zero skipping, step 3: every row r < mc of the C' block over the nc columns of the
 * packed B block at $bp, ROW_PANELS panels per micro-kernel call and the last 0-5 panels by 2 and
 * 1. With $strip = 0, C'[r, j] is at $c + (r·$ldc + j)·4 and the micro-kernel stores (or adds to
 * it, $acc) its row there. Otherwise C' is written transposed, as C[j, r] at $c + (j·$ldc + r)·4
 * (the caller passes $acc = 0: each element is written once): the micro-kernel stores rows r..r+3
 * into the 4×W strip at $strip (row q at $strip + q·ROW_PANELS·NR·4; a row r ≥ mc lists no
 * non-zeros, so it holds zeros), and each 4×4 block of it is transposed in registers (4 loads,
 * 8 shuffles) and stored as 4 consecutive r in 4 rows of C. Columns r up to mc rounded up to 4 of
 * C are written: the caller's C has room for them. With a $map (≠ 0; the strip only), column j of
 * the block is row map[j] of C (an i32 at $map + 4j) after the one at $c: the columns of B' packed
 * are the rows of C left after leaving out its zero ones (`$packMapped` in gemm.wat.ts).
 */
function macroRows({ NR, KC }: Tile): string {
  const W = ROW_PANELS * NR;
  const list = (row: string): string => listOf(row, KC);
  const count = (row: string): string => `(i32.load (i32.add ${get('$counts')} (i32.shl ${row} ${i32(2)})))`;
  const rowMajor = (P: number): string => `
          (local.set $r (i32.const 0))
          (loop $row${P}
            (call $microRows${P} ${list(get('$r'))} ${count(get('$r'))}
              ${get('$bp')} (i32.add ${get('$cc')} (i32.mul ${get('$r')} ${get('$rs')})) ${get('$acc')})
            (local.set $r (i32.add ${get('$r')} ${i32(1)}))
            (br_if $row${P} (i32.lt_s ${get('$r')} ${get('$mc')})))`;
  // Columns 4b..4b+3 of the strip's 4 rows into 4 rows of C: rows 4b..4b+3 after the one at $d (row 4b + l at
  // $d + (4b + l)·$rs), or with a map, rows map[j + 4b + l] after the one at $d ($mj = $map + 4j: row at $d + map[…]·$rs).
  const block = (b: number, mapped: boolean): string => {
    const at = (l: number): string => {
      const row = 4 * b + l;
      if (mapped) return `(i32.add ${get('$d')} (i32.mul (i32.load offset=${row * 4} ${get('$mj')}) ${get('$rs')}))`;
      return row === 0 ? get('$d') : `(i32.add ${get('$d')} ${row === 1 ? get('$rs') : `(i32.mul ${get('$rs')} ${i32(row)})`})`;
    };
    return transpose4x4(
      (q) => `(v128.load offset=${(q * W + b * 4) * 4} ${get('$strip')})`,
      (l, column) => `(v128.store ${at(l)} ${column})`,
    ).join('\n            ');
  };
  const transposed = (P: number, mapped: boolean): string => `
          (local.set $r (i32.const 0))
          (loop $quad${P}${mapped ? 'm' : ''}
            ${range(4)
              .map((q) => {
                const row = q === 0 ? get('$r') : `(i32.add ${get('$r')} ${i32(q)})`;
                const strip = q === 0 ? get('$strip') : `(i32.add ${get('$strip')} ${i32(q * W * 4)})`;
                return `(call $microRows${P} ${list(row)} (select ${count(row)} ${i32(0)} (i32.lt_s ${row} ${get('$mc')})) ${get('$bp')} ${strip} ${i32(0)})`;
              })
              .join('\n            ')}
            (local.set $d (i32.add ${get(mapped ? '$c' : '$cc')} (i32.shl ${get('$r')} ${i32(2)})))
            ${range((P * NR) / 4)
              .map((b) => block(b, mapped))
              .join('\n            ')}
            (local.set $r (i32.add ${get('$r')} ${i32(4)}))
            (br_if $quad${P}${mapped ? 'm' : ''} (i32.lt_s ${get('$r')} ${get('$mc')})))`;
  const call = (P: number): string => `
          (if (i32.eqz ${get('$strip')}) (then ${rowMajor(P)})
            (else (if ${get('$map')} (then ${transposed(P, true)}) (else ${transposed(P, false)}))))
          (local.set $panels ${i32(P)})`;
  return `
  (func $macroRows (param $lists i32) (param $counts i32) (param $bp i32) (param $c i32) (param $ldc i32) (param $mc i32) (param $nc i32) (param $acc i32) (param $strip i32) (param $map i32)
    (local $j i32) (local $r i32) (local $cc i32) (local $left i32) (local $panels i32) (local $rs i32) (local $d i32) (local $mj i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rs (i32.shl ${get('$ldc')} ${i32(2)}))
    (block $done (loop $jr
      (br_if $done (i32.ge_s ${get('$j')} ${get('$nc')}))
      ;; where column j of the block goes: C'[0, j], or with a strip C[j, 0]
      (local.set $cc (i32.add ${get('$c')} (select (i32.mul ${get('$j')} ${get('$rs')}) (i32.shl ${get('$j')} ${i32(2)}) ${get('$strip')})))
      (local.set $mj (i32.add ${get('$map')} (i32.shl ${get('$j')} ${i32(2)})))
      (local.set $left (i32.div_u (i32.add (i32.sub ${get('$nc')} ${get('$j')}) ${i32(NR - 1)}) ${i32(NR)}))
      (if (i32.ge_u ${get('$left')} ${i32(ROW_PANELS)})
        (then ${call(ROW_PANELS)})
        (else (if (i32.ge_u ${get('$left')} ${i32(2)})
          (then ${call(2)})
          (else ${call(1)}))))
      (local.set $bp (i32.add ${get('$bp')} (i32.mul ${get('$panels')} ${i32(KC * NR * 4)})))
      (local.set $j (i32.add ${get('$j')} (i32.mul ${get('$panels')} ${i32(NR)})))
      (br $jr)))
  )`;
}

/**
 * dst[j·$ldd + i] = src[i·$lds + j] for i < $rows, j < $cols (both multiples of 4; byte
 * addresses, leading dimensions in floats): a product computed as C' = Cᵀ over more than KC
 * steps (accumulated in its own buffer) written out as C, 4×4 blocks at a time (4 loads,
 * 8 shuffles, 4 stores).
 */
function transposeOut(): string {
  const dstRow = (q: number): string =>
    q === 0
      ? get('$d')
      : `(i32.add ${get('$d')} ${q === 1 ? get('$ldd') : q === 2 ? `(i32.shl ${get('$ldd')} ${i32(1)})` : `(i32.mul ${get('$ldd')} ${i32(3)})`})`;
  return `
  (func $transposeOut (param $src i32) (param $lds i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $i i32) (local $j i32) (local $s i32) (local $d i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $lds (i32.shl ${get('$lds')} ${i32(2)}))
    (local.set $ldd (i32.shl ${get('$ldd')} ${i32(2)}))
    (block $done (loop $rowBlock
      (br_if $done (i32.ge_s ${get('$i')} ${get('$rows')}))
      (local.set $j (i32.const 0))
      (block $rowDone (loop $colBlock
        (br_if $rowDone (i32.ge_s ${get('$j')} ${get('$cols')}))
        (local.set $s (i32.add ${get('$src')} (i32.add (i32.mul ${get('$i')} ${get('$lds')}) (i32.shl ${get('$j')} ${i32(2)}))))
        (local.set $d (i32.add ${get('$dst')} (i32.add (i32.mul ${get('$j')} ${get('$ldd')}) (i32.shl ${get('$i')} ${i32(2)}))))
        ${transpose4x4(
          (q) => `(v128.load (i32.add ${get('$s')} (i32.mul ${get('$lds')} ${i32(q)})))`,
          (q, column) => `(v128.store ${dstRow(q)} ${column})`,
        ).join('\n        ')}
        (local.set $j (i32.add ${get('$j')} ${i32(4)}))
        (br $colBlock)))
      (local.set $i (i32.add ${get('$i')} ${i32(4)}))
      (br $rowBlock)))
  )`;
}

/**
 * flags[i] (an i32 at $flags + 4i) = the bits of every element of row i of X (element (i, p) at
 * $src + (i·$rs + p·$cs)·4, p < $k) or-ed together and shifted left by one: 0 exactly when the row
 * is all +0 and −0 (a ReLU layer's unit dead for the whole batch, in the transposed gradient gᵀ
 * of its weight gradient gᵀ·x), and non-zero otherwise. With $rs = 1, 4 rows in one pass over p,
 * one v128 load each, until all four have a non-zero; with $cs = 1, a row 4 steps at a time until
 * one is non-zero; otherwise one element at a time.
 */
function zeroRows(): string {
  return `
  (func $zeroRows (export "zeroRows") (param $src i32) (param $rs i32) (param $cs i32) (param $m i32) (param $k i32) (param $flags i32)
    (local $i i32) (local $p i32) (local $s i32) (local $acc v128) (local $bits i32)
    (local.set $rs (i32.shl ${get('$rs')} ${i32(2)}))
    (local.set $cs (i32.shl ${get('$cs')} ${i32(2)}))
    (if (i32.eq ${get('$rs')} ${i32(4)}) (then
      (block $quadsDone (loop $quad
        (br_if $quadsDone (i32.gt_s (i32.add ${get('$i')} ${i32(4)}) ${get('$m')}))
        (local.set $s (i32.add ${get('$src')} (i32.shl ${get('$i')} ${i32(2)})))
        (local.set $acc (i32x4.splat ${i32(0)}))
        (local.set $p ${i32(0)})
        (block $known (loop $step
          (local.set $acc (v128.or ${get('$acc')} (v128.load ${get('$s')})))
          ;; done once all four rows have a non-zero
          (br_if $known (i32x4.all_true (i32x4.shl ${get('$acc')} ${i32(1)})))
          (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
          (local.set $p (i32.add ${get('$p')} ${i32(1)}))
          (br_if $step (i32.lt_s ${get('$p')} ${get('$k')}))))
        (v128.store (i32.add ${get('$flags')} (i32.shl ${get('$i')} ${i32(2)})) (i32x4.shl ${get('$acc')} ${i32(1)}))
        (local.set $i (i32.add ${get('$i')} ${i32(4)}))
        (br $quad)))))
    (block $done (loop $row
      (br_if $done (i32.ge_s ${get('$i')} ${get('$m')}))
      (local.set $s (i32.add ${get('$src')} (i32.mul ${get('$i')} ${get('$rs')})))
      (local.set $acc (i32x4.splat ${i32(0)}))
      (local.set $bits ${i32(0)})
      (local.set $p ${i32(0)})
      (if (i32.eq ${get('$cs')} ${i32(4)}) (then
        (block $vecDone (loop $vec
          (br_if $vecDone (i32.gt_s (i32.add ${get('$p')} ${i32(4)}) ${get('$k')}))
          (local.set $acc (v128.or ${get('$acc')} (v128.load ${get('$s')})))
          (br_if $vecDone (v128.any_true (i32x4.shl ${get('$acc')} ${i32(1)})))
          (local.set $s (i32.add ${get('$s')} ${i32(16)}))
          (local.set $p (i32.add ${get('$p')} ${i32(4)}))
          (br $vec)))))
      (block $stepsDone (loop $scalar
        (br_if $stepsDone (i32.ge_s ${get('$p')} ${get('$k')}))
        (local.set $bits (i32.or ${get('$bits')} (i32.load ${get('$s')})))
        (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
        (local.set $p (i32.add ${get('$p')} ${i32(1)}))
        (br $scalar)))
      (i32.store (i32.add ${get('$flags')} (i32.shl ${get('$i')} ${i32(2)}))
        (i32.or (i32.shl ${get('$bits')} ${i32(1)}) (v128.any_true (i32x4.shl ${get('$acc')} ${i32(1)}))))
      (local.set $i (i32.add ${get('$i')} ${i32(1)}))
      (br $row)))
  )`;
}

/**
 * The WAT functions of the zero-skipping path ($listRows, $microRows<P>, $macroRows,
 * $transposeOut, $zeroRows) for the module `gemmWat()` builds; `fma` as there.
 */
export function sparseWat(fma: boolean, tile: Tile): string {
  return [listRows(tile), ...[...new Set([ROW_PANELS, 2, 1])].map((P) => microRows(fma, tile, P)), macroRows(tile), transposeOut(), zeroRows()].join('\n');
}
