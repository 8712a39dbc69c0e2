import { noGrad } from 'elbo';
import type { Dataset } from 'elbo/data';
import { tensor } from 'elbo';
import { Generator } from 'elbo';
import { iwae } from 'elbo/vae';
import { VAE } from 'elbo/vae';
import { elboByGaussHermite, gridLogLikelihoods, integrate, type LatentGrid } from 'elbo/vae';
import type { BoundsResult } from './protocol.js';

/**
 * ELBO ≤ IWAE_k ≤ ln p(x) for one digit of a 2-D-latent VAE, each computed by the engine's own
 * functions (those `elbo verify` checks): the ELBO with E_q[ln p(x|z)] by Gauss–Hermite and the
 * analytic KL, IWAE_k by `iwae`, and ln p(x) = ln ∫ p(x|z) p(z) dz by the midpoint rule on a grid
 * centred on μ(x), widened until the grid's border lies far below the integrand's peak.
 * IWAE and the grid run on the model as it is (float32, the active backend); the Gauss–Hermite
 * ELBO on a float64 copy, since elboByGaussHermite builds its nodes in float64.
 */

export const IWAE_KS = [1, 10, 100, 1000];
const GRID_POINTS = 128;
/** The grid is wide enough when ln p(x, z) on its border is this far below its peak. */
const BORDER_DROP = -15;

/** A midpoint grid of `points`² cells over the square of half-width `halfWidth` centred on `center`. */
function centredGrid(points: number, center: readonly number[], halfWidth: number, model: VAE): LatentGrid {
  const h = (2 * halfWidth) / points;
  const data = new Float64Array(points * points * 2);
  for (let i = 0; i < points; i++) {
    for (let j = 0; j < points; j++) {
      data[2 * (i * points + j)] = center[0]! - halfWidth + (i + 0.5) * h;
      data[2 * (i * points + j) + 1] = center[1]! - halfWidth + (j + 0.5) * h;
    }
  }
  return { points, radius: halfWidth, h, z: tensor(data, { shape: [points * points, 2], dtype: model.config.dtype }) };
}

/** The three quantities for test digit `index` (pixels as given, the Bernoulli likelihood of training). */
export function compareBounds(model: VAE, test: Dataset, index: number, seed = 1): BoundsResult {
  if (model.config.latentDim !== 2) throw new Error(`bounds: quadrature needs a 2-D latent, this model's is ${model.config.latentDim}-D`);
  if (model.config.likelihood !== 'bernoulli')
    throw new Error(`bounds: quadrature here needs the Bernoulli likelihood, this model's is ${model.config.likelihood}`);
  if (!Number.isInteger(index) || index < 0 || index >= test.n) throw new Error(`bounds: choose a test digit in 0 … ${test.n - 1}, got ${index}`);
  const started = performance.now();
  const d = test.rows * test.cols;
  const x = tensor(test.images.subarray(index * d, (index + 1) * d), { shape: [1, d], dtype: model.config.dtype });
  const model64 = new VAE({ ...model.config, inputDim: d, dtype: 'float64' });
  model64.loadStateDict(model.stateDict());
  const gh = elboByGaussHermite(model64, x.to('float64'), 20);
  const rng = new Generator(seed);
  const bounds = IWAE_KS.map((k) => ({ k, value: iwae(model, x, k, { rng }).item() }));
  const { mu, logVar } = noGrad(() => model.encode(x));
  const m = [mu.data[0]!, mu.data[1]!];
  const lv = [logVar.data[0]!, logVar.data[1]!];
  let halfWidth = Math.max(6 * Math.exp(0.5 * Math.max(lv[0]!, lv[1]!)), 0.5);
  for (;;) {
    const grid = centredGrid(GRID_POINTS, m, halfWidth, model);
    const q = integrate(grid, gridLogLikelihoods(model, x, grid)[0]!, m, lv);
    if (q.borderDrop < BORDER_DROP || halfWidth >= 16) {
      return {
        index,
        label: test.labels[index]!,
        elbo: gh.elbo[0]!,
        reconstruction: gh.reconstruction[0]!,
        kl: gh.kl[0]!,
        iwae: bounds,
        logPx: q.logPx,
        gridError: Math.abs(q.logPx - q.logPxCoarse),
        borderDrop: q.borderDrop,
        posteriorKl: q.posteriorKl,
        gridPoints: GRID_POINTS,
        halfWidth,
        seconds: (performance.now() - started) / 1000,
      };
    }
    halfWidth *= 2;
  }
}
