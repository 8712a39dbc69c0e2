/**
 * Expectation–maximization as coordinate ascent on the ELBO, for any mixture p(x) = Σₖ πₖ p(x|k).
 *
 * With a discrete latent k and any q(k|xₙ) (a row of responsibilities), the ELBO of the data set is
 *
 *   F(q, θ) = Σₙ Σₖ q(k|xₙ) [ln πₖ + ln p(xₙ|k) − ln q(k|xₙ)] = Σₙ ln p(xₙ) − Σₙ KL(q(·|xₙ) ‖ p(·|xₙ)).
 *
 * The E-step sets q to the exact posterior p(k|xₙ) ∝ πₖ p(xₙ|k): the KL is 0 and F = ln p(X).
 * The M-step maximizes F over θ with q fixed. So ln p(X) = F after an E-step ≤ F after the next
 * M-step ≤ ln p(X) after it: the log-likelihood never decreases. With a q that is not the
 * posterior, the M-step still raises F, but ln p(X) may fall (the counter-example in
 * src/verify/mixtures.ts).
 */

/** Responsibilities below this are rounded to 0 by {@link exactPosterior}. */
export const MIN_RESPONSIBILITY = 1e-12;

/** The joint log-probabilities ln πₖ + ln p(xₙ|k) of n examples under K components, [n, K] row-major. */
export interface LogJoint {
  values: Float64Array;
  n: number;
  k: number;
}

/** Responsibilities q(k|xₙ), [n, K] row-major, each row summing to 1. */
export interface Responsibilities {
  values: Float64Array;
  n: number;
  k: number;
}

/** ln Σₖ e^{aₖ} of row `row` of an [n, K] table, stable; −∞ when every entry is −∞. */
export function rowLogSumExp(values: Float64Array, row: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, values[row * k + j]!);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(values[row * k + j]! - max);
  return max + Math.log(sum);
}

/** ln p(xₙ) = ln Σₖ πₖ p(xₙ|k) for every example. */
export function logMarginals(joint: LogJoint): Float64Array {
  const out = new Float64Array(joint.n);
  for (let i = 0; i < joint.n; i++) out[i] = rowLogSumExp(joint.values, i, joint.k);
  return out;
}

/** Σₙ ln p(xₙ): the data set's log-likelihood in nats. */
export function totalLogLikelihood(joint: LogJoint): number {
  return logMarginals(joint).reduce((s, v) => s + v, 0);
}

/**
 * The exact E-step: q(k|xₙ) = p(k|xₙ) = exp(ln πₖ p(xₙ|k) − ln p(xₙ)), except that
 * responsibilities below {@link MIN_RESPONSIBILITY} are set to 0 and the row renormalized. That
 * moves q from the posterior by KL(q ‖ p(k|xₙ)) = −ln(1 − dropped mass) ≤ K·1e-12 nats, and keeps
 * every nonzero responsibility ≥ 1e-12: a smaller one could make a maximum-likelihood M-step
 * round a Bernoulli μ to exactly 0 or 1 while q still weighs an image with that pixel the other
 * way, and q · ln 0 = −∞ where the true term is ~0.
 */
export function exactPosterior(joint: LogJoint): Responsibilities {
  const { n, k } = joint;
  const values = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const lse = rowLogSumExp(joint.values, i, k);
    let kept = 0;
    for (let j = 0; j < k; j++) {
      const r = Math.exp(joint.values[i * k + j]! - lse);
      values[i * k + j] = r < MIN_RESPONSIBILITY ? 0 : r;
      kept += values[i * k + j]!;
    }
    for (let j = 0; j < k; j++) values[i * k + j]! /= kept;
  }
  return { values, n, k };
}

/**
 * Each example's term of F: Fₙ(q, θ) = Σₖ q(k|xₙ) [ln πₖ p(xₙ|k) − ln q(k|xₙ)] ≤ ln p(xₙ), with
 * 0 · ln 0 = 0 (a component q gives no mass to contributes nothing, even when its joint is −∞).
 */
