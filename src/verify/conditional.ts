import { noGrad } from '../autograd/engine.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { elbo } from '../vae/elbo.js';
import { iwae } from '../vae/iwae.js';
import { oneHot, VAE } from '../vae/model.js';
import { addDiagonal, diag, inverse, matmul, matvec, type Matrix, transpose, type Vector } from './linalg.js';
import { gaussHermite } from './latent-grid.js';
import { type Gaussian, klGaussians, type LinearGaussian, logMarginal, posterior } from './ppca.js';
import { orthogonalColumnsModel, randomLinearGaussian } from './identity.js';
import { row, type VerifyRow } from './rows.js';

const SECTION = 'conditional';

/**
 * The conditional linear-Gaussian model, the CVAE's closed-form case:
 *
 *   p(z) = N(0, I_L),  p(x | z, y) = N(W z + B y + b, σ² I_D),  y one-hot over K classes.
 *
 * With y fixed it is the PPCA model with bias b + B y ({@link givenClass}), so ln p(x|y) and
 * p(z|x, y) are the closed forms of `ppca.ts`.
 */
export interface ConditionalLinearGaussian {
  /** W, D × L. */
  weight: Matrix;
  /** B, D × K: column k is the shift of class k. */
  classWeight: Matrix;
  /** b, length D. */
  bias: Vector;
  /** σ². */
  noiseVar: number;
}

/** p(x | z, y) for one class y: the linear-Gaussian model with bias b + B e_y. */
export const givenClass = (m: ConditionalLinearGaussian, y: number): LinearGaussian => ({
  weight: m.weight,
  bias: m.bias.map((v, i) => v + m.classWeight[i]![y]!),
  noiseVar: m.noiseVar,
});

/** A draw x ~ p(x | y): z ~ N(0, I), then x = W z + B e_y + b + σ·noise. */
export function sampleConditional(m: ConditionalLinearGaussian, y: number, rng: Generator): Vector {
  const g = givenClass(m, y);
  const z = m.weight[0]!.map(() => rng.normal());
  return matvec(g.weight, z).map((v, i) => v + g.bias[i]! + Math.sqrt(m.noiseVar) * rng.normal());
}

/**
 * The engine's conditional VAE with no hidden layers and a fixed Gaussian likelihood, its weights
 * set to the model: decoder [W | B] and b, so decode(z, y) = W z + B y + b; encoder mean
 * A x + C y + c (`encoderWeight` = [A | C], L × (D + K), `encoderBias` = c) and log-variance
 * the constant `logVar` (its weight zero).
 */
export function linearCvae(m: ConditionalLinearGaussian, encoderWeight: Matrix, encoderBias: Vector, logVar: Vector): VAE {
  const d = m.bias.length;
  const l = m.weight[0]!.length;
  const k = m.classWeight[0]!.length;
  const model = new VAE({
    inputDim: d,
    latentDim: l,
    classes: k,
    hiddenDims: [],
    likelihood: 'gaussian',
    sigma: Math.sqrt(m.noiseVar),
    dtype: 'float64',
    seed: 0,
  });
  model.output.weight.data.set(m.weight.flatMap((w, i) => [...w, ...m.classWeight[i]!]));
  model.output.bias!.data.set(m.bias);
  model.mu.weight.data.set(encoderWeight.flat());
  model.mu.bias!.data.set(encoderBias);
  model.logVar.weight.data.fill(0);
  model.logVar.bias!.data.set(logVar);
  return model;
}

/**
 * The engine's ELBO of each (x, y) pair, exactly: `elbo(model.given(y), x)` at the nodes of a
 * tensor-product Gauss–Hermite rule (ε = √2 t, so z = μ + σ ⊙ ε runs over q's quadrature nodes),
 * weighted. ln p(x|z, y) is quadratic in z, which a 3-point rule per axis integrates exactly.
 */
export function engineConditionalElbo(model: VAE, xs: readonly Vector[], ys: readonly number[]): number[] {
  const l = model.config.latentDim;
  const { nodes, weights } = gaussHermite(3);
  const count = 3 ** l;
  const eps: number[] = [];
  const w: number[] = [];
  for (let g = 0; g < count; g++) {
    let weight = 1;
    for (let a = 0, rest = g; a < l; a++, rest = Math.floor(rest / 3)) {
      eps.push(Math.SQRT2 * nodes[rest % 3]!);
      weight *= weights[rest % 3]! / Math.sqrt(Math.PI);
    }
    w.push(weight);
  }
  return noGrad(() =>
    xs.map((x, n) => {
      const batchX = tensor(
        Array.from({ length: count }, () => x),
        { dtype: 'float64' },
      );
      const y = oneHot(new Array<number>(count).fill(ys[n]!), model.config.classes, 'float64');
      const values = elbo(model.given(y), batchX, { eps: tensor(eps, { shape: [count, l], dtype: 'float64' }) }).elbo.data;
      return w.reduce((s, wg, g) => s + wg * values[g]!, 0);
    }),
  );
}

/** q(z | x, y) of the linear encoder, as a full-covariance Gaussian. */
function encoderGaussian(encoderWeight: Matrix, encoderBias: Vector, logVar: Vector, x: Vector, y: number, classes: number): Gaussian {
  const input = [...x, ...Array.from({ length: classes }, (_, k) => (k === y ? 1 : 0))];
  return { mean: matvec(encoderWeight, input).map((v, i) => v + encoderBias[i]!), cov: diag(logVar.map(Math.exp)) };
}

