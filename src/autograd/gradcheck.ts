import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './engine.js';

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
  constructor(message: string, readonly report: GradcheckReport) {
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
