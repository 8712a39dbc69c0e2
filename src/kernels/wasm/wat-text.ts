/**
 * Small builders of WebAssembly text shared by the matmul kernel's generators (`gemm.wat.ts`,
 * `gemm-sparse.wat.ts`): what they print is what runs (see `wat.ts`).
 */

/** [0, 1, …, n − 1]. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** `(local.get x)`. */
export const get = (x: string): string => `(local.get ${x})`;
/** `(i32.const v)`. */
export const i32 = (v: number): string => `(i32.const ${v})`;

/** i8x16.shuffle of two f32x4 picking 32-bit lanes `l` (0-3 from x, 4-7 from y). */
export const shuffle32 = (l: number[], x: string, y: string): string =>
  `(i8x16.shuffle ${l.flatMap((lane) => [0, 1, 2, 3].map((byte) => lane * 4 + byte)).join(' ')} ${x} ${y})`;

/**
 * A 4×4 float transpose in registers, as WAT lines: rows `load(0..3)` (v128 expressions) into
 * $v0..$v3, 8 shuffles through $t0..$t3, and `store(q, column q)` for the 4 columns. The function
 * it goes into declares the eight v128 locals.
 */
export function transpose4x4(load: (row: number) => string, store: (column: number, value: string) => string): string[] {
  const pair = (x: string, y: string, lanes: number[]): string => shuffle32(lanes, get(x), get(y));
  return [
    ...range(4).map((q) => `(local.set $v${q} ${load(q)})`),
    `(local.set $t0 ${pair('$v0', '$v1', [0, 4, 1, 5])}) ;; r0c0 r1c0 r0c1 r1c1`,
    `(local.set $t1 ${pair('$v2', '$v3', [0, 4, 1, 5])}) ;; r2c0 r3c0 r2c1 r3c1`,
    `(local.set $t2 ${pair('$v0', '$v1', [2, 6, 3, 7])}) ;; r0c2 r1c2 r0c3 r1c3`,
    `(local.set $t3 ${pair('$v2', '$v3', [2, 6, 3, 7])}) ;; r2c2 r3c2 r2c3 r3c3`,
    store(0, pair('$t0', '$t1', [0, 1, 4, 5])),
    store(1, pair('$t0', '$t1', [2, 3, 6, 7])),
    store(2, pair('$t2', '$t3', [0, 1, 4, 5])),
    store(3, pair('$t2', '$t3', [2, 3, 6, 7])),
  ];
}