/** Options of {@link verifyConditional}. */
export interface ConditionalOptions {
  seed?: number;
  /** Random models, each with a random encoder and a few (x, y) pairs (default 12). */
  trials?: number;
}

/**
 * Exact checks of the conditional VAE on the conditional linear-Gaussian model: with the engine's
 * CVAE (one-hot y into encoder and decoder) and its `elbo`, ln p(x|y) = ELBO + KL(q(z|x,y) ‖ p(z|x,y))
 * for a random encoder; the encoder set to the exact posterior makes the ELBO and IWAE_k tight.
 */
export function verifyConditional(options: ConditionalOptions = {}): VerifyRow[] {
  const rng = new Generator(options.seed ?? 1);
  const trials = options.trials ?? 12;
  const classes = 3;
  let worstIdentity = 0;
  let pairs = 0;
  for (let t = 0; t < trials; t++) {
    const d = 3 + (t % 4);
    const l = 1 + (t % 2);
    const base = randomLinearGaussian(d, l, rng);
    const m: ConditionalLinearGaussian = { ...base, classWeight: Array.from({ length: d }, () => Array.from({ length: classes }, () => 2 * rng.normal())) };
    const encoderWeight = Array.from({ length: l }, () => Array.from({ length: d + classes }, () => 0.5 * rng.normal()));
    const encoderBias = Array.from({ length: l }, () => rng.normal());
    const logVar = Array.from({ length: l }, () => -1 + rng.normal());
    const model = linearCvae(m, encoderWeight, encoderBias, logVar);
    const ys = Array.from({ length: classes }, (_, y) => y);
    const xs = ys.map((y) => sampleConditional(m, y, rng));
    const engine = engineConditionalElbo(model, xs, ys);
    xs.forEach((x, n) => {
      const g = givenClass(m, ys[n]!);
      const q = encoderGaussian(encoderWeight, encoderBias, logVar, x, ys[n]!, classes);
      worstIdentity = Math.max(worstIdentity, Math.abs(engine[n]! + klGaussians(q, posterior(g, x)) - logMarginal(g, x)));
      pairs++;
    });
  }
  // W with orthogonal columns: p(z|x, y) = N(M⁻¹Wᵀ(x − b − B y), σ² M⁻¹) has a diagonal covariance and a
  // mean affine in (x, y), so the linear encoder can be the exact posterior for every (x, y) at once.
  const d = 6;
  const l = 2;
  const base = orthogonalColumnsModel(d, l, rng);
  const m: ConditionalLinearGaussian = { ...base, classWeight: Array.from({ length: d }, () => Array.from({ length: classes }, () => 2 * rng.normal())) };
  const wt = transpose(m.weight);
  const mInv = inverse(addDiagonal(matmul(wt, m.weight), m.noiseVar));
  const a = matmul(mInv, wt); // L × D
  const classPart = matmul(a, m.classWeight); // L × K
  const encoderWeight = a.map((r, i) => [...r, ...classPart[i]!.map((v) => -v)]); // [A | C] = [M⁻¹Wᵀ | −M⁻¹WᵀB]
  const encoderBias = matvec(a, m.bias).map((v) => -v);
  const logVar = mInv.map((r, i) => Math.log(m.noiseVar * r[i]!));
  const exact = linearCvae(m, encoderWeight, encoderBias, logVar);
  const ys = [0, 1, 2, 2, 1, 0];
  const xs = ys.map((y) => sampleConditional(m, y, rng));
  const logPxy = xs.map((x, n) => logMarginal(givenClass(m, ys[n]!), x));
  const tightElbo = engineConditionalElbo(exact, xs, ys);
  const k = 64;
  const bound = noGrad(
    () =>
      iwae(exact.given(oneHot(ys, classes, 'float64')), tensor([...xs], { dtype: 'float64' }), k, { rng: new Generator(options.seed ?? 1), chunkSize: 16 })
        .data,
  );
  const worst = (values: ArrayLike<number>): number => logPxy.reduce((s, v, n) => Math.max(s, Math.abs(values[n]! - v)), 0);
  return [
    row(
      SECTION,
      `ln p(x|y) = ELBO + KL(q(z|x,y)‖p(z|x,y)), engine CVAE, ${trials} random θ, φ, ${pairs} (x, y) pairs`,
      worstIdentity,
      '=',
      0,
      1e-9,
      'lhs: the largest |ELBO + KL − ln p(x|y)|; ELBO by the engine (elbo on model.given(y), Gauss–Hermite ε, exact for a quadratic ln p(x|z,y))',
    ),
    row(
      SECTION,
      'encoder = exact posterior p(z|x,y) for all (x, y) at once: ELBO = ln p(x|y)',
      worst(tightElbo),
      '=',
      0,
      1e-9,
      'lhs: the largest |ELBO − ln p(x|y)| over 6 pairs, each class twice',
    ),
    row(
      SECTION,
      `encoder = exact posterior: IWAE_${k} = ln p(x|y) at every draw (y tiled over the ${k} draws)`,
      worst(bound),
      '=',
      0,
      1e-9,
      'each weight p(x, z|y)/q(z|x,y) equals p(x|y); a misaligned y would break it',
    ),
  ];
}
