import { allocate, allocatingInto, DTypeError, type TypedArray } from '../tensor/dtype.js';
import { backendFor } from '../kernels/index.js';
import { fmt, sameShape, ShapeError, stridesOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { derivatives } from './derivatives.js';
import { type DifferentiablePrim, forward, NON_DIFFERENTIABLE, type Prim, type PrimAttrs } from './primitives.js';
import { sumTo } from './ops.js';

/**
 * The reverse-mode engine: `apply` runs a primitive and records it; `backward` walks the
 * records in reverse topological order, asks each primitive's rule for its inputs' gradients,
 * sums broadcast gradients back to each input's shape, and accumulates them into leaves.
 */

let gradEnabled = true;
let anomalyDepth = 0;

/** Thrown by {@link detectAnomaly} at the first op whose output or gradient holds NaN or ±Inf. */
export class AnomalyError extends Error {
  override name = 'AnomalyError';
}

/** Whether ops currently record the graph (false inside {@link noGrad}). */
export const isGradEnabled = (): boolean => gradEnabled;

/** Runs `fn` without recording the graph, like `torch.no_grad()`: results require no gradient. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` recording the graph even inside {@link noGrad}, like `torch.enable_grad()`. */
export function enableGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` checking every op's output (and, in backward, every gradient) for NaN/±Inf. */
export function detectAnomaly<T>(fn: () => T): T {
  anomalyDepth++;
  try {
    return fn();
  } finally {
    anomalyDepth--;
  }
}

function firstNonFinite(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

const describe = (inputs: readonly Tensor[]): string => inputs.map((t) => fmt(t.shape)).join(', ');

/** Gradients zeroed in place by {@link zeroGradInPlace}, which the next backward writes into. */
const zeroed = new WeakSet<Tensor>();

/**
 * PyTorch's `zero_grad(set_to_none=False)` for one leaf: its gradient tensor, if it has one,
 * stays (the same tensor) and is filled with zeros, and the next backward accumulates into it in
 * place, computing the gradient straight into its memory where it can. That memory is moved
 * where the backend reads it without copying (wasm: its memory), so the optimizer's step reads
 * it in place too. A gradient held elsewhere sees these changes, as in PyTorch.
 */
export function zeroGradInPlace(leaf: Tensor, options: { deferFill?: boolean } = {}): void {
  if (!leaf.grad) return;
  // A recorded gradient (from a createGraph backward) is replaced, not changed under its graph.
  if (leaf.grad.requiresGrad) leaf.grad = new Tensor(allocate(leaf.grad.dtype, leaf.grad.numel()), leaf.grad.shape);
  const grad = leaf.grad;
  const kept = backendFor(grad.dtype).keep?.(grad.data);
  if (kept && kept !== grad.data) grad.set_(kept);
  if (options.deferFill) deferredZeros.add(grad);
  else grad.data.fill(0);
  zeroed.add(grad);
}

/**
 * Gradients zeroed with `deferFill`: their zeros are written at the end of the next backward,
 * and only if it did not write the gradient itself, which is the usual case (a pass over every
 * gradient saved per step). For a caller that runs backward right away and reads no gradient in
 * between, as `trainStep` does; until then their values are unspecified.
 */
const deferredZeros = new Set<Tensor>();

function settleDeferredZeros(): void {
  for (const grad of deferredZeros) if (zeroed.has(grad)) grad.data.fill(0); // not reached by this backward
  deferredZeros.clear();
}

/** Whether `leaf`'s gradient is zeroed in place and fit to take a gradient of `leaf`'s shape straight into its memory. */
const takesInPlace = (leaf: Tensor): boolean => leaf.grad !== null && zeroed.has(leaf.grad) && leaf.grad.dtype === leaf.dtype && sameShape(leaf.grad.shape, leaf.shape);

/** Runs primitive `prim` on `inputs` and, when a gradient is wanted, records it on the result. */
export function apply<P extends Prim>(prim: P, inputs: readonly Tensor[], attrs: PrimAttrs[P]): Tensor {
  const dtype = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== dtype) {
      throw new DTypeError(`${prim}: dtype mismatch: ${inputs.map((x) => `${x.dtype} ${fmt(x.shape)}`).join(' vs ')} (convert with .to(dtype))`);
    }
  }
  const raw = forward[prim](inputs, attrs);
  if (anomalyDepth > 0) {
    const i = firstNonFinite(raw);
    if (i >= 0) throw new AnomalyError(`${prim}: output holds ${raw.data[i]} at flat index ${i} (inputs ${describe(inputs)})`);
  }
  const record = gradEnabled && !NON_DIFFERENTIABLE.has(prim) && inputs.some((t) => t.requiresGrad);
  if (!record) return raw;
  return new Tensor(raw.data, raw.shape, { gradFn: { prim, inputs, attrs } });
}

/** Tensors reachable from `root` through recorded ops, each after all that it depends on. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: Array<[Tensor, number]> = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, next] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next]!;
      if (input.requiresGrad && !seen.has(input)) {
        seen.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Backpropagates from `root`: for every leaf L that requires a gradient, adds ∂root/∂L (or,
 * with `gradient` G, the vector-Jacobian product Gᵀ·∂root/∂L) into `L.grad`.
 * With `createGraph`, the gradients are themselves recorded, for higher derivatives.
 */
export function backward(root: Tensor, gradient?: Tensor, options: { createGraph?: boolean } = {}): void {
  if (!root.requiresGrad) throw new Error('backward: this tensor does not require a gradient (no input had requiresGrad: true, or it was made inside noGrad)');
  if (gradient === undefined && root.numel() !== 1) {
    throw new ShapeError(`backward: a gradient can be implicitly created only for a scalar output, got shape ${fmt(root.shape)}; pass backward(gradient) with that shape`);
  }
  const seed = gradient ?? new Tensor(root.dtype === 'float64' ? new Float64Array([1]) : new Float32Array([1]), root.shape);
  if (!sameShape(seed.shape, root.shape)) throw new ShapeError(`backward: gradient shape ${fmt(seed.shape)} does not match output shape ${fmt(root.shape)}`);
  // Zeroed gradients whose memory an op was offered: if backward stops half way, they hold zeros again.
  const offered = new Set<Tensor>();
  const run = (): void => {
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    // Memory something else may hold too (the seed, a gradient a rule passed on as add's does): a
    // leaf gets a copy of it, and the memory made for it alone as it is. No two gradients share.
    const shared = new Set<TypedArray>([seed.data]);
    const order = topologicalOrder(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.gradFn) {
        const grad = t.grad;
        const inPlace = !options.createGraph && takesInPlace(t);
        if (grad && !inPlace && zeroed.has(grad) && deferredZeros.has(grad)) grad.data.fill(0); // about to be read
        if (inPlace) {
          if (g.data !== grad!.data) grad!.data.set(g.data); // 0 + g, in place
          zeroed.delete(grad!);
        } else if (grad && !options.createGraph && !grad.requiresGrad && grad.dtype === g.dtype && sameShape(grad.shape, g.shape)) {
          // Accumulates in place, as PyTorch does: grad = grad + g, into grad's memory (out of
          // place when grad is itself recorded, from a createGraph backward, as PyTorch also does).
          const strides = stridesOf(g.shape);
          backendFor(g.dtype).binary('add', grad.data, strides, g.data, strides, g.shape, grad.data);
        } else t.grad = grad ? grad.add(g) : g.requiresGrad || !shared.has(g.data) ? g : g.copy(); // a recorded g is this leaf's own
        continue;
      }
      const { prim, inputs, attrs } = t.gradFn;
      const rule = derivatives[prim as DifferentiablePrim] as unknown as RuleFn;
      const thunks = rule(g, inputs, t, attrs);
      inputs.forEach((input, k) => {
        const thunk = thunks[k];
        if (!input.requiresGrad || !thunk) return;
        let dInput: Tensor;
        try {
          // A leaf's only (or first) gradient is computed straight into its zeroed gradient's memory.
          const direct = !options.createGraph && !input.gradFn && !grads.has(input) && takesInPlace(input);
          if (direct) offered.add(input.grad!);
          dInput = direct ? allocatingInto(input.grad!.data, thunk) : thunk();
        } catch (error) {
          if (error instanceof AnomalyError) throw new AnomalyError(`backward of ${prim} (input ${k}): ${error.message}`);
          throw error;
        }
        if (!sameShape(dInput.shape, input.shape)) {
          try {
            dInput = sumTo(dInput, input.shape); // the adjoint of broadcasting
          } catch {
            throw new ShapeError(`backward of ${prim}: gradient for input ${k} has shape ${fmt(dInput.shape)}, expected ${fmt(input.shape)}`);
          }
        }
        if (anomalyDepth > 0) {
          const j = firstNonFinite(dInput);
          if (j >= 0) throw new AnomalyError(`backward of ${prim}: gradient for input ${k} holds ${dInput.data[j]} at flat index ${j} (inputs ${describe(inputs)})`);
        }
        if (dInput.data === g.data || dInput.data === t.data || inputs.some((x) => x.data === dInput.data)) shared.add(dInput.data);
        const previous = grads.get(input);
        grads.set(input, previous ? previous.add(dInput) : dInput);
      });
    }
  };
  try {
    if (options.createGraph) run();
    else noGrad(run);
  } finally {
    for (const grad of offered) if (zeroed.has(grad)) grad.data.fill(0); // not reached: only after an error
    settleDeferredZeros();
  }
}

type RuleFn = (g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: unknown) => ReadonlyArray<(() => Tensor) | null>;
