import type fc from 'fast-check';
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

export { arbShape, arbBroadcastPair, arbTensor, real, awayFromZero, broadcastReference, type OpCase } from '../src/testing/properties.js';

/** `checkOp` of elbo/testing with the suite's runs and seed; `parameters` override them (a test that expects a failure stops early). */
export const checkOp = (opCase: OpCase, parameters: fc.Parameters<unknown> = {}): void => check(opCase, { ...fcOptions(), ...parameters });
