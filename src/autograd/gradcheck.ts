import { fmt, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { backward, enableGrad, noGrad } from './engine.js';
import { concat, reshape } from './ops.js';
import { Generator } from '../tensor/random.js';

/** Tolerances and behaviour of {@link gradcheck}; the defaults are PyTorch's. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, against the numeric value (default 1e-3). */
  rtol?: number;
  /** Throw a {@link GradcheckError} on failure (default true); otherwise just report. */
  raise?: boolean;
}

/** One Jacobian entry: ∂output[outputIndex]/∂inputs[input][index]. */
export interface JacobianEntry {
  input: number;
  index: number[];
  outputIndex: number[];
  analytic: number;
  numeric: number;
}

/** What {@link gradcheck} found: whether every Jacobian entry agreed, and the worst disagreement. */
export interface GradcheckReport {
  ok: boolean;
  /** Number of Jacobian entries compared. */
  checked: number;
  /** max |analytic − numeric| over all entries. */
  maxAbsError: number;
  /** The entry that most exceeds (or comes closest to) its tolerance. */
  worst: JacobianEntry | null;
}

/** Thrown by {@link gradcheck} (unless `raise: false`) when backward and finite differences disagree; the message names the input, the element, the output and both values. */
export class GradcheckError extends Error {
  override name = 'GradcheckError';
  constructor(
    message: string,
    readonly report: GradcheckReport,
  ) {
    super(message);
  }
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    index[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return index;
}

/**
 * Compares the gradients backward computes with central finite differences,
 * (f(x + eps) − f(x − eps)) / 2eps, entry by entry over the whole Jacobian of `fn` with
 * respect to every input that requires a gradient. Needs float64 inputs and output.
 *
 * @example
 * const x = tensor([0.5, -1.5], { dtype: 'float64', requiresGrad: true });
 * gradcheck((x) => softplus(x).sum(), [x]).ok; // true
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`gradcheck: input ${i} is not a Tensor`);
    if (t.dtype !== 'float64') throw new TypeError(`gradcheck: input ${i} is ${t.dtype}; gradcheck needs float64 inputs (use .to('float64'))`);
  });
  const checkedInputs = inputs.map((t, i) => [t, i] as const).filter(([t]) => t.requiresGrad);
  if (checkedInputs.length === 0) throw new Error('gradcheck: no input has requiresGrad: true, so there is nothing to check');
  if (checkedInputs.some(([t]) => !t.isLeaf)) throw new Error('gradcheck: inputs must be leaf tensors');

  const output = fn(...inputs);
  if (!(output instanceof Tensor)) throw new TypeError('gradcheck: fn must return a Tensor');
  if (output.dtype !== 'float64') throw new TypeError(`gradcheck: fn returned ${output.dtype}; it must return float64`);
  const outShape = output.shape;
  const m = output.numel();

  // Analytic Jacobian, one row per output element: backward with a one-hot seed.
  const analytic = checkedInputs.map(([t]) => new Float64Array(m * t.numel()));
  if (output.requiresGrad) {
    for (let o = 0; o < m; o++) {
      for (const [t] of checkedInputs) t.grad = null;
      const seed = new Tensor(new Float64Array(m), outShape);
      seed.data[o] = 1;
      output.backward(seed);
      checkedInputs.forEach(([t], k) => {
        if (t.grad) analytic[k]!.set(t.grad.data, o * t.numel());
      });
    }
    for (const [t] of checkedInputs) t.grad = null;
  }

  // Numeric Jacobian, one column per input element: central differences.
  let worst: JacobianEntry | null = null; // the entry most over its tolerance, else the largest error
  let worstExcess = -Infinity;
  let worstError = -1;
  let maxAbsError = 0;
  let checked = 0;
  noGrad(() => {
    checkedInputs.forEach(([t, inputIndex], k) => {
      const n = t.numel();
      for (let j = 0; j < n; j++) {
        const original = t.data[j]!;
        t.data[j] = original + eps;
        const plus = Float64Array.from(fn(...inputs).data);
        t.data[j] = original - eps;
        const minus = Float64Array.from(fn(...inputs).data);
        t.data[j] = original;
        for (let o = 0; o < m; o++) {
          const numeric = (plus[o]! - minus[o]!) / (2 * eps);
          const a = analytic[k]![o * n + j]!;
          const error = Math.abs(a - numeric);
          const excess = Number.isNaN(error) ? Infinity : error - (atol + rtol * Math.abs(numeric));
          maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Infinity : error);
          checked++;
          const failing = excess > 0;
          if (failing ? excess > worstExcess : worstExcess <= 0 && error > worstError) {
            worst = { input: inputIndex, index: unravel(j, t.shape), outputIndex: unravel(o, outShape), analytic: a, numeric };
            worstError = error;
          }
          worstExcess = Math.max(worstExcess, excess);
        }
      }
    });
  });
  const report: GradcheckReport = { ok: worstExcess <= 0, checked, maxAbsError, worst };
  if (!report.ok && (options.raise ?? true)) {
    const w = report.worst!;
    const shape = fmt(inputs[w.input]!.shape);
    throw new GradcheckError(
      `gradcheck: Jacobian mismatch for input ${w.input} (shape ${shape}) at element [${w.index.join(', ')}], output [${w.outputIndex.join(', ')}]: ` +
        `analytic ${w.analytic} vs numeric ${w.numeric} (|diff| ${Math.abs(w.analytic - w.numeric).toExponential(3)} > atol ${atol.toExponential()} + rtol ${rtol.toExponential()}·|numeric|)`,
      report,
    );
  }
  return report;
}

/** Options of {@link gradgradcheck}: {@link gradcheck}'s tolerances, and the cotangent. */
export interface GradgradcheckOptions extends GradcheckOptions {
  /** The cotangent v of the vector-Jacobian product (shaped like `fn`'s output); drawn uniform in [−1, 1) when omitted. */
  gradOutput?: Tensor;
  /** Seed of the generator that draws v when `gradOutput` is omitted (default 0). */
  seed?: number;
}

/**
 * Checks second derivatives, as PyTorch's `gradgradcheck`: gradchecks the map
 * (x₁, …, xₙ, v) ↦ vᵀ·∂fn/∂xᵢ (every xᵢ that requires a gradient, flattened and concatenated),
 * the backward pass itself, computed with `createGraph`. Its Jacobian by backward through the
 * recorded gradients (the derivative rules differentiated) is compared with central differences
 * of the backward pass. Differentiating in v as well catches a rule that cuts its gradient g from
 * the graph; in x, a rule that cuts its inputs or output (a `detach` or a raw array inside it).
 *
 * @example
 * const x = tensor([0.5, -1.5], { dtype: 'float64', requiresGrad: true });
 * gradgradcheck((x) => tanh(x), [x]).ok; // true
 */
export function gradgradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradgradcheckOptions = {}): GradcheckReport {
  const differentiated = inputs.filter((t) => t.requiresGrad);
  if (differentiated.length === 0) throw new Error('gradgradcheck: no input has requiresGrad: true, so there is nothing to check');
  const outShape = noGrad(() => fn(...inputs)).shape;
  let v = options.gradOutput;
  if (v === undefined) {
    const rng = new Generator(options.seed ?? 0);
    v = new Tensor(
      Float64Array.from({ length: sizeOf(outShape) }, () => 2 * rng.uniform() - 1),
      outShape,
    );
  } else if (v.shape.length !== outShape.length || v.shape.some((d, i) => d !== outShape[i])) {
    throw new Error(`gradgradcheck: gradOutput has shape ${fmt(v.shape)}, fn's output ${fmt(outShape)}`);
  }
  const cotangent = new Tensor(Float64Array.from(v.data), v.shape, { requiresGrad: true });
  // The backward pass as a function of the inputs and v: vᵀ·J, recorded (createGraph), flattened.
  const vjp = (...args: Tensor[]): Tensor =>
    enableGrad(() => {
      const xs = args.slice(0, inputs.length);
      const cot = args[inputs.length]!;
      for (const t of differentiated) t.grad = null;
      const out = fn(...xs);
      if (out.requiresGrad) backward(out, cot, { createGraph: true });
      const grads = differentiated.map((t) => t.grad ?? new Tensor(new Float64Array(t.numel()), t.shape)); // not reached: 0
      for (const t of differentiated) t.grad = null;
      return concat(
        grads.map((g) => reshape(g, [g.numel()])),
        0,
      );
    });
  try {
    return gradcheck(vjp, [...inputs, cotangent], options);
  } catch (error) {
    if (!(error instanceof GradcheckError)) throw error;
    const what = error.report.worst?.input === inputs.length ? 'the cotangent v' : 'an input';
    throw new GradcheckError(
      `gradgradcheck: the backward pass's derivative in ${what} (input ${inputs.length} is v) is wrong: ${error.message.replace(/^gradcheck: /, '')}`,
      error.report,
    );
  }
}
