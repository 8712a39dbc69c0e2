import { DTypeError } from '../tensor/dtype.js';
import { backendFor } from '../kernels/index.js';
import { fmt, sameShape, ShapeError } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { derivatives } from './derivatives.js';
import { type DifferentiablePrim, forward, NON_DIFFERENTIABLE, type Prim, type PrimAttrs } from './primitives.js';
import { add, sumTo } from './ops.js';
import { AnomalyError, isAnomalyDetection, isGradEnabled, withGradMode } from './modes.js';

/**
 * The reverse-mode engine: `apply` runs a primitive and records it; `backward` walks the
 * records in reverse topological order, asks each primitive's rule for its inputs' gradients,
 * sums broadcast gradients back to each input's shape, and accumulates them into leaves.
 */

export { AnomalyError, detectAnomaly, enableGrad, isGradEnabled, noGrad } from './modes.js';

/** Throws an {@link AnomalyError} saying `what` if `t` holds a NaN or ±Inf (only inside {@link detectAnomaly}). */
function checkFinite(t: Tensor, what: string, inputs: readonly Tensor[]): void {
  if (!isAnomalyDetection()) return;
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new AnomalyError(`${what} holds ${t.data[i]} at flat index ${i} (inputs ${inputs.map((x) => fmt(x.shape)).join(', ')})`);
}

/** Runs primitive `prim` on `inputs` and, when a gradient is wanted, records it on the result. */
export function apply<P extends Prim>(prim: P, inputs: readonly Tensor[], attrs: PrimAttrs[P]): Tensor {
  if (inputs.some((t) => t.dtype !== inputs[0]!.dtype)) {
    throw new DTypeError(`${prim}: dtype mismatch: ${inputs.map((x) => `${x.dtype} ${fmt(x.shape)}`).join(' vs ')} (convert with .to(dtype))`);
  }
  const out = forward[prim](inputs, attrs);
  checkFinite(out, `${prim}: output`, inputs);
  const record = isGradEnabled() && !NON_DIFFERENTIABLE.has(prim) && inputs.some((t) => t.requiresGrad);
  return record ? new Tensor(out.data, out.shape, { gradFn: { prim, inputs, attrs } }) : out;
}

/** Tensors reachable from `root` through recorded ops, each after all that it depends on. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: Array<[Tensor, number]> = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const input = top[0].gradFn?.inputs[top[1]++];
    if (input === undefined) order.push(stack.pop()![0]);
    else if (input.requiresGrad && !seen.has(input)) {
      seen.add(input);
      stack.push([input, 0]);
    }
  }
  return order;
}

/** A gradient flowing back, and whether its memory is its own (not the seed's, a rule's input's or another gradient's). */
type Flow = { g: Tensor; own: boolean };

/**
 * Backpropagates from `root`: for every leaf L that requires a gradient, adds ∂root/∂L (or,
 * with `gradient` G, the vector-Jacobian product Gᵀ·∂root/∂L) into `L.grad`.
 * With `createGraph`, the gradients are themselves recorded, for higher derivatives.
 */
export function backward(root: Tensor, gradient?: Tensor, options: { createGraph?: boolean } = {}): void {
  const createGraph = options.createGraph ?? false;
  if (!root.requiresGrad) throw new Error('backward: this tensor does not require a gradient (no input had requiresGrad: true, or it was made inside noGrad)');
  if (gradient === undefined && root.numel() !== 1) {
    throw new ShapeError(
      `backward: a gradient can be implicitly created only for a scalar output, got shape ${fmt(root.shape)}; pass backward(gradient) with that shape`,
    );
  }
  const seed = gradient ?? new Tensor(root.dtype === 'float64' ? new Float64Array([1]) : new Float32Array([1]), root.shape);
  if (!sameShape(seed.shape, root.shape)) throw new ShapeError(`backward: gradient shape ${fmt(seed.shape)} does not match output shape ${fmt(root.shape)}`);
  const grads = new Map<Tensor, Flow>([[root, { g: seed, own: false }]]);
  withGradMode(createGraph, () => {
    for (const t of topologicalOrder(root).reverse()) {
      const flow = grads.get(t);
      grads.delete(t);
      if (!flow) continue;
      if (!t.gradFn) {
        accumulate(t, flow, createGraph);
        continue;
      }
      const { prim, inputs, attrs } = t.gradFn;
      const thunks = (derivatives[prim as DifferentiablePrim] as RuleFn)(flow.g, inputs, t, attrs); // one rule call per node
      inputs.forEach((x, k) => {
        const thunk = thunks[k];
        if (!x.requiresGrad || !thunk) return;
        const previous = grads.get(x);
        // A leaf's first gradient is computed straight into its zeroed gradient's memory.
        const target = !createGraph && !x.gradFn && !previous && takesInPlace(x) ? x.grad!.storage : undefined;
        const dx = sumBack(prim, k, x, () => (target ? target.writeInto((array, fn) => backendFor(x.dtype).memory.into(array, fn), thunk) : thunk()));
        checkFinite(dx, `backward of ${prim}: gradient for input ${k}`, inputs);
        const own = dx.requiresGrad || ![flow.g, t, ...inputs].some((other) => other.data === dx.data);
        grads.set(x, previous ? { g: add(previous.g, dx), own: true } : { g: dx, own });
      });
    }
  });
}

