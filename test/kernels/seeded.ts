/** Small numeric helpers the kernel tests share (also bundled into the browser pages). */

/** mulberry32: a tiny seeded generator of uniforms in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** γ_k = k·u/(1 − k·u): the bound on the relative rounding error of a k-term sum at unit roundoff u. */
export const gamma = (k: number, u: number): number => (k * u) / (1 - k * u);
