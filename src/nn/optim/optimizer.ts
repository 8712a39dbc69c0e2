import { zeroGradInPlace } from '../../autograd/engine.js';
import { backendFor, cpuBackend } from '../../kernels/index.js';
import { fmt, sameShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';

/** A hyperparameter's value: plain JSON, so optimizer settings can be checkpointed. */
export type HyperValue = number | boolean | readonly number[];

/** An optimizer's hyperparameters by name (lr, momentum, betas, …). */
export type Hyper = { lr: number } & Record<string, HyperValue>;

/** A group of parameters sharing hyperparameters, like PyTorch's `param_groups` entries. */
export type ParamGroup<H extends Hyper> = H & { params: Tensor[] };

/** What optimizers accept: parameters, or groups of parameters with per-group overrides. */
export type ParamsArg<H extends Hyper> = Iterable<Tensor> | ReadonlyArray<Partial<H> & { params: Iterable<Tensor> }>;

/** Per-parameter state: counters as numbers, buffers as tensors. */
export type ParamState = Record<string, Tensor | number>;

/**
 * An optimizer's full state, as PyTorch's `state_dict()`: `state` is keyed by the parameter's
 * index (counting through all groups in order); groups list their parameters by index.
 * Everything is a number, boolean, array of numbers or Tensor, so it can be saved exactly.
 */
export interface OptimizerStateDict {
  state: Record<string, ParamState>;
  paramGroups: Array<Record<string, HyperValue> & { params: number[] }>;
}

/**
 * The base of every optimizer: holds parameter groups and per-parameter state, and updates
 * parameters in place in {@link Optimizer.step}. Subclasses implement `step`.
 */
export abstract class Optimizer<H extends Hyper> {
  /** The parameter groups; edit a group's hyperparameters (e.g. `lr`) to schedule them. */
  readonly paramGroups: Array<ParamGroup<H>>;
  /** Per-parameter state (momentum buffers, moment estimates, step counts). */
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsArg<H>, defaults: H) {
    const list = [...params] as Array<Tensor | (Partial<H> & { params: Iterable<Tensor> })>;
    const groups =
      list.length > 0 && !(list[0] instanceof Tensor) ? (list as Array<Partial<H> & { params: Iterable<Tensor> }>) : [{ params: list as Tensor[] }];
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((group, g) => {
      const tensors = [...group.params];
      for (const p of tensors) {
        if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: group ${g} holds something that is not a Tensor`);
        if (!p.isLeaf) throw new Error(`${this.constructor.name}: can only optimize leaf tensors`);
        if (seen.has(p)) throw new Error(`${this.constructor.name}: a parameter appears more than once`);
        seen.add(p);
      }
      const merged = { ...defaults, ...group, params: tensors } as ParamGroup<H>;
      this.validate(merged);
      return merged;
    });
  }

  /** Checks a group's hyperparameters; throws a RangeError naming the bad one. */
  protected abstract validate(group: ParamGroup<H>): void;

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /**
   * Steps only if every gradient is finite: all are checked for NaN and ±∞ first and, if one is
   * not, nothing changes and the result is false (as PyTorch's GradScaler skips such a step).
   */
  stepIfFinite(): boolean {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = this.gradOf(p);
        if (grad !== null && !(backendFor(p.dtype).fused.allFinite ?? cpuBackend.fused.allFinite)(grad)) return false;
      }
    }
    this.step();
    return true;
  }

  /**
   * Clears every parameter's gradient. By default (PyTorch 1.x's `set_to_none=False`) it fills it
   * with zeros in place and lets the next backward write into the same memory (see
   * `zeroGradInPlace`): no new gradient memory per step, and on the wasm backend the products
   * write the gradients where the update reads them, in any loop. `setToNone: true` sets it to
   * null instead (PyTorch 2's default): the next backward allocates a new gradient, and a
   * parameter that then gets none is skipped by the update.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const inPlace = options.setToNone !== true;
    for (const group of this.paramGroups) for (const p of group.params) inPlace ? zeroGradInPlace(p) : (p.grad = null);
  }

  /** The gradient of `p` as its typed array, checked; null when `p` has no gradient. */
  protected gradOf(p: Tensor): Float32Array | Float64Array | null {
    const g = p.grad;
    if (g === null) return null;
    if (!sameShape(g.shape, p.shape) || g.dtype !== p.dtype) {
      throw new Error(`${this.constructor.name}.step: gradient ${g.dtype} ${fmt(g.shape)} does not match parameter ${p.dtype} ${fmt(p.shape)}`);
    }
    return g.data;
  }

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = {}));
    return s;
  }

  /** A snapshot of the state (tensors copied) and of every group's hyperparameters. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, ParamState> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...hyper } = group;
      const ids = params.map((p) => {
        const s = this.state.get(p);
        if (s) state[String(index)] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.copy() : v]));
        return index++;
      });
      const copy = Object.fromEntries(Object.entries(hyper).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as Record<string, HyperValue>;
      return { ...copy, params: ids };
    });
    return { state, paramGroups };
  }

  /**
   * Restores a state saved by {@link Optimizer.stateDict} from an optimizer over parameters of
   * the same shapes, grouped the same way. Hyperparameters are restored too, as in PyTorch.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = `${this.constructor.name}.loadStateDict`;
    if (!Array.isArray(dict?.paramGroups) || dict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${name}: expected ${this.paramGroups.length} parameter groups, got ${Array.isArray(dict?.paramGroups) ? dict.paramGroups.length : 'none'}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    let index = 0;
    this.paramGroups.forEach((group, g) => {
      const saved = dict.paramGroups[g]!;
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new Error(
          `${name}: group ${g} has ${group.params.length} parameters, the state dict's has ${Array.isArray(saved.params) ? saved.params.length : 'none'}`,
        );
      }
      saved.params.forEach((id, k) => byIndex.set(id, group.params[k]!));
      index += group.params.length;
    });
    const next = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(dict.state ?? {})) {
      const p = byIndex.get(Number(key));
      if (!p) throw new Error(`${name}: state for parameter ${key}, but there are only ${index} parameters`);
      const restored: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Tensor && (!sameShape(v.shape, p.shape) || v.dtype !== p.dtype)) {
          throw new Error(`${name}: state '${k}' of parameter ${key} is ${v.dtype} ${fmt(v.shape)}, expected ${p.dtype} ${fmt(p.shape)}`);
        }
        if (!(v instanceof Tensor) && typeof v !== 'number') throw new Error(`${name}: state '${k}' of parameter ${key} must be a Tensor or a number`);
        restored[k] = v instanceof Tensor ? v.copy() : v;
      }
      next.set(p, restored);
    }
    const groups = this.paramGroups.map((group, g) => {
      const { params: _, ...hyper } = dict.paramGroups[g]!;
      const merged = { ...group, ...hyper, params: group.params } as ParamGroup<H>;
      this.validate(merged);
      return merged;
    });
    groups.forEach((group, g) => (this.paramGroups[g] = group));
    this.state.clear();
    for (const [p, s] of next) this.state.set(p, s);
  }
}
