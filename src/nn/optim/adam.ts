import { noGrad } from '../../autograd/engine.js';
import { backendFor, cpuBackend } from '../../kernels/index.js';
import { allocate, type TypedArray } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import { type ParamGroup, type ParamsArg, Optimizer } from './optimizer.js';

/** Hyperparameters of {@link Adam} and {@link AdamW}; the defaults are PyTorch's. */
export type AdamOptions = {
  /** Learning rate α (default 1e-3). */
  lr: number;
  /** Decay rates [β₁, β₂] of the first and second moment estimates (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** ε added to √v̂ for stability (default 1e-8). */
  eps: number;
  /** Weight decay λ (default 0 for Adam: an L2 term in g; 1e-2 for AdamW: decoupled). */
  weightDecay: number;
};

/** The shared update; `decoupled` selects AdamW's weight decay. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected validate(g: ParamGroup<AdamOptions>): void {
    const name = this.constructor.name;
    const fail = (message: string): never => {
      throw new RangeError(`${name}: ${message}`);
    };
    if (typeof g.lr !== 'number' || !(g.lr >= 0) || g.lr === Infinity) fail(`lr must be a finite number >= 0, got ${g.lr}`);
    if (!Array.isArray(g.betas) || g.betas.length !== 2 || !g.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
      fail(`betas must be two numbers in [0, 1), got ${JSON.stringify(g.betas)}`);
    }
    if (typeof g.eps !== 'number' || !(g.eps >= 0)) fail(`eps must be a number >= 0, got ${g.eps}`);
    if (typeof g.weightDecay !== 'number' || !(g.weightDecay >= 0)) fail(`weightDecay must be a number >= 0, got ${g.weightDecay}`);
  }

  /** One update of every parameter that has a gradient (see the class comments for the formulas). */
  step(): void {
    this.update((p) => this.gradOf(p));
  }

  /** The update of every parameter `gradOf` gives a gradient for. */
  private update(gradOf: (p: Tensor) => TypedArray | null): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        const { lr, eps, weightDecay: wd } = group;
        const [beta1, beta2] = group.betas;
        for (const p of group.params) {
          const grad = gradOf(p);
          if (grad === null) continue;
          const theta = p.data;
          const n = theta.length;
          const state = this.stateOf(p);
          if (!(state.expAvg instanceof Tensor) || !(state.expAvgSq instanceof Tensor)) {
            state.step = 0;
            state.expAvg = new Tensor(allocate(p.dtype, n), p.shape); // m₀ = 0
            state.expAvgSq = new Tensor(allocate(p.dtype, n), p.shape); // v₀ = 0
          }
          const t = (state.step as number) + 1; // t = t + 1
          state.step = t;
          // The update runs as one kernel: m and v are kept where the backend reads them without
          // copying (wasm: inside its memory), moved there on first use or after a state load.
          const { memory, fused } = backendFor(p.dtype);
          const update = fused.adam ?? cpuBackend.fused.adam;
          const m = memory.keep(state.expAvg.data);
          const v = memory.keep(state.expAvgSq.data);
          if (m !== state.expAvg.data) state.expAvg = new Tensor(m, p.shape);
          if (v !== state.expAvgSq.data) state.expAvgSq = new Tensor(v, p.shape);
          update(theta, grad, state.expAvg.data, state.expAvgSq.data, {
            beta1,
            beta2,
            eps,
            stepSize: lr / (1 - beta1 ** t), // α / (1 − β₁ᵗ), so α·m̂ = stepSize·m
            sqrtBc2: Math.sqrt(1 - beta2 ** t), // √(1 − β₂ᵗ), so √v̂ = √v / sqrtBc2
            decay: this.decoupled ? 1 - lr * wd : 1, // AdamW: θ = θ(1 − αλ) before the update
            l2: this.decoupled ? 0 : wd, // Adam: g = g + λθ
          });
        }
      }
    });
  }
}

/**
 * Adam (Kingma & Ba, 2015, Algorithm 1) with bias correction, as PyTorch's `torch.optim.Adam`:
 *
 *     g = ∇f(θ) + λθ        (λ = weightDecay, an L2 penalty; 0 by default)
 *     m = β₁m + (1 − β₁)g,  v = β₂v + (1 − β₂)g²
 *     m̂ = m/(1 − β₁ᵗ),     v̂ = v/(1 − β₂ᵗ)
 *     θ = θ − α·m̂/(√v̂ + ε)
 *
 * State per parameter: `step` (t), `expAvg` (m), `expAvgSq` (v), in the parameter's dtype.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options });
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, as PyTorch's
 * `torch.optim.AdamW`: first θ = θ·(1 − αλ), then the Adam update with g = ∇f(θ) (no L2 term).
 * λ = weightDecay defaults to 1e-2.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...options });
  }
}
