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
 *       pack B[pc:pc+KC, jc:jc+NC]  → Bp    NR-column panels, row p of a panel = NR floats (L2/L3)
 *       for ic in [i0, i1) step MC
 *         pack A[ic:ic+MC, pc:pc+KC] → Ap   MR-row panels, column p of a panel = MR floats (L2)
 *         for jr in [0, NC) step NR         one Bp panel (KC·NR·4 bytes) stays in L1
 *           for ir in [0, MC) step MR
 *             micro: C[ir:ir+MR, jr:jr+NR] (+)= Ap panel ᵀ· Bp panel
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

/** Register tile (MR rows × NR columns), k-unroll U (a power of 2), cache blocks (MC rows, KC depth, NC columns). */
export interface Tile { MR: number; NR: number; U: number; MC: number; KC: number; NC: number }
/** The tile sizes the backend uses (see bench/RESULTS.md for how they were chosen). */
export const TILE: Readonly<Tile> = { MR: 4, NR: 8, U: 1, MC: 128, KC: 256, NC: 1024 };

/** Word index of each field of the job descriptor (i32 words; pointers are byte addresses, the rest elements). */
export const JOB = {
  a: 0, b: 1, c: 2, m: 3, n: 4, k: 5, rsA: 6, csA: 7, rsB: 8, csB: 9, ldc: 10,
  aBatchStride: 11, bBatchStride: 12, cBatchStride: 13, tm: 14, tn: 15, tasksM: 16, tasksN: 17,
  scratch: 18, slotBytes: 19, skip: 20,
} as const;

/**
 * Zero skipping (the job's `skip` word): 0 none; {@link SKIP}.a compacts each packed A panel to
 * the steps p where one of its MR values is non-zero (an input batch: 4 digits share zero
 * pixels), {@link SKIP}.b each B panel to those where one of its NR values is (8 neighbouring
 * pixels of a digit). A compacted panel lists its steps' byte offsets into the other panel; the
 * micro-kernel reads that panel through the list, so the skipped steps cost nothing. A panel
 * keeps its dense form when more than half of its steps are non-zero. The caller asks for skipping
 * only when the other operand is finite: a skipped 0·b is then exactly the 0 it would add.
 */
export const SKIP = { none: 0, a: 1, b: 2 } as const;

/**
 * A panel is compacted when at most this many eighths of its steps are non-zero. At 3/4, a batch
 * of Fashion-MNIST (half zeros; a third of its 4-digit panels compacted) ran its x·Wᵀ 1.04-1.12×
 * slower than dense; at 1/2 it ran 0.94× and MNIST's 0.56-0.64× (3/4: 0.48-0.55×, within noise).
 */
const COMPACT_EIGHTHS = 4;

/** Panels of a packed block the zero skipping lists steps for: the A block's or the B block's, whichever has more. */
const skipPanels = (t: Tile): number => Math.max(Math.ceil(t.MC / t.MR), Math.ceil(t.NC / t.NR));

/**
 * Bytes of packing buffers each thread needs: Ap (MC·KC) then Bp (KC·NC) floats, then for zero
 * skipping the step lists (KC i32 per panel) and each panel's step count (an i32 per panel).
 */
export const slotBytes = (t: Tile): number => (t.MC * t.KC + t.KC * t.NC) * 4 + skipPanels(t) * (t.KC + 1) * 4;

