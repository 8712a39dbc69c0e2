import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkOp as check, type OpCase } from '../src/testing/properties.js';

/**
 * Shared test helpers. Every op is proven the same way, by `checkOp` (src/testing, public as
 * `elbo/testing`): a fast-check property that draws shapes and in-domain values, runs the op in
 * float64, compares its forward result with a plain-JavaScript reference where one is given,
 * and gradchecks and gradgradchecks every input. Here it runs with the suite's run count and seed.
 */

/** fast-check runs per property: 50 by default, ELBO_FC_RUNS to change, ELBO_SLOW=1 for 500. */
export const RUNS = Number(process.env.ELBO_FC_RUNS ?? (process.env.ELBO_SLOW ? 500 : 50));
/** A fixed seed keeps CI reproducible; set ELBO_FC_SEED to explore others. */
export const SEED = Number(process.env.ELBO_FC_SEED ?? 20261121);

export const fcOptions = (): fc.Parameters<unknown> => ({ numRuns: RUNS, seed: SEED });

/** A float as text that tells −0 from +0 (`${-0}` is "0"). */
const showFloat = (v: number | undefined): string => (Object.is(v, -0) ? '-0' : String(v));

/**
 * Expects `out` to hold the same floats as `want`, element by element under Object.is (NaN equals
 * NaN, −0 differs from +0), failing on the first index that differs with both values shown.
 */
export function expectSameFloats(out: ArrayLike<number>, want: ArrayLike<number>, label: string | ((i: number) => string) = ''): void {
  const at = (i: number): string => `${typeof label === 'string' ? label : label(i)}[${i}]`;
  expect(out.length, `${at(0)}: the lengths`).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(out[i], want[i])) expect(`${at(i)} ${showFloat(out[i])}`).toBe(`${at(i)} ${showFloat(want[i])}`);
}

export { arbShape, arbBroadcastPair, arbTensor, real, awayFromZero, broadcastReference, type OpCase } from '../src/testing/properties.js';

/** `checkOp` of elbo/testing with the suite's runs and seed; `parameters` override them (a test that expects a failure stops early). */
export const checkOp = (opCase: OpCase, parameters: fc.Parameters<unknown> = {}): void => check(opCase, { ...fcOptions(), ...parameters });