/** Runs a rule's thunk for input `k`, and sums its result back to the input's shape (the adjoint of broadcasting). */
function sumBack(prim: Prim, k: number, x: Tensor, thunk: () => Tensor): Tensor {
  let dx: Tensor;
  try {
    dx = thunk();
  } catch (error) {
    throw error instanceof AnomalyError ? new AnomalyError(`backward of ${prim} (input ${k}): ${error.message}`) : error;
  }
  if (sameShape(dx.shape, x.shape)) return dx;
  try {
    return sumTo(dx, x.shape);
  } catch {
    throw new ShapeError(`backward of ${prim}: gradient for input ${k} has shape ${fmt(dx.shape)}, expected ${fmt(x.shape)}`);
  }
}

/** Whether `leaf`'s gradient is zeroed in place and fit to take a gradient of `leaf`'s shape straight into its memory. */
const takesInPlace = (leaf: Tensor): boolean =>
  leaf.grad?.storage.zeroed === true && !leaf.grad.requiresGrad && leaf.grad.dtype === leaf.dtype && sameShape(leaf.grad.shape, leaf.shape);

/**
 * Accumulates a leaf's gradient, as PyTorch does: a zeroed gradient takes it (in its own memory),
 * one holding values adds it in place, a recorded one (createGraph) out of place; a leaf without
 * one gets it (a copy when its memory is not its own or would not outlive a scratch scope).
 */
function accumulate(leaf: Tensor, { g, own }: Flow, createGraph: boolean): void {
  const grad = leaf.grad;
  const memory = backendFor(g.dtype).memory;
  if (grad && !createGraph && !grad.requiresGrad && grad.dtype === g.dtype && sameShape(grad.shape, g.shape)) {
    if (grad.storage.zeroed)
      grad.storage.write(g.data); // 0 + g
    else memory.into(grad.data, () => add(grad, g)); // grad + g, into grad's memory
  } else if (grad) leaf.grad = add(grad, g);
  else if (g.requiresGrad)
    leaf.grad = g; // recorded: the leaf's own
  else leaf.grad = new Tensor(own ? memory.persist(g.data) : g.data.slice(), g.shape);
}

/**
 * PyTorch's `zero_grad(set_to_none=False)` for one leaf: its gradient tensor, if it has one,
 * stays (the same tensor, the same memory) and becomes zeros (see `Tensor.zero_`); the next
 * backward writes into it, kept where the backend reads it in place. A recorded gradient (from a createGraph backward) is replaced by
 * zeros instead of being changed under its graph, as PyTorch detaches it first.
 */
export function zeroGradInPlace(leaf: Tensor): void {
  if (!leaf.grad) return;
  if (leaf.grad.requiresGrad)
    leaf.grad = new Tensor(leaf.grad.dtype === 'float64' ? new Float64Array(leaf.numel()) : new Float32Array(leaf.numel()), leaf.shape);
  // A gradient that stays from step to step lives where its backend reads it in place (wasm: its memory).
  const kept = backendFor(leaf.grad.dtype).memory.keep(leaf.grad.data);
  if (kept !== leaf.grad.data) leaf.grad.set_(kept);
  leaf.grad.zero_();
}

type RuleFn = (g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: unknown) => ReadonlyArray<(() => Tensor) | null>;
