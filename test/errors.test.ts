import { describe, expect, it } from 'vitest';
import * as ops from '../src/autograd/ops.js';
import { gradcheck, GradcheckError } from '../src/autograd/gradcheck.js';
import { ones, tensor, zeros } from '../src/tensor/create.js';
import { DTypeError } from '../src/tensor/dtype.js';
import { ShapeError } from '../src/tensor/shape.js';

/** Every bad input ends in a clear error naming the op, the shapes and the values. */
describe('clear errors', () => {
  it('matmul names both shapes when inner dimensions differ', () => {
    expect(() => ops.matmul(zeros([128, 784]), zeros([400, 784]))).toThrow(new ShapeError('matmul: inner dimensions differ: [128, 784] @ [400, 784]'));
    expect(() => ops.matmul(zeros([]), zeros([3]))).toThrow('matmul: both operands need at least 1 axis, got [] @ [3]');
    expect(() => ops.matmul(zeros([2, 2, 3]), zeros([3, 3, 4]))).toThrow('matmul: batch dimensions do not broadcast: [2, 2, 3] @ [3, 3, 4]');
    expect(() => ops.matmulPrim(zeros([2, 3]), zeros([4, 2]), false, true)).toThrow('matmul: inner dimensions differ: [2, 3] @ [4, 2]ᵀ');
  });

  it('gaussianNll names itself (not the sub inside it) when shapes do not broadcast', () => {
    expect(() => ops.gaussianNll(zeros([2, 3]), zeros([2, 4]), zeros([2, 3]))).toThrow(
      new ShapeError('gaussianNll (x and mu): cannot broadcast [2, 3] with [2, 4] (axis 1: 3 vs 4)'),
    );
    expect(() => ops.gaussianNll(zeros([2, 3]), zeros([2, 3]), zeros([5, 3]))).toThrow(
      'gaussianNll (x and logVar): cannot broadcast [2, 3] with [5, 3] (axis 0: 2 vs 5)',
    );
  });

  it('broadcasting names the op, both shapes and the axis', () => {
    expect(() => ops.add(zeros([2, 3]), zeros([4, 3]))).toThrow(new ShapeError('add: cannot broadcast [2, 3] with [4, 3] (axis 0: 2 vs 4)'));
    expect(() => ops.mul(zeros([2, 3]), zeros([2]))).toThrow('mul: cannot broadcast [2, 3] with [2] (axis 1: 3 vs 2)');
  });

  it('invalid axes', () => {
    expect(() => ops.sum(zeros([2, 3]), 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => ops.max(zeros([2, 3]), -3)).toThrow('max: axis -3 is out of range for a tensor of rank 2');
    expect(() => ops.sum(zeros([2, 3]), [0, -2])).toThrow('sum: repeated axis in [0, -2]');
    expect(() => ops.permute(zeros([2, 3]), [0, 0])).toThrow('permute: [0, 0] is not a permutation of the 2 axes of [2, 3]');
    expect(() => ops.slice(zeros([2, 3]), 1, 1, 5)).toThrow('slice: range [1, 5) is out of bounds for axis 1 of size 3 in [2, 3]');
    expect(() => ops.concat([zeros([2, 3]), zeros([3, 3])], 1)).toThrow('concat: shapes [2, 3] and [3, 3] differ off the concat axis 1');
  });

  it('negative or fractional sizes', () => {
    expect(() => zeros([-1, 2])).toThrow(new ShapeError('zeros: sizes must be non-negative integers, got [-1, 2]'));
    expect(() => ones([1.5])).toThrow('ones: sizes must be non-negative integers, got [1.5]');
    expect(() => ops.reshape(zeros([2, 3]), [4, 2])).toThrow('reshape: cannot reshape [2, 3] (6 elements) into [4, 2] (8 elements)');
    expect(() => ops.expand(zeros([2, 3]), [3, 3])).toThrow('expand: cannot expand [2, 3] to [3, 3]');
    expect(() => tensor([[1, 2], [3]])).toThrow('tensor: ragged nested array at [1]: expected 2 elements on axis 1, got 1');
  });

  it('non-finite scalars where they are forbidden', () => {
    const x = ones([2]);
    expect(() => ops.pow(x, NaN)).toThrow(new RangeError('pow: exponent must be a finite number, got NaN'));
    expect(() => ops.leakyRelu(x, Infinity)).toThrow('leakyRelu: alpha must be a finite number, got Infinity');
    expect(() => ops.add(x, NaN)).toThrow('add: scalar operand is NaN');
    expect(() => ops.clamp(x, 1, 0)).toThrow('clamp: need min <= max (not NaN), got min=1, max=0');
  });

  it('conv2d and convTranspose2d name the option, its value and the shapes', () => {
    const x = zeros([1, 1, 5, 5]);
    const w = zeros([1, 1, 3, 3]);
    expect(() => ops.conv2d(x, w, null, { padding: -1 })).toThrow(new RangeError('conv2d: padding must be a non-negative integer or a pair of them, got -1'));
    expect(() => ops.conv2d(x, w, null, { stride: 0 })).toThrow(new RangeError('conv2d: stride must be an integer >= 1 or a pair of them, got 0'));
    expect(() => ops.conv2d(x, w, null, { stride: [1, 0] })).toThrow('conv2d: stride must be an integer >= 1 or a pair of them, got [1,0]');
    expect(() => ops.conv2d(x, w, null, { dilation: 0 })).toThrow('conv2d: dilation must be an integer >= 1 or a pair of them, got 0');
    expect(() => ops.conv2d(x, w, null, { groups: 0 })).toThrow('conv2d: groups must be a positive integer, got 0');
    expect(() => ops.conv2d(x, w, null, { outputPadding: 1 } as never)).toThrow(
      "conv2d: unknown option 'outputPadding' (options: stride, padding, dilation, groups)",
    );
    expect(() => ops.conv2d(zeros([1, 1, 2, 2]), w)).toThrow(
      new ShapeError(
        'conv2d: kernel [3, 3] (weight [1, 1, 3, 3]) with dilation 1x1 spans 3 rows, more than the 2 of the padded input (input [1, 1, 2, 2], padding 0x0)',
      ),
    );
    expect(() => ops.conv2d(zeros([1, 1, 4, 5]), w, null, { dilation: [1, 3] })).toThrow(
      'conv2d: kernel [3, 3] (weight [1, 1, 3, 3]) with dilation 1x3 spans 7 columns, more than the 5 of the padded input (input [1, 1, 4, 5], padding 0x0)',
    );
    expect(() => ops.conv2d(zeros([1, 3, 5, 5]), zeros([4, 1, 3, 3]), null, { groups: 2 })).toThrow(
      new ShapeError('conv2d: input channels 3 are not divisible by groups 2 (input [1, 3, 5, 5])'),
    );
    expect(() => ops.conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 })).toThrow(
      'conv2d: output channels 3 (weight [3, 2, 3, 3]) are not divisible by groups 2',
    );
    expect(() => ops.conv2d(zeros([1, 4, 5, 5]), zeros([4, 4, 3, 3]), null, { groups: 2 })).toThrow(
      'conv2d: weight [4, 4, 3, 3] must be [out, in/groups, kh, kw] with in/groups = 2 (input [1, 4, 5, 5], groups 2)',
    );
    expect(() => ops.conv2d(zeros([1, 4, 5, 5]), zeros([4, 4, 3]))).toThrow('conv2d: weight must be [out, in/groups, kh, kw], got [4, 4, 3]');
    expect(() => ops.conv2d(zeros([4, 5, 5]), zeros([4, 4, 3, 3]))).toThrow('conv2d: input must be [batch, channels, height, width], got [4, 5, 5]');
    expect(() => ops.conv2d(x, zeros([2, 1, 3, 3]), zeros([3]))).toThrow('conv2d: bias must be [2] (the output channels), got [3]');

    const y = zeros([1, 2, 3, 3]);
    const v = zeros([2, 1, 3, 3]);
    expect(() => ops.convTranspose2d(y, v, null, { stride: 2, outputPadding: 2 })).toThrow(
      new RangeError('convTranspose2d: outputPadding 2x2 must be smaller than stride 2x2 or dilation 1x1'),
    );
    expect(() => ops.convTranspose2d(y, v, null, { padding: -1 })).toThrow('convTranspose2d: padding must be a non-negative integer or a pair of them, got -1');
    expect(() => ops.convTranspose2d(y, v, null, { stride: 0 })).toThrow('convTranspose2d: stride must be an integer >= 1 or a pair of them, got 0');
    expect(() => ops.convTranspose2d(y, zeros([3, 1, 3, 3]))).toThrow(
      new ShapeError('convTranspose2d: weight [3, 1, 3, 3] must be [in, out/groups, kh, kw] with in = 2, the channels of input [1, 2, 3, 3]'),
    );
    expect(() => ops.convTranspose2d(zeros([1, 3, 3, 3]), zeros([3, 1, 3, 3]), null, { groups: 2 })).toThrow(
      'convTranspose2d: input channels 3 are not divisible by groups 2 (input [1, 3, 3, 3])',
    );
    expect(() => ops.convTranspose2d(zeros([1, 2, 1, 1]), zeros([2, 1, 1, 1]), null, { padding: 1 })).toThrow(
      'convTranspose2d: padding 1x1 leaves an output of -1 rows (input [1, 2, 1, 1], weight [2, 1, 1, 1], stride 1x1, dilation 1x1)',
    );
    expect(() => ops.convTranspose2d(y, v, zeros([2]))).toThrow('convTranspose2d: bias must be [1] (the output channels), got [2]');
  });

  it('backward on a non-scalar without a seed gradient', () => {
    const x = ones([2, 3], { requiresGrad: true });
    expect(() => ops.mul(x, 2).backward()).toThrow(
      new ShapeError('backward: a gradient can be implicitly created only for a scalar output, got shape [2, 3]; pass backward(gradient) with that shape'),
    );
    expect(() => ops.mul(x, 2).backward(ones([3]))).toThrow('backward: gradient shape [3] does not match output shape [2, 3]');
    expect(() => ones([1]).backward()).toThrow('backward: this tensor does not require a gradient');
  });

  it('mixed dtypes', () => {
    expect(() => ops.add(ones([2]), ones([2], { dtype: 'float64' }))).toThrow(
      new DTypeError('add: dtype mismatch: float32 [2] vs float64 [2] (convert with .to(dtype))'),
    );
  });

  it('gradcheck reports the worst Jacobian entry readably', () => {
    const x = tensor([0.5, 2], { dtype: 'float64', requiresGrad: true });
    // x ⊙ detach(x) has true derivative 2x but backward sees only x: a wrong gradient on purpose.
    const wrong = (t: ReturnType<typeof tensor>) => ops.mul(t, t.detach());
    expect(() => gradcheck(wrong, [x])).toThrow(GradcheckError);
    expect(() => gradcheck(wrong, [x])).toThrow(
      /^gradcheck: Jacobian mismatch for input 0 \(shape \[2\]\) at element \[1\], output \[1\]: analytic 2 vs numeric 4\.0000\d* \(\|diff\| 2\.000e\+0 > atol 1e-5 \+ rtol 1e-3·\|numeric\|\)$/,
    );
    const report = gradcheck(wrong, [x], { raise: false });
    expect(report.ok).toBe(false);
    expect(report.worst).toMatchObject({ input: 0, index: [1], outputIndex: [1], analytic: 2 });
    expect(() => gradcheck(wrong, [x.to('float32').requiresGrad_()])).toThrow(
      "gradcheck: input 0 is float32; gradcheck needs float64 inputs (use .to('float64'))",
    );
  });
});
