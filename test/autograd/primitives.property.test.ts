import { describe, expect, it } from 'vitest';
import { derivatives } from '../../src/autograd/derivatives.js';
import { cases } from './cases.js';
import { checkOp, RUNS } from '../helpers.js';

/**
 * One fast-check gradcheck property per differentiable primitive (cases in cases.ts). The last
 * test fails at run time if the derivative table and the case table ever drift apart.
 */

describe('every differentiable primitive passes gradcheck in float64 on random shapes', () => {
  for (const [name, opCase] of Object.entries(cases)) {
    it(`${name}: forward matches its reference and gradcheck passes (${RUNS} runs)`, () => checkOp(opCase));
  }

  it('the derivative table and the property table name the same primitives', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.keys(derivatives).sort());
  });
});
