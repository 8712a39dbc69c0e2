import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randn } from '../../src/tensor/create.js';
import { Generator, type GeneratorState } from '../../src/tensor/random.js';

/**
 * `Generator.fillNormal` as it was first written (commit adc4089), frozen here: the stream of
 * normal draws is part of reproducibility (seeded runs, resumed checkpoints, recorded results), so
 * any faster version must give these very bits. It works on a copy of a generator's state and
 * returns the draws and the state after them.
 */
function frozenFillNormal(from: GeneratorState, out: Float32Array | Float64Array): GeneratorState {
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  let spare = from.spare;
  let i = 0;
  if (spare !== null && out.length > 0) {
    out[i++] = spare;
    spare = null;
  }
  let [s0, s1, s2, s3] = from.s as [number, number, number, number];
  const words = [0, 0, 0, 0];
  while (i < out.length) {
    let u: number, v: number, r: number;
    do {
      for (let w = 0; w < 4; w++) {
        words[w] = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        const t = (s1 << 9) >>> 0;
        s2 = (s2 ^ s0) >>> 0;
        s3 = (s3 ^ s1) >>> 0;
        s1 = (s1 ^ s2) >>> 0;
        s0 = (s0 ^ s3) >>> 0;
        s2 = (s2 ^ t) >>> 0;
        s3 = rotl(s3, 11);
      }
      u = 2 * (((words[0]! >>> 5) * 67108864 + (words[1]! >>> 6)) / 9007199254740992) - 1;
      v = 2 * (((words[2]! >>> 5) * 67108864 + (words[3]! >>> 6)) / 9007199254740992) - 1;
      r = u * u + v * v;
    } while (r >= 1 || r === 0);
    const m = Math.sqrt((-2 * Math.log(r)) / r);
    out[i++] = u * m;
    if (i < out.length) out[i++] = v * m;
    else spare = v * m;
  }
  return { s: [s0, s1, s2, s3], spare };
}

/** Where two arrays of draws first differ bit for bit (Object.is: +0 and −0 differ), or −1. */
function firstBitDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** FNV-1a over the 64 bits of each draw (as float64): one changed bit changes the digest. */
function digest(xs: Float32Array | Float64Array): string {
  const words = new Uint32Array(new Float64Array(xs).buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A xoshiro128** state whose next four `nextUint32()` words are `words`, found by solving the
 * linear system over GF(2) (the state update is linear; each output word is an invertible
 * function of s[1]): it lets a test reach the rare branches (r = 0, r = 1, u = −1) on purpose.
 */
function stateGiving(words: readonly number[]): number[] {
  type Word = bigint[]; // bit b: the state bits (bit 32·w + c = bit c of s[w]) that xor to it
  let s: Word[] = [0, 1, 2, 3].map((w) => Array.from({ length: 32 }, (_, b) => 1n << BigInt(32 * w + b)));
  const xor = (a: Word, b: Word): Word => a.map((m, i) => m ^ b[i]!);
  const shl = (a: Word, k: number): Word => a.map((_, i) => (i >= k ? a[i - k]! : 0n));
  const rotl = (a: Word, k: number): Word => a.map((_, i) => a[(i - k + 32) % 32]!);
  const rows: bigint[] = []; // one equation per bit: its state mask, and the wanted bit at bit 128
  for (const word of words) {
    // the one s[1] that gives `word` = imul(rotl(imul(s1, 5), 7), 9)
    const y = Math.imul(word, 0x38e38e39); // 9⁻¹ mod 2^32
    const s1 = Math.imul((y >>> 7) | (y << 25), 0xcccccccd) >>> 0; // 5⁻¹ mod 2^32
    for (let b = 0; b < 32; b++) rows.push(s[1]![b]! | (BigInt((s1 >>> b) & 1) << 128n));
    const [s0, s1Word, s2, s3] = s as [Word, Word, Word, Word];
    const n2 = xor(s2, s0);
    const n3 = xor(s3, s1Word);
    s = [xor(s0, n3), xor(s1Word, n2), xor(n2, shl(s1Word, 9)), rotl(n3, 11)];
  }
  const pivots: number[] = [];
  for (let c = 0; c < 128 && pivots.length < rows.length; c++) {
    const r = pivots.length;
    const p = rows.findIndex((row, i) => i >= r && ((row >> BigInt(c)) & 1n) === 1n);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p]!, rows[r]!];
    for (let i = 0; i < rows.length; i++) if (i !== r && ((rows[i]! >> BigInt(c)) & 1n) === 1n) rows[i]! ^= rows[r]!;
    pivots.push(c);
  }
  if (rows.slice(pivots.length).some((row) => row !== 0n)) throw new Error(`stateGiving: no state gives the words ${words}`);
  const state = [0, 0, 0, 0];
  pivots.forEach((c, i) => {
    if ((rows[i]! >> 128n) & 1n) state[c >> 5] = (state[c >> 5]! | (1 << (c & 31))) >>> 0;
  });
  return state;
}

