import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sparseWat } from '../../src/kernels/wasm/gemm-sparse.wat.js';
import { TILE } from '../../src/kernels/wasm/gemm.wat.js';
import { assembleWat } from '../../src/kernels/wasm/wat.js';
import { fcOptions } from '../helpers.js';
import { rng } from './seeded.js';

/**
 * $listRows (gemm-sparse.wat.ts), called directly: for every row of a block, in every layout its
 * fast paths take (cs = 1: groups of contiguous steps; rs = 1: 4 rows at once) and a strided one,
 * the list of non-zero steps (entries [p·NR·4, bits], in order of p) and the counts equal a plain
 * reference. ±0 are zeros; NaN, infinities and denormals are listed with their bits.
 */
const { NR, MC, KC } = TILE;

type ListRows = (src: number, rs: number, cs: number, mc: number, kc: number, lists: number, counts: number) => void;

const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 });
const wat = `(module (import "env" "memory" (memory 1 64)) ${sparseWat(false, TILE)}
  (func (export "listRows") (param i32 i32 i32 i32 i32 i32 i32)
    (call $listRows (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5) (local.get 6))))`;
const listRows = (new WebAssembly.Instance(new WebAssembly.Module(assembleWat(wat)), { env: { memory } }).exports as { listRows: ListRows }).listRows;

const LISTS = 1 << 20;
const COUNTS = LISTS + MC * KC * 8;
const SRC = COUNTS + (MC + 64) * 4;
const SENTINEL = 0x5a5a5a5a;

/** Bits that are not zeros: NaNs (quiet, signalling, negative), infinities, denormals, −1, the largest finite. */
const SPECIAL = [0x7fc00000, 0xffc00001, 0x7f800001, 0x7f800000, 0xff800000, 0x00000001, 0x80000001, 0xbf800000, 0x7f7fffff];

/**
 * n floats (as bits) in runs of 1-24: a run is all ±0 with probability `zeroRuns`, otherwise each
 * element is ±0 with probability 0.3, else a special value (1 in 8) or a uniform in [-1, 1).
 */
function values(next: () => number, n: number, zeroRuns: number): Uint32Array {
  const bits = new Uint32Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < n; ) {
    const run = 1 + Math.floor(next() * 24);
    const zeroRun = next() < zeroRuns;
    for (const end = Math.min(n, i + run); i < end; i++) {
      if (zeroRun || next() < 0.3) bits[i] = next() < 0.5 ? 0 : 0x80000000;
      else if (next() < 0.125) bits[i] = SPECIAL[Math.floor(next() * SPECIAL.length)]!;
      else {
        f[0] = 2 * next() - 1;
        bits[i] = u[0]!;
      }
    }
  }
  return bits;
}

describe('wasm $listRows', () => {
  it('lists the non-zero steps of every row, in order, as the plain reference does, in every layout', () => {
    const dim = (max: number) => fc.oneof(fc.constantFrom(1, 3, 4, 5, 8, 15, 16, 17, 33, max - 1, max), fc.integer({ min: 1, max }));
    const layout = fc.constantFrom('cs = 1', 'rs = 1', 'strided');
    fc.assert(
      fc.property(dim(MC), dim(KC), layout, fc.nat(7), fc.constantFrom(0, 0.3, 0.7, 0.95, 1), fc.nat(), (mc, kc, kind, pad, zeroRuns, seed) => {
        const next = rng(seed);
        // element (r, p) at r·rs + p·cs floats from the block's start, `pad` floats past it
        const [rs, cs] = kind === 'cs = 1' ? [kc + pad, 1] : kind === 'rs = 1' ? [1, mc + pad] : [2 * kc + pad, 2];
        const span = (mc - 1) * rs + (kc - 1) * cs + 1;
        const bits = values(next, span + pad, zeroRuns);
        const words = new Uint32Array(memory.buffer);
        words.fill(SENTINEL, LISTS >> 2, SRC >> 2);
        words.set(bits, SRC >> 2);
        listRows(SRC + pad * 4, rs, cs, mc, kc, LISTS, COUNTS);
        for (let r = 0; r < mc; r++) {
          const want: number[] = [];
          for (let p = 0; p < kc; p++) {
            const v = bits[pad + r * rs + p * cs]!;
            if ((v & 0x7fffffff) !== 0) want.push(p * NR * 4, v);
          }
          const count = words[(COUNTS >> 2) + r]!;
          const got = Array.from(words.subarray((LISTS >> 2) + r * KC * 2, (LISTS >> 2) + r * KC * 2 + 2 * count));
          expect({ row: r, count, entries: got }).toEqual({ row: r, count: want.length / 2, entries: want });
        }
        // nothing written past the mc rows' lists and counts
        if (mc < MC) expect(words[(LISTS + mc * KC * 8) >> 2]).toBe(SENTINEL);
        expect(words[(COUNTS + mc * 4) >> 2]).toBe(SENTINEL);
        expect(words.subarray(SRC >> 2, (SRC >> 2) + pad + span).every((w, i) => w === bits[i])).toBe(true);
      }),
      fcOptions(),
    );
  });
});
