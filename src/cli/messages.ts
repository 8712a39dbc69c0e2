/** Small wording helpers shared by the commands: plurals, suggestions, warnings. */

/** `1 epoch`, `2 epochs`. */
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts 1). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The closest of `candidates` to a mistyped `word` (a prefix of exactly one, or within
 * ⌈length/3⌉ edits, at most 2), or undefined when nothing is close.
 *
 * @example didYouMean('trian', ['train', 'eval']) // 'train'
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const prefixed = candidates.filter((c) => w.length >= 2 && c.startsWith(w));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.ceil(w.length / 3)) + 1;
  for (const c of candidates) {
    const distance = editDistance(w, c.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [c, distance];
  }
  return best;
}

/**
 * Why a KL warm-up cannot take effect, or undefined when it can: with more warm-up epochs than
 * epochs, the weight on the KL term rises only to about epochs/warmup of β and never reaches it.
 *
 * @example warmupWarning(2, 1) // '--warmup 2 is longer than the run (1 epoch): the KL weight rises only to about 50% of beta'
 */
export function warmupWarning(warmupEpochs: number, epochs: number): string | undefined {
  if (warmupEpochs <= epochs) return undefined;
  return `--warmup ${warmupEpochs} is longer than the run (${plural(epochs, 'epoch')}): the KL weight rises only to about ${Math.round((100 * epochs) / warmupEpochs)}% of beta`;
}
