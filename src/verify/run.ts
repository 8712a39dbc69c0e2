import { verifyConditional } from './conditional.js';
import { verifyEstimators } from './estimators.js';
import { verifyLinearGaussianIdentities } from './identity.js';
import { verifyLinearVae } from './linear-vae.js';
import { verifyMixtures } from './mixtures.js';
import { verifyQuadrature } from './quadrature.js';
import type { VerifyRow } from './rows.js';

/** The sections of `elbo verify`, in the order they run. */
export const VERIFY_SECTIONS = ['ppca', 'linear-vae', 'quadrature', 'estimators', 'conditional', 'mixtures'] as const;
/** One section's name. */
export type VerifySection = (typeof VERIFY_SECTIONS)[number];

/** Options of {@link runVerify}. */
export interface VerifyOptions {
  /** Smaller data, grids and sample counts (about 3× faster; every check still meaningful). */
  fast?: boolean;
  /** Seeds every section (default 1). */
  seed?: number;
  /** Run only these sections (default all). */
  sections?: readonly VerifySection[];
  /** Called after each section with its rows and its wall-clock seconds. */
  onSection?(section: VerifySection, rows: VerifyRow[], seconds: number): void;
  /** Called before each section starts (for progress bars). */
  onSectionStart?(section: VerifySection): void;
}

/**
 * Runs every exact-ground-truth check and returns one row per checked statement:
 *
 * - `ppca`: the linear-Gaussian model, where ln p(x), p(z|x), the ELBO and both KLs are closed
 *   forms: the identity ln p(x) = ELBO + KL(q‖p(z|x)), tightness at the posterior, quadrature of
 *   p(z)·p(x|z), and ascent in φ with θ fixed.
 * - `linear-vae`: a linear VAE trained by the engine reaches the PPCA maximum likelihood.
 * - `quadrature`: a 2-D latent VAE trained on MNIST, its ln p(x) integrated on a grid, against
 *   its ELBO, KL(q‖p(z|x)) and the IWAE bounds.
 * - `estimators`: reparameterization versus score-function gradients of the ELBO.
 * - `conditional`: the conditional VAE on the conditional linear-Gaussian model, where
 *   ln p(x|y) = ELBO + KL(q(z|x,y)‖p(z|x,y)) is checked in closed form.
 * - `mixtures`: EM on Bernoulli and Gaussian mixtures as coordinate ascent on the ELBO, with the
 *   exact posterior as q; and a counter-example under a non-exact q.
 *
 * @example
 * const rows = runVerify({ fast: true });
 * rows.every((r) => r.pass); // true
 */
export function runVerify(options: VerifyOptions = {}): VerifyRow[] {
  const seed = options.seed ?? 1;
  const fast = options.fast ?? false;
  const run: Record<VerifySection, () => VerifyRow[]> = {
    ppca: () => verifyLinearGaussianIdentities({ seed }),
    'linear-vae': () => verifyLinearVae(fast ? { seed, examples: 300, steps: 800, draws: 5000 } : { seed, examples: 500, steps: 1500 }),
    quadrature: () => verifyQuadrature(fast ? { seed, trainImages: 1000, epochs: 2, testImages: 4, gridPoints: 128, draws: 4000 } : { seed }),
    estimators: () => verifyEstimators({ seed, draws: fast ? 5000 : 20000 }),
    conditional: () => verifyConditional({ seed }),
    mixtures: () => verifyMixtures(fast ? { seed, images: 300, iterations: 12 } : { seed }),
  };
  const rows: VerifyRow[] = [];
  for (const section of options.sections ?? VERIFY_SECTIONS) {
    options.onSectionStart?.(section);
    const started = performance.now();
    const sectionRows = run[section]();
    rows.push(...sectionRows);
    options.onSection?.(section, sectionRows, (performance.now() - started) / 1000);
  }
  return rows;
}