export function mixtureElboPerExample(joint: LogJoint, q: Responsibilities): Float64Array {
  if (joint.n !== q.n || joint.k !== q.k) throw new RangeError(`mixtureElbo: joint is [${joint.n}, ${joint.k}] but q is [${q.n}, ${q.k}]`);
  const out = new Float64Array(q.n);
  for (let i = 0; i < q.values.length; i++) {
    const r = q.values[i]!;
    if (r > 0) out[Math.floor(i / q.k)]! += r * (joint.values[i]! - Math.log(r));
  }
  return out;
}

/** F(q, θ) = Σₙ Fₙ(q, θ): the data set's ELBO in nats. */
export const mixtureElbo = (joint: LogJoint, q: Responsibilities): number => mixtureElboPerExample(joint, q).reduce((s, v) => s + v, 0);

/** An E-step: new responsibilities from the joint (and the previous q, for damped variants). */
export type EStep = (joint: LogJoint, previous: Responsibilities | undefined) => Responsibilities;

/**
 * A damped E-step, q ← (1 − rate)·q_old + rate·p(k|x): NOT exact, so it leaves a gap
 * F < ln p(X) (rate = 1 is the exact E-step). Used to show that the verify rows catch it.
 */
export function dampedEStep(rate: number): EStep {
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`dampedEStep: rate must be in (0, 1], got ${rate}`);
  return (joint, previous) => {
    const exact = exactPosterior(joint);
    if (!previous) return exact;
    const values = exact.values.map((p, i) => (1 - rate) * previous.values[i]! + rate * p);
    return { values, n: exact.n, k: exact.k };
  };
}

/** A mixture family: how to score data under a model, and the M-step that maximizes F for fixed q. */
export interface MixtureFamily<Model, Data> {
  logJoint(model: Model, data: Data): LogJoint;
  mStep(data: Data, q: Responsibilities, previous: Model): Model;
}

/** One EM iteration's numbers (all totals over the data set, in nats). */
export interface EmIteration {
  /** F(q, θ) right after the E-step, and ln p(X|θ) at that θ (equal when the E-step is exact). */
  elboAfterE: number;
  logLikelihoodBefore: number;
  /** The largest |Fₙ(q, θ) − ln p(xₙ|θ)| over the examples right after the E-step (0 when it is exact). */
  worstGapAfterE: number;
  /** F(q, θ') after the M-step, and ln p(X|θ') at the new θ'. */
  elboAfterM: number;
  logLikelihoodAfter: number;
}

/** Options of {@link fitEm}. */
export interface EmOptions {
  iterations: number;
  /** The E-step (default: the exact posterior). */
  eStep?: EStep;
  /** Stop early when ln p(X) rises by less than this per iteration (default 0: run all iterations). */
  tolerance?: number;
}

/** Runs EM from `initial`; returns the fitted model, the last q and every iteration's F and ln p(X). */
export function fitEm<Model, Data>(
  family: MixtureFamily<Model, Data>,
  data: Data,
  initial: Model,
  options: EmOptions,
): { model: Model; q: Responsibilities; history: EmIteration[] } {
  const eStep = options.eStep ?? ((joint: LogJoint) => exactPosterior(joint));
  let model = initial;
  let joint = family.logJoint(model, data);
  let q: Responsibilities | undefined;
  const history: EmIteration[] = [];
  for (let it = 0; it < options.iterations; it++) {
    q = eStep(joint, q);
    const logPx = logMarginals(joint);
    const perExample = mixtureElboPerExample(joint, q);
    const logLikelihoodBefore = logPx.reduce((s, v) => s + v, 0);
    const elboAfterE = perExample.reduce((s, v) => s + v, 0);
    const worstGapAfterE = perExample.reduce((worst, f, i) => Math.max(worst, Math.abs(f - logPx[i]!)), 0);
    model = family.mStep(data, q, model);
    joint = family.logJoint(model, data);
    const logLikelihoodAfter = totalLogLikelihood(joint);
    history.push({ elboAfterE, logLikelihoodBefore, worstGapAfterE, elboAfterM: mixtureElbo(joint, q), logLikelihoodAfter });
    if (options.tolerance !== undefined && options.tolerance > 0 && logLikelihoodAfter - logLikelihoodBefore < options.tolerance) break;
  }
  return { model, q: q ?? exactPosterior(joint), history };
}
