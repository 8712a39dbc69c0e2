import { noGrad } from '../../autograd/engine.js';
import { allocate } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import { type ParamGroup, type ParamsArg, Optimizer } from './optimizer.js';

/** Hyperparameters of {@link SGD}; the defaults are PyTorch's. */
export type SGDOptions = {
  /** Learning rate γ (required). */
  lr: number;
  /** Momentum factor μ (default 0: plain gradient descent). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** Use Nesterov momentum (default false; needs μ > 0 and τ = 0). */
  nesterov: boolean;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
};

function check(cond: boolean, message: string): void {
  if (!cond) throw new RangeError(`SGD: ${message}`);
}

/**
 * Stochastic gradient descent with optional momentum, exactly as PyTorch's `torch.optim.SGD`:
 *
 *     d = g + λθ                        (weight decay)
 *     b = d on the first step, else μb + (1 − τ)d   (momentum buffer, when μ ≠ 0)
 *     d = d + μb if nesterov, else b
 *     θ = θ − γd
 *
 * Parameters without a gradient are skipped. Arithmetic is done in float64 and stored in the
 * parameter's dtype.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...options });
  }

  protected validate(g: ParamGroup<SGDOptions>): void {
    check(typeof g.lr === 'number' && g.lr >= 0 && g.lr < Infinity, `lr must be a finite number >= 0, got ${g.lr}`);
    check(typeof g.momentum === 'number' && g.momentum >= 0, `momentum must be >= 0, got ${g.momentum}`);
    check(typeof g.dampening === 'number' && Number.isFinite(g.dampening), `dampening must be a finite number, got ${g.dampening}`);
    check(typeof g.weightDecay === 'number' && g.weightDecay >= 0, `weightDecay must be >= 0, got ${g.weightDecay}`);
    check(typeof g.nesterov === 'boolean', `nesterov must be a boolean, got ${String(g.nesterov)}`);
    check(!g.nesterov || (g.momentum > 0 && g.dampening === 0), 'nesterov momentum requires momentum > 0 and dampening = 0');
  }

  /** One SGD update of every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = group;
        for (const p of group.params) {
          const grad = this.gradOf(p);
          if (grad === null) continue;
          const theta = p.data;
          const n = theta.length;
          if (mu === 0) {
            for (let i = 0; i < n; i++) theta[i] = theta[i]! - lr * (grad[i]! + wd * theta[i]!); // θ = θ − γ(g + λθ)
            continue;
          }
          const state = this.stateOf(p);
          const first = !(state.momentumBuffer instanceof Tensor);
          if (first) state.momentumBuffer = new Tensor(allocate(p.dtype, n), p.shape);
          const buf = (state.momentumBuffer as Tensor).data;
          for (let i = 0; i < n; i++) {
            const d = grad[i]! + wd * theta[i]!; // d = g + λθ
            buf[i] = first ? d : mu * buf[i]! + (1 - dampening) * d; // b = d (first step), else μb + (1 − τ)d
            const b = buf[i]!; // b as stored (rounded to the parameter's dtype)
            theta[i] = theta[i]! - lr * (nesterov ? d + mu * b : b); // θ = θ − γ(d + μb) (nesterov) or θ − γb
          }
        }
      }
    });
  }
}
