import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Conv2dOptions, conv2d, convTranspose2d, type ConvTranspose2dOptions } from '../../src/autograd/ops.js';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * conv2d and convTranspose2d against PyTorch's float64 results recorded in
 * test/fixtures/conv-torch.json (30 drawn configurations per op: strides 1-3, paddings 0-2,
 * dilations 1-2, groups 1-2, 1x1 kernels and kernels as large as the image): the values, and the
 * gradients of sum(out ⊙ g) in x, the weight and the bias for the recorded cotangent g, each
 * within 1e-10. Regenerate the fixture (needs torch) with
 *
 *   /usr/bin/python3 bench/peers/conv_reference.py > test/fixtures/conv-torch.json
 */

interface Recorded {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  op: 'conv2d' | 'convTranspose2d';
  options: ConvTranspose2dOptions & { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number };
  x: Recorded;
  weight: Recorded;
  bias: number[] | null;
  cotangent: number[];
  out: Recorded;
  gradX: number[];
  gradWeight: number[];
  gradBias?: number[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/conv-torch.json', import.meta.url), 'utf8')) as { torch: string; cases: FixtureCase[] };
const TOLERANCE = 1e-10;

const leaf = (data: number[], shape: number[]): Tensor => new Tensor(Float64Array.from(data), shape, { requiresGrad: true });

/** max |a − b| over two equally long lists (Infinity when the lengths differ). */
function worstDiff(got: ArrayLike<number>, want: readonly number[]): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

/** Runs one recorded case on elbo: the worst |diff| of the output and of each gradient. */
function replay(c: FixtureCase): { shape: readonly number[]; out: number; gradX: number; gradWeight: number; gradBias: number } {
  const x = leaf(c.x.data, c.x.shape);
  const weight = leaf(c.weight.data, c.weight.shape);
  const bias = c.bias ? leaf(c.bias, [c.bias.length]) : null;
  const out = c.op === 'conv2d' ? conv2d(x, weight, bias, c.options as Conv2dOptions) : convTranspose2d(x, weight, bias, c.options);
  out.backward(new Tensor(Float64Array.from(c.cotangent), c.out.shape));
  return {
    shape: out.shape,
    out: worstDiff(out.data, c.out.data),
    gradX: worstDiff(x.grad!.data, c.gradX),
    gradWeight: worstDiff(weight.grad!.data, c.gradWeight),
    gradBias: bias ? worstDiff(bias.grad!.data, c.gradBias!) : 0,
  };
}

describe(`conv2d and convTranspose2d equal PyTorch ${fixture.torch}'s float64 values and gradients (recorded)`, () => {
  for (const op of ['conv2d', 'convTranspose2d'] as const) {
    const cases = fixture.cases.filter((c) => c.op === op);
    it(`${op}: ${cases.length} drawn configurations, values and gradients within ${TOLERANCE}`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(30);
      let worst = 0;
      for (const c of cases) {
        const result = replay(c);
        const label = `${op} x ${JSON.stringify(c.x.shape)} weight ${JSON.stringify(c.weight.shape)} ${JSON.stringify(c.options)}`;
        expect(result.shape, label).toEqual(c.out.shape);
        for (const what of ['out', 'gradX', 'gradWeight', 'gradBias'] as const) {
          expect(result[what], `${label}: ${what}`).toBeLessThanOrEqual(TOLERANCE);
          worst = Math.max(worst, result[what]);
        }
      }
      console.log(`${op}: worst |diff| against PyTorch over ${cases.length} configurations: ${worst.toExponential(2)}`);
    });
  }

  it('the fixture covers the corners: strides 1-3, paddings 0-2, dilations 1-2, groups 1-2, 1x1 and whole-image kernels, outputPadding', () => {
    const all = fixture.cases;
    const values = (pick: (c: FixtureCase) => number[]) => [...new Set(all.flatMap(pick))].sort();
    expect(values((c) => c.options.stride)).toEqual([1, 2, 3]);
    expect(values((c) => c.options.padding)).toEqual([0, 1, 2]);
    expect(values((c) => c.options.dilation)).toEqual([1, 2]);
    expect(values((c) => [c.options.groups])).toEqual([1, 2]);
    expect(all.some((c) => c.weight.shape[2] === 1 && c.weight.shape[3] === 1)).toBe(true);
    expect(all.some((c) => c.op === 'conv2d' && c.weight.shape[2] === c.x.shape[2] && c.weight.shape[3] === c.x.shape[3])).toBe(true);
    expect(all.some((c) => c.op === 'convTranspose2d' && (c.options.outputPadding as readonly number[]).some((p) => p > 0))).toBe(true);
    expect(all.some((c) => c.bias === null)).toBe(true);
  });
});