/** How to build the kernel module. */
export interface GemmWatOptions {
  /** Import the memory as shared (threads) or not (single thread, no SharedArrayBuffer). */
  shared: boolean;
  /** Use relaxed-SIMD `f32x4.relaxed_madd` (one fused op) instead of `f32x4.mul` + `f32x4.add`. */
  fma: boolean;
  /** Tile sizes; {@link TILE} by default (NR a multiple of 4). */
  tile?: Tile;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const get = (x: string): string => `(local.get ${x})`;
const i32 = (v: number): string => `(i32.const ${v})`;
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

/** i8x16.shuffle of two f32x4 picking 32-bit lanes `l` (0-3 from x, 4-7 from y). */
const shuffle32 = (l: number[], x: string, y: string): string =>
  `(i8x16.shuffle ${l.flatMap((lane) => [0, 1, 2, 3].map((byte) => lane * 4 + byte)).join(' ')} ${x} ${y})`;

/**
 * Packs 4 p-steps of an R-row panel whose rows are contiguous along p: for each group of 4 rows,
 * load 4×4 floats (row q at $s + q·$rs), transpose them with shuffles, store 4 columns of the panel.
 */
function transpose4(R: number): string {
  return range(R / 4).map((g) => [
    ...range(4).map((q) => `(local.set $v${q} (v128.load (i32.add ${get('$s')} (i32.mul ${get('$rs')} ${i32(g * 4 + q)}))))`),
    `(local.set $t0 ${shuffle32([0, 4, 1, 5], get('$v0'), get('$v1'))})`, // r0p0 r1p0 r0p1 r1p1
    `(local.set $t1 ${shuffle32([0, 4, 1, 5], get('$v2'), get('$v3'))})`, // r2p0 r3p0 r2p1 r3p1
    `(local.set $t2 ${shuffle32([2, 6, 3, 7], get('$v0'), get('$v1'))})`, // r0p2 r1p2 r0p3 r1p3
    `(local.set $t3 ${shuffle32([2, 6, 3, 7], get('$v2'), get('$v3'))})`, // r2p2 r3p2 r2p3 r3p3
    ...[[0, 1, 4, 5, 't0', 't1'], [2, 3, 6, 7, 't0', 't1'], [0, 1, 4, 5, 't2', 't3'], [2, 3, 6, 7, 't2', 't3']].map(([a, b, c, d, x, y], p) =>
      `(v128.store offset=${(p * R + g * 4) * 4} ${get('$d')} ${shuffle32([a, b, c, d] as number[], get(`$${String(x)}`), get(`$${String(y)}`))})`),
  ].join('\n        ')).join('\n        ');
}

/**
 * The micro-kernel: C[MR×NR] (+)= Σ_p Ap[p, 0:MR]ᵀ ⊗ Bp[p, 0:NR], kc a multiple of U.
 * `skip` 'a' (`$microSkipA`): Ap is compacted to `kc` steps and step t reads the Bp row at byte
 * offset $ix[t]; 'b' (`$microSkipB`) the other way round. Both with U = 1.
 */
function micro(fma: boolean, { MR, NR, U }: Tile, skip: 'a' | 'b' | null = null): string {
  const V = NR / 4;
  const acc = (r: number, q: number): string => `$c${r}_${q}`;
  const madd = (r: number, q: number): string => (fma
    ? `(local.set ${acc(r, q)} (f32x4.relaxed_madd ${get('$x')} ${get(`$b${q}`)} ${get(acc(r, q))}))`
    : `(local.set ${acc(r, q)} (f32x4.add ${get(acc(r, q))} (f32x4.mul ${get('$x')} ${get(`$b${q}`)})))`);
  // Where step u reads B and A: sequential panels, or one of them through the step list.
  const bAt = skip === 'a' ? '$bb' : '$b';
  const aAt = skip === 'b' ? '$aa' : '$a';
  const step = (u: number): string => [
    ...(skip === 'a' ? [`(local.set $bb (i32.add ${get('$b')} (i32.load ${get('$ix')})))`] : []),
    ...(skip === 'b' ? [`(local.set $aa (i32.add ${get('$a')} (i32.load ${get('$ix')})))`] : []),
    ...range(V).map((q) => `(local.set $b${q} (v128.load offset=${(skip === 'a' ? q * 4 : u * NR + q * 4) * 4} ${get(bAt)}))`),
    ...range(MR).flatMap((r) => [
      `(local.set $x (v128.load32_splat offset=${(skip === 'b' ? r : u * MR + r) * 4} ${get(aAt)}))`,
      ...range(V).map((q) => madd(r, q)),
    ]),
  ].join('\n      ');
  const rows = range(MR);
  // The pointer that walks its panel sequentially, and the bytes it moves per step.
  const [walk, stride] = skip === 'b' ? ['$b', NR * 4] : ['$a', MR * 4];
  const name = skip === null ? '$micro' : skip === 'a' ? '$microSkipA' : '$microSkipB';
  return `
  (func ${name} (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $acc i32)${skip ? ' (param $ix i32)' : ''}
    (local $end i32) (local $x v128) ${skip ? '(local $aa i32) (local $bb i32)' : ''} ${range(V).map((q) => `(local $b${q} v128)`).join(' ')}
    ${rows.flatMap((r) => range(V).map((q) => `(local ${acc(r, q)} v128)`)).join(' ')}
    (local.set $end (i32.add ${get(walk)} (i32.mul ${get('$kc')} ${i32(stride)})))
    (if (i32.lt_u ${get(walk)} ${get('$end')}) (then
    (loop $k
      ${range(skip ? 1 : U).map(step).join('\n      ')}
      ${skip === 'b' ? '' : `(local.set $a (i32.add ${get('$a')} ${i32((skip ? 1 : U) * MR * 4)}))`}
      ${skip === 'a' ? '' : `(local.set $b (i32.add ${get('$b')} ${i32((skip ? 1 : U) * NR * 4)}))`}
      ${skip ? `(local.set $ix (i32.add ${get('$ix')} ${i32(4)}))` : ''}
      (br_if $k (i32.lt_u ${get(walk)} ${get('$end')})))))
    (local.set $ldc (i32.shl ${get('$ldc')} ${i32(2)}))
    (if ${get('$acc')} (then
      ${rows.flatMap((r) => range(V).map((q) =>
        `(local.set ${acc(r, q)} (f32x4.add ${get(acc(r, q))} (v128.load offset=${q * 16} (i32.add ${get('$c')} (i32.mul ${get('$ldc')} ${i32(r)})))))`)).join('\n      ')}))
    ${rows.map((r) => range(V).map((q) =>
      `(v128.store offset=${q * 16} ${get('$c')} ${get(acc(r, q))})`).join(' ') + `\n    (local.set $c (i32.add ${get('$c')} ${get('$ldc')}))`).join('\n    ')})`;
}

/**
 * Zero skipping for the `panels` packed panels of R values per step at $dst (kc steps each, panel
 * stride kc·R floats): counts each panel's steps with a non-zero value (any bit set: −0 and NaN
 * count as non-zero) and, when they are at most COMPACT_EIGHTHS/8 of kc, moves those steps to the front of
 * the panel (in place, in order) and lists their byte offsets p·other·4 into the other operand's
 * panel at $ix + panel·KC·4; the panel's count word at $cnt + panel·4 is that number, or −1 for
 * a panel left dense.
 */
function compact(name: string, R: number, other: number, KC: number): string {
  const nonZero = (at: string): string => R === 4
    ? `(v128.any_true (v128.load ${at}))`
    : `(v128.any_true ${range(R / 4).slice(1).reduce((v, q) => `(v128.or ${v} (v128.load offset=${q * 16} ${at}))`, `(v128.load ${at})`)})`;
  return `
  (func $${name} (param $dst i32) (param $panels i32) (param $kc i32) (param $ix i32) (param $cnt i32)
    (local $q i32) (local $s i32) (local $d i32) (local $end i32) (local $n i32) (local $p i32) (local $l i32) (local $nz i32)
    (block $done (loop $panel
      (br_if $done (i32.ge_s ${get('$q')} ${get('$panels')}))
      (local.set $s ${get('$dst')})
      (local.set $end (i32.add ${get('$dst')} (i32.mul ${get('$kc')} ${i32(R * 4)})))
      (local.set $n (i32.const 0))
      (loop $count
        (local.set $n (i32.add ${get('$n')} ${nonZero(get('$s'))}))
        (local.set $s (i32.add ${get('$s')} ${i32(R * 4)}))
        (br_if $count (i32.lt_u ${get('$s')} ${get('$end')})))
      (if (i32.le_u (i32.shl ${get('$n')} (i32.const 3)) (i32.mul ${get('$kc')} ${i32(COMPACT_EIGHTHS)}))
        (then
          (local.set $s ${get('$dst')})
          (local.set $d ${get('$dst')})
          (local.set $l (i32.add ${get('$ix')} (i32.mul ${get('$q')} ${i32(KC * 4)})))
          (local.set $p (i32.const 0))
          (loop $move ;; branch-free: every step is written, and the write position moves on when it is non-zero
            (local.set $nz ${nonZero(get('$s'))})
            ${copyFloats(R, get('$s'), get('$d'))}
            (i32.store ${get('$l')} ${get('$p')})
            (local.set $d (i32.add ${get('$d')} (i32.mul ${get('$nz')} ${i32(R * 4)})))
            (local.set $l (i32.add ${get('$l')} (i32.shl ${get('$nz')} (i32.const 2))))
            (local.set $p (i32.add ${get('$p')} ${i32(other * 4)}))
            (local.set $s (i32.add ${get('$s')} ${i32(R * 4)}))
            (br_if $move (i32.lt_u ${get('$s')} ${get('$end')})))
          (i32.store (i32.add ${get('$cnt')} (i32.shl ${get('$q')} (i32.const 2))) ${get('$n')}))
        (else (i32.store (i32.add ${get('$cnt')} (i32.shl ${get('$q')} (i32.const 2))) (i32.const -1))))
      (local.set $dst ${get('$end')})
      (local.set $q (i32.add ${get('$q')} (i32.const 1)))
      (br $panel)))
  )`;
}

/**
 * A packing routine. For A: `R` = MR, X(i,p) at i·rs + p·cs, panels of R "rows" i, each stored
 * p-major (R floats per p). For B the same with i→j: `R` = NR, X(j,p) = B(p,j) at j·cs + p·rs,
 * so packB is packX with the strides swapped by the caller.
 */
function pack(name: string, R: number): string {
  return `
  ;; ${name}: dst[panel][p][r] = X(i0 + r, p) for the mc×kc block at $src, X(i,p) at i·$rs + p·$cs
  ;; (element strides), zero-padded to whole ${R}-wide panels and to kcPad.
  (func $${name} (export "${name}") (param $src i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32) (param $kcPad i32) (param $dst i32)
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
      (if (i32.and (i32.eq ${get('$rows')} ${i32(R)}) (i32.eq ${get('$rs')} ${i32(4)}))
        (then ;; the panel's ${R} values are contiguous for each p: vector copies
          (loop $p
        ${copyFloats(R, get('$s'), get('$d'))}
            (local.set $s (i32.add ${get('$s')} ${get('$cs')}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
            (br_if $p (i32.lt_u ${get('$d')} ${get('$end')}))))
        (else (if (i32.and (i32.eq ${get('$rows')} ${i32(R)}) (i32.eq ${get('$cs')} ${i32(4)}))
        (then ;; each row is contiguous along p: 4×4 transposes of 4 rows × 4 p, then the p tail
          (local.set $p (i32.add ${get('$dst')} (i32.mul (i32.and ${get('$kc')} ${i32(-4)}) ${i32(R * 4)})))
          (block $tdone (loop $t
            (br_if $tdone (i32.ge_u ${get('$d')} ${get('$p')}))
        ${transpose4(R)}
            (local.set $s (i32.add ${get('$s')} ${i32(16)}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 16)}))
            (br $t)))
          (block $rdone (loop $rest
            (br_if $rdone (i32.ge_u ${get('$d')} ${get('$end')}))
        ${range(R).map((r) => `(f32.store offset=${r * 4} ${get('$d')} (f32.load (i32.add ${get('$s')} (i32.mul ${get('$rs')} ${i32(r)}))))`).join('\n        ')}
            (local.set $s (i32.add ${get('$s')} ${i32(4)}))
            (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
            (br $rest))))
        (else ;; gather one row at a time; zero a partial panel first
          (if (i32.lt_s ${get('$rows')} ${i32(R)}) (then
            (loop $z
        ${copyFloats(R, null, get('$d'))}
              (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
              (br_if $z (i32.lt_u ${get('$d')} ${get('$end')})))))
          (local.set $r (i32.const 0))
          (loop $row
            (local.set $d (i32.add ${get('$dst')} (i32.shl ${get('$r')} ${i32(2)})))
            (local.set $p (i32.add ${get('$s')} (i32.mul ${get('$r')} ${get('$rs')})))
            (loop $p
              (f32.store ${get('$d')} (f32.load ${get('$p')}))
              (local.set $p (i32.add ${get('$p')} ${get('$cs')}))
              (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
              (br_if $p (i32.lt_u ${get('$d')} ${get('$end')})))
            (local.set $r (i32.add ${get('$r')} ${i32(1)}))
            (br_if $row (i32.lt_s ${get('$r')} ${get('$rows')})))))))
      ;; zero the k-padding rows p in [kc, kcPad)
      (local.set $d ${get('$end')})
      (local.set $end (i32.add ${get('$dst')} (i32.mul ${get('$kcPad')} ${i32(R * 4)})))
      (block $zdone (loop $z
        (br_if $zdone (i32.ge_u ${get('$d')} ${get('$end')}))
        ${copyFloats(R, null, get('$d'))}
        (local.set $d (i32.add ${get('$d')} ${i32(R * 4)}))
        (br $z)))
      (local.set $dst ${get('$end')})
      (local.set $i (i32.add ${get('$i')} ${i32(R)}))
      (br $panels)))
  )`;
}

/** The whole module as WAT text. */
export function gemmWat(options: GemmWatOptions): string {
  const tile = options.tile ?? TILE;
  const { MR, NR, U, MC, KC, NC } = tile;
  const job = (field: keyof typeof JOB): string => `(i32.load offset=${JOB[field] * 4} ${get('$job')})`;
  const locals = ['m', 'n', 'k', 'a', 'b', 'c', 'ldc', 'i0', 'i1', 'j0', 'j1', 'per', 'r', 'ap', 'bp', 'jc', 'pc', 'ic', 'nc', 'kc', 'kcPad', 'mc', 'skip', 'ix', 'cnt'];
  return `(module
  (import "env" "mem" (memory 1 32768${options.shared ? ' shared' : ''}))
  ${micro(options.fma, tile)}
  ${micro(options.fma, tile, 'a')}
  ${micro(options.fma, tile, 'b')}
  ${pack('packA', MR)}
  ${pack('packB', NR)}
  ${compact('compactA', MR, NR, KC)}
  ${compact('compactB', NR, MR, KC)}

  ;; macro: every MR×NR tile of C[0:mc, 0:nc] from packed Ap (mc×kcPad) and Bp (kcPad×nc); with
  ;; $skip, the compacted panels (their step lists at $ix, counts at $cnt) through their lists.
  (func $macro (export "macro") (param $ap i32) (param $bp i32) (param $c i32) (param $mc i32) (param $nc i32) (param $kcPad i32) (param $ldc i32) (param $acc i32)
    (param $skip i32) (param $ix i32) (param $cnt i32)
    (local $j i32) (local $i i32) (local $a i32) (local $cc i32) (local $panel i32) (local $steps i32)
    (loop $jr
      (local.set $a ${get('$ap')})
      (local.set $cc (i32.add ${get('$c')} (i32.shl ${get('$j')} ${i32(2)})))
      (local.set $i (i32.const 0))
      (loop $ir
        (local.set $steps (i32.const -1))
        (if ${get('$skip')} (then
          (local.set $panel (select (i32.div_u ${get('$i')} ${i32(MR)}) (i32.div_u ${get('$j')} ${i32(NR)}) (i32.eq ${get('$skip')} ${i32(SKIP.a)})))
          (local.set $steps (i32.load (i32.add ${get('$cnt')} (i32.shl ${get('$panel')} ${i32(2)}))))))
        (if (i32.lt_s ${get('$steps')} (i32.const 0))
          (then (call $micro ${get('$a')} ${get('$bp')} ${get('$cc')} ${get('$kcPad')} ${get('$ldc')} ${get('$acc')}))
          (else (if (i32.eq ${get('$skip')} ${i32(SKIP.a)})
            (then (call $microSkipA ${get('$a')} ${get('$bp')} ${get('$cc')} ${get('$steps')} ${get('$ldc')} ${get('$acc')} (i32.add ${get('$ix')} (i32.mul ${get('$panel')} ${i32(KC * 4)}))))
            (else (call $microSkipB ${get('$a')} ${get('$bp')} ${get('$cc')} ${get('$steps')} ${get('$ldc')} ${get('$acc')} (i32.add ${get('$ix')} (i32.mul ${get('$panel')} ${i32(KC * 4)})))))))
        (local.set $a (i32.add ${get('$a')} (i32.mul ${get('$kcPad')} ${i32(MR * 4)})))
        (local.set $cc (i32.add ${get('$cc')} (i32.mul ${get('$ldc')} ${i32(MR * 4)})))
        (local.set $i (i32.add ${get('$i')} ${i32(MR)}))
        (br_if $ir (i32.lt_s ${get('$i')} ${get('$mc')})))
      (local.set $bp (i32.add ${get('$bp')} (i32.mul ${get('$kcPad')} ${i32(NR * 4)})))
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
    (local.set $ix (i32.add ${get('$bp')} ${i32(KC * NC * 4)}))
    (local.set $cnt (i32.add ${get('$ix')} ${i32(skipPanels(tile) * KC * 4)}))
    (local.set $skip ${job('skip')})
    (local.set $jc ${get('$j0')})
    (loop $jcL
      (local.set $nc ${min(i32(NC), `(i32.sub ${get('$j1')} ${get('$jc')})`)})
      (local.set $pc (i32.const 0))
      (loop $pcL
        (local.set $kc ${min(i32(KC), `(i32.sub ${get('$k')} ${get('$pc')})`)})
        (local.set $kcPad (i32.and (i32.add ${get('$kc')} ${i32(U - 1)}) ${i32(-U)}))
        (call $packB (i32.add ${get('$b')} (i32.shl (i32.add (i32.mul ${get('$pc')} ${job('rsB')}) (i32.mul ${get('$jc')} ${job('csB')})) ${i32(2)}))
          ${job('csB')} ${job('rsB')} ${get('$nc')} ${get('$kc')} ${get('$kcPad')} ${get('$bp')})
        (if (i32.eq ${get('$skip')} ${i32(SKIP.b)}) (then
          (call $compactB ${get('$bp')} (i32.div_u (i32.add ${get('$nc')} ${i32(NR - 1)}) ${i32(NR)}) ${get('$kcPad')} ${get('$ix')} ${get('$cnt')})))
        (local.set $ic ${get('$i0')})
        (loop $icL
          (local.set $mc ${min(i32(MC), `(i32.sub ${get('$i1')} ${get('$ic')})`)})
          (call $packA (i32.add ${get('$a')} (i32.shl (i32.add (i32.mul ${get('$ic')} ${job('rsA')}) (i32.mul ${get('$pc')} ${job('csA')})) ${i32(2)}))
            ${job('rsA')} ${job('csA')} ${get('$mc')} ${get('$kc')} ${get('$kcPad')} ${get('$ap')})
          (if (i32.eq ${get('$skip')} ${i32(SKIP.a)}) (then
            (call $compactA ${get('$ap')} (i32.div_u (i32.add ${get('$mc')} ${i32(MR - 1)}) ${i32(MR)}) ${get('$kcPad')} ${get('$ix')} ${get('$cnt')})))
          (call $macro ${get('$ap')} ${get('$bp')} (i32.add ${get('$c')} (i32.shl (i32.add (i32.mul ${get('$ic')} ${get('$ldc')}) ${get('$jc')}) ${i32(2)}))
            ${get('$mc')} ${get('$nc')} ${get('$kcPad')} ${get('$ldc')} (i32.ne ${get('$pc')} (i32.const 0)) ${get('$skip')} ${get('$ix')} ${get('$cnt')})
          (local.set $ic (i32.add ${get('$ic')} ${i32(MC)}))
          (br_if $icL (i32.lt_s ${get('$ic')} ${get('$i1')})))
        (local.set $pc (i32.add ${get('$pc')} ${i32(KC)}))
        (br_if $pcL (i32.lt_s ${get('$pc')} ${get('$k')})))
      (local.set $jc (i32.add ${get('$jc')} ${i32(NC)}))
      (br_if $jcL (i32.lt_s ${get('$jc')} ${get('$j1')}))))
)
`;
}
