import { noGrad } from '../../autograd/engine.js';
import { Tensor } from '../../tensor/tensor.js';

/**
 * Rescales gradients so that their total norm is at most `maxNorm`, as PyTorch's
 * `torch.nn.utils.clip_grad_norm_`, and returns the total norm before clipping.
 *
 *     total = (Σₚ Σᵢ |gₚᵢ|ᵖ)^(1/p)   (the norm of all gradients as one vector; max |gₚᵢ| for p = ∞)
 *     c = maxNorm / (total + 1e-6);  if c < 1, every g = c·g
 *
 * Parameters without a gradient are ignored. Each clipped gradient is replaced by a scaled
 * copy (never scaled in place: the engine may share one gradient array between tensors).
 *
 * @example
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * optimizer.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) throw new RangeError(`clipGradNorm: maxNorm must be a number >= 0, got ${maxNorm}`);
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0)
    throw new RangeError(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  const withGrad = [...params].filter((p): p is Tensor & { grad: Tensor } => p instanceof Tensor && p.grad !== null);
  if (withGrad.length === 0) return 0;
  let total = 0;
  for (const p of withGrad) {
    const g = p.grad.data;
    if (normType === Infinity)
      for (let i = 0; i < g.length; i++) total = Math.max(total, Math.abs(g[i]!)); // max |g|
    else if (normType === 2)
      for (let i = 0; i < g.length; i++) total += g[i]! * g[i]!; // Σ g²
    else for (let i = 0; i < g.length; i++) total += Math.abs(g[i]!) ** normType; // Σ |g|ᵖ
  }
  if (normType === 2) total = Math.sqrt(total);
  else if (normType !== Infinity) total = total ** (1 / normType);
  const coef = maxNorm / (total + 1e-6); // c = maxNorm/(total + 1e-6)
  if (coef < 1) {
    noGrad(() => {
      for (const p of withGrad) {
        const g = p.grad;
        const scaled = g.data.slice();
        for (let i = 0; i < scaled.length; i++) scaled[i] = scaled[i]! * coef; // g = c·g
        p.grad = new Tensor(scaled, g.shape);
      }
    });
  }
  return total;
}
