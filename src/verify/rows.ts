/**
 * One checked statement of `elbo verify`: two numbers computed two independent ways, and the
 * relation they must satisfy within a stated tolerance.
 */
export interface VerifyRow {
  /** The section it belongs to (`ppca`, `linear-vae`, `quadrature`, `estimators`). */
  section: string;
  /** What is compared, in words: `lhs ⋈ rhs`. */
  name: string;
  lhs: number;
  rhs: number;
  /** lhs − rhs. */
  diff: number;
  /** '=': |diff| ≤ tolerance; '≤': diff ≤ tolerance; '≥': diff ≥ −tolerance; '<'/'>': strict, tolerance unused. */
  relation: Relation;
  tolerance: number;
  pass: boolean;
  /** How the tolerance was chosen, or what the numbers mean. */
  note?: string;
}

/** How lhs must relate to rhs. */
export type Relation = '=' | '≤' | '≥' | '<' | '>';

/** Builds a row and decides `pass` from the relation and the tolerance. */
export function row(section: string, name: string, lhs: number, relation: Relation, rhs: number, tolerance: number, note?: string): VerifyRow {
  const diff = lhs - rhs;
  const ok = { '=': Math.abs(diff) <= tolerance, '≤': diff <= tolerance, '≥': diff >= -tolerance, '<': diff < 0, '>': diff > 0 }[relation];
  return { section, name, lhs, rhs, diff, relation, tolerance, pass: Number.isFinite(diff) && ok, ...(note === undefined ? {} : { note }) };
}

/** Mean and standard error of the mean of a sample. */
export function meanAndStandardError(values: ArrayLike<number>): { mean: number; se: number; sd: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]! / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  const sd = Math.sqrt(ss / Math.max(1, n - 1));
  return { mean, se: sd / Math.sqrt(n), sd };
}