describe('Generator.fillNormal: the stream of normal draws does not change', () => {
  it('matches the frozen first version bit for bit over many seeds, lengths, dtypes and spare states', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.boolean()), { minLength: 1, maxLength: 8 }),
        (seed, calls) => {
          const rng = new Generator(seed);
          let state = rng.getState();
          for (const [n, float32] of calls) {
            const got = float32 ? new Float32Array(n) : new Float64Array(n);
            const want = float32 ? new Float32Array(n) : new Float64Array(n);
            rng.fillNormal(got);
            state = frozenFillNormal(state, want);
            expect(firstBitDifference(got, want)).toBe(-1);
            expect(rng.getState()).toEqual(state); // the words and the spare, as float64
          }
        },
      ),
      { numRuns: 300, seed: 12 },
    );
  });

  it('matches the frozen first version on the rare branches: r = 0 and r = 1 rejected, u = −1 + 2^−52, u = 0, u = 1 − 2^−52', () => {
    // Four words make one attempt: u from the top 27 + 26 bits of the first two, v from the last two.
    const cases: [string, number[]][] = [
      ['u = −1, v = 0: r = 1, rejected', [0, 0, 2 ** 31, 0]],
      ['u = v = 0: r = 0, rejected', [2 ** 31, 0, 2 ** 31, 0]],
      ['u = 0, v = 0.5', [2 ** 31, 0, 2 ** 31 + 2 ** 30, 0]],
      ['u = −1 + 2^−52, v = 2^−52', [0, 64, 2 ** 31, 64]],
      ['u = 1 − 2^−52, v = 0', [2 ** 32 - 1, 2 ** 32 - 1, 2 ** 31, 0]],
    ];
    for (const [label, words] of cases) {
      const start: GeneratorState = { s: stateGiving(words), spare: null };
      const check = new Generator().setState(start);
      expect([check.nextUint32(), check.nextUint32(), check.nextUint32(), check.nextUint32()], label).toEqual(words);
      for (const n of [1, 2, 5]) {
        for (const float32 of [false, true]) {
          const got = float32 ? new Float32Array(n) : new Float64Array(n);
          const want = float32 ? new Float32Array(n) : new Float64Array(n);
          const rng = new Generator().setState(start);
          rng.fillNormal(got);
          const end = frozenFillNormal(start, want);
          expect(firstBitDifference(got, want), `${label}, n = ${n}`).toBe(-1);
          expect(rng.getState(), `${label}, n = ${n}`).toEqual(end);
        }
      }
    }
    // the first attempt's draws themselves, where it is accepted: u·m with m = sqrt(−2 ln r / r)
    const first = (words: number[]): number[] => {
      const out = new Float64Array(2);
      new Generator().setState({ s: stateGiving(words), spare: null }).fillNormal(out);
      return Array.from(out);
    };
    const m = Math.sqrt((-2 * Math.log(0.25)) / 0.25);
    expect(first([2 ** 31, 0, 2 ** 31 + 2 ** 30, 0])).toEqual([0, 0.5 * m]);
    expect(Object.is(first([2 ** 31, 0, 2 ** 31 + 2 ** 30, 0])[0], 0)).toBe(true); // +0, not −0
  });

  it('matches the frozen first version over long fills that start from a state restored with a spare', () => {
    for (const seed of [0, 7, 2 ** 32 - 1, 2 ** 32 + 5]) {
      const rng = new Generator(seed);
      rng.normal(); // leaves a spare
      const start = rng.getState();
      expect(start.spare).not.toBeNull();
      const got = new Float64Array(50_001);
      const want = new Float64Array(50_001);
      new Generator().setState(start).fillNormal(got);
      const end = frozenFillNormal(start, want);
      expect(firstBitDifference(got, want)).toBe(-1);
      rng.fillNormal(got);
      expect(rng.getState()).toEqual(end);
    }
  });

  it('gives the values recorded from the first version (so that the frozen copy cannot drift with it)', () => {
    const first = (seed: number): number[] => {
      const out = new Float64Array(6);
      new Generator(seed).fillNormal(out);
      return Array.from(out);
    };
    expect(first(0)).toEqual([0.12177618600477014, 0.49342493394909925, -0.5381877552332646, 1.6753298369058043, -0.8954710778463916, 1.9756085313260416]);
    expect(first(42)).toEqual([0.31875784963858494, -0.7706160167419408, 0.15178267621950975, -0.12624145471928355, -0.3257678439811117, 3.249048507410778]);
    // 3 draws (leaving a spare), 100,003 float64 draws, 4,097 float32 draws: digests and end states.
    const recorded: [number, string, string, GeneratorState][] = [
      [0, '08ea2ecc', '4b92cebf', { s: [1532527276, 379732322, 943811606, 3939173445], spare: 1.1136414812763957 }],
      [1, '8b120be7', '56cc6996', { s: [2068445195, 4105442676, 2706573774, 2843558143], spare: -0.2504306437291742 }],
      [42, '6472005b', 'c85fc41f', { s: [1174730326, 559249154, 1522705156, 476246515], spare: 0.019072659950051113 }],
      [2 ** 40 + 7, 'd8a5ea5c', '8ae83581', { s: [2162451501, 4267269727, 345348049, 4138683730], spare: 1.4398609117239716 }],
      [-1, '07ea7ebc', '240c480e', { s: [4051662791, 1676594241, 1993878499, 3732986528], spare: 0.268720274783443 }],
    ];
    for (const [seed, float64Digest, float32Digest, endState] of recorded) {
      const rng = new Generator(seed);
      rng.fillNormal(new Float64Array(3));
      const f64 = new Float64Array(100_003);
      rng.fillNormal(f64);
      const f32 = new Float32Array(4097);
      rng.fillNormal(f32);
      expect([digest(f64), digest(f32), rng.getState()]).toEqual([float64Digest, float32Digest, endState]);
    }
  });

  it('randn gives the same stream as the frozen first version, in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const rng = new Generator(2026);
      const got = randn([7, 11, 13], { dtype, rng }).data;
      const want = dtype === 'float32' ? new Float32Array(7 * 11 * 13) : new Float64Array(7 * 11 * 13);
      expect(frozenFillNormal(new Generator(2026).getState(), want).spare).toBe(rng.getState().spare);
      expect(firstBitDifference(got, want)).toBe(-1);
    }
  });
});
