import { zeroGradInPlace } from '../autograd/engine.js';
import { backendFor } from '../kernels/index.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * The base class of every layer and model, like PyTorch's `nn.Module`.
 *
 * A module owns named parameters (leaf tensors with `requiresGrad`) and named submodules,
 * both kept in registration order. Names are dotted paths from the root, so the weight of
 * the first layer of an `encoder` submodule that is a `Sequential` is `encoder.0.weight`.
 *
 * Subclasses register their state in the constructor and implement {@link Module.forward}:
 *
 * @example
 * class Affine extends Module {
 *   readonly weight = this.registerParameter('weight', ones([3], { requiresGrad: true }));
 *   forward(x: Tensor): Tensor { return mul(x, this.weight); }
 * }
 */
export abstract class Module {
  /** True in training mode (the default), false after {@link Module.eval}. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #modules = new Map<string, Module>();

  /** The computation: maps an input tensor to an output tensor. */
  abstract forward(x: Tensor): Tensor;

  /** Runs {@link Module.forward}; `model.call(x)` reads like PyTorch's `model(x)`. */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /**
   * Adds a parameter under `name` (no dots) and returns it; it gets `requiresGrad: true`, and
   * its storage moves where the current backend reads it without copying (the wasm backend's
   * memory; see `Tensor.set_`), values unchanged. Registering a name twice is an error.
   */
  protected registerParameter(name: string, parameter: Tensor): Tensor {
    this.checkName('registerParameter', name);
    if (!(parameter instanceof Tensor)) throw new TypeError(`registerParameter: '${name}' must be a Tensor`);
    if (!parameter.isLeaf) throw new Error(`registerParameter: '${name}' must be a leaf tensor (use detach())`);
    parameter.requiresGrad_(true);
    // Stored where the current backend reads it in place (wasm: in its memory), so that products
    // and optimizer steps do not copy it every time; the same tensor, its values unchanged.
    const kept = backendFor(parameter.dtype).memory.keep(parameter.data);
    if (kept !== parameter.data) parameter.set_(kept);
    this.#parameters.set(name, parameter);
    return parameter;
  }

  /** Adds a submodule under `name` (no dots) and returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName('registerModule', name);
    if (!(module instanceof Module)) throw new TypeError(`registerModule: '${name}' must be a Module`);
    this.#modules.set(name, module);
    return module;
  }

  private checkName(op: string, name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.'))
      throw new Error(`${op}: name must be a non-empty string without dots, got ${JSON.stringify(name)}`);
    if (this.#parameters.has(name) || this.#modules.has(name)) throw new Error(`${op}: '${name}' is already registered`);
  }

  /** [name, submodule] for the direct children, in registration order. */
  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.#modules;
  }

  /** The direct children, in registration order. */
  children(): Module[] {
    return [...this.#modules.values()];
  }

  /** [dotted name, module] for this module (named '', or `prefix`) and all its descendants, depth first. */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.#modules) yield* child.namedModules(prefix === '' ? name : `${prefix}.${name}`);
  }

  /**
   * [dotted name, parameter] for every parameter: this module's own first, then each child's,
   * in registration order. A tensor shared by two modules is listed once (first name).
   */
  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, p] of module.#parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [path === '' ? name : `${path}.${name}`, p];
      }
    }
  }

  /** Every parameter, in the order of {@link Module.namedParameters}. */
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Sets training mode (`true`) or evaluation mode (`false`) on this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** One line of settings shown by `toString()`, e.g. `inFeatures=2, outFeatures=3`. */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-style summary: the class name, its settings, and each child indented. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.#modules.size === 0) return `${head})`;
    const lines = [...this.#modules].map(([name, m]) => `  (${name}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient, as `Optimizer.zeroGrad` does (zeros in place by default, or null with `setToNone: true`). */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) options.setToNone === true ? (p.grad = null) : zeroGradInPlace(p);
  }

  /**
   * A snapshot of every parameter by dotted name: fresh tensors holding copies of the numbers
   * (later training does not change them), in {@link Module.namedParameters} order.
   */
  stateDict(): Record<string, Tensor> {
    const entries = [...this.namedParameters()].map(([name, p]): [string, Tensor] => [name, p.copy()]);
    return Object.fromEntries(entries);
  }

  /**
   * Copies `dict`'s tensors into the parameters of the same names, in place (converting the
   * dtype if it differs). Shapes must match exactly. With `strict` (the default) the key sets
   * must match too; otherwise missing and unexpected keys are only reported. Nothing is
   * changed unless every check passes.
   *
   * @throws Error naming the parameter and both shapes, or listing missing/unexpected keys.
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, options: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    const strict = options.strict ?? true;
    const own = new Map(this.namedParameters());
    const given = Object.keys(dict);
    const missingKeys = [...own.keys()].filter((k) => !Object.hasOwn(dict, k));
    const unexpectedKeys = given.filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [name, p] of own) {
      if (!Object.hasOwn(dict, name)) continue;
      const t = dict[name];
      if (!(t instanceof Tensor)) problems.push(`'${name}' is not a Tensor`);
      else if (!sameShape(t.shape, p.shape)) problems.push(`size mismatch for '${name}': expected shape ${fmt(p.shape)}, got ${fmt(t.shape)}`);
    }
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [name, p] of own) {
      if (Object.hasOwn(dict, name)) p.data.set(dict[name]!.data);
    }
    return { missingKeys, unexpectedKeys };
  }
}
