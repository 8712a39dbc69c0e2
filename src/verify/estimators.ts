import { noGrad } from '../autograd/engine.js';
import { add, exp, mul, sum } from '../autograd/ops.js';
import { rand, randn } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { elbo } from '../vae/elbo.js';
import { klStandardNormal } from '../vae/kl.js';
import { logNormal } from '../vae/likelihoods.js';
import { VAE } from '../vae/model.js';
import { meanAndStandardError, row, type VerifyRow } from './rows.js';

const SECTION = 'estimators';

/** Options of {@link verifyEstimators}. */
export interface EstimatorOptions {
  seed?: number;
  /** Draws per estimator (default 20000). */
  draws?: number;
}

/** Per coordinate of the encoder heads' parameters: both estimators' means, standard errors and variances. */
export interface EstimatorComparison {
  names: string[];
  reparam: Array<{ mean: number; se: number; sd: number }>;
  score: Array<{ mean: number; se: number; sd: number }>;
  /** Largest |mean(reparam) − (∂ELBO/∂φ by backward through elbo() with the same ε)|. */
  backwardDiff: number;
}

const leafCopy = (t: Tensor, rows: number): Tensor => {
  const cols = t.shape[1]!;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) data.set(t.data.subarray(0, cols), r * cols);
  return new Tensor(data, [rows, cols], { requiresGrad: true });
};

/**
 * Two unbiased estimators of ∂ELBO/∂φ for the encoder heads φ = (μ head, logVar head) of a
 * fixed small VAE and a fixed x, one draw each, `draws` times:
 *
 * - reparameterization: ∂/∂φ ln p(x | μ + σ ⊙ ε), ε ~ N(0, I)
 * - score function (REINFORCE): ln p(x|z) · ∂/∂φ ln q_φ(z|x), z ~ q_φ(z|x)
 *
 * plus, in both, the exact gradient of −KL(q ‖ p(z)) (the analytic term needs no estimator).
 * Per-draw gradients w.r.t. μ and logVar come from one backward over `draws` copies; the chain
 * rule through the linear heads (∂μₗ/∂W_lj = hⱼ, ∂μₗ/∂bₗ = 1) gives the parameter gradients.
 */
export function compareEstimators(options: EstimatorOptions = {}): EstimatorComparison {
  const seed = options.seed ?? 1;
  const n = options.draws ?? 20000;
  const rng = new Generator(seed);
  const model = new VAE({ inputDim: 12, hiddenDims: [6], latentDim: 2, activation: 'tanh', dtype: 'float64', seed });
  const x = rand([1, 12], { dtype: 'float64', rng }).data.map((v) => (v > 0.5 ? 1 : 0));
  const x1 = new Tensor(x, [1, 12]);
  const xs = new Tensor(
    new Float64Array(n * 12).map((_, i) => x[i % 12]!),
    [n, 12],
  );
  const { h, mu, logVar } = noGrad(() => {
    const hidden = model.encoder.call(x1);
    return { h: hidden, mu: model.mu.call(hidden), logVar: model.logVar.call(hidden) };
  });
  const L = 2;
  const eps = randn([n, L], { dtype: 'float64', rng });

  // Reparameterization: per-draw ∂ ln p(x|z)/∂(μ, logVar) at z = μ + σ ⊙ ε.
  const muR = leafCopy(mu, n);
  const lvR = leafCopy(logVar, n);
  const z = add(muR, mul(exp(mul(lvR, 0.5)), eps));
  sum(model.logLikelihood(xs, model.decode(z))).backward();
  // Score function: per-draw ln p(x|z) · ∂ ln q(z|x)/∂(μ, logVar) at the same z, held fixed.
  const f = noGrad(() => model.logLikelihood(xs, model.decode(z.detach())));
  const muS = leafCopy(mu, n);
  const lvS = leafCopy(logVar, n);
  sum(logNormal(z.detach(), muS, lvS)).backward();
  // The exact gradient of −KL(q ‖ p(z)), shared by both.
  const muK = leafCopy(mu, 1);
  const lvK = leafCopy(logVar, 1);
  mul(klStandardNormal(muK, lvK), -1).sum().backward();

  const names: string[] = [];
  const reparamDraws: Float64Array[] = [];
  const scoreDraws: Float64Array[] = [];
  const hidden = Array.from(h.data);
  for (const [head, r, s, k] of [
    ['mu', muR, muS, muK],
    ['logVar', lvR, lvS, lvK],
  ] as const) {
    for (let l = 0; l < L; l++) {
      for (const [suffix, factor] of [...hidden.map((hj, j) => [`weight[${l},${j}]`, hj] as const), [`bias[${l}]`, 1] as const]) {
        names.push(`${head}.${suffix}`);
        const kl = k.grad!.data[l]! * factor;
        reparamDraws.push(Float64Array.from({ length: n }, (_, i) => r.grad!.data[i * L + l]! * factor + kl));
        scoreDraws.push(Float64Array.from({ length: n }, (_, i) => f.data[i]! * s.grad!.data[i * L + l]! * factor + kl));
      }
    }
  }
  // The same reparameterized gradient, straight from backward through elbo() on n copies of x.
  model.zeroGrad();
  elbo(model, xs, { eps }).objective.backward();
  const engine = [
    ...Array.from(model.mu.weight.grad!.data),
    ...Array.from(model.mu.bias!.grad!.data),
    ...Array.from(model.logVar.weight.grad!.data),
    ...Array.from(model.logVar.bias!.grad!.data),
  ];
  const order = names.map((name) => {
    const [head, rest] = name.split('.') as [string, string];
    const weight = /weight\[(\d+),(\d+)\]/.exec(rest);
    const base = head === 'mu' ? 0 : L * hidden.length + L;
    return weight ? base + Number(weight[1]) * hidden.length + Number(weight[2]) : base + L * hidden.length + Number(/\d+/.exec(rest)![0]);
  });
  const reparam = reparamDraws.map((d) => meanAndStandardError(d));
  const backwardDiff = Math.max(...reparam.map((r, c) => Math.abs(r.mean - engine[order[c]!]!)));
  return { names, reparam, score: scoreDraws.map((d) => meanAndStandardError(d)), backwardDiff };
}

/** The rows of the gradient-estimator section of `elbo verify`. */
export function verifyEstimators(options: EstimatorOptions = {}): VerifyRow[] {
  const c = compareEstimators(options);
  const zs = c.names.map((_, i) => Math.abs(c.reparam[i]!.mean - c.score[i]!.mean) / Math.hypot(c.reparam[i]!.se, c.score[i]!.se));
  const worst = zs.indexOf(Math.max(...zs));
  const ratios = c.names.map((_, i) => (c.score[i]!.sd / c.reparam[i]!.sd) ** 2).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  const draws = options.draws ?? 20000;
  return [
    row(
      SECTION,
      'reparameterization estimator (mean of per-draw gradients) = backward through elbo() with the same ε',
      c.backwardDiff,
      '=',
      0,
      1e-10,
      `${c.names.length} encoder-head parameters`,
    ),
    row(
      SECTION,
      `∂ELBO/∂φ: reparameterization mean = score-function mean (${c.names.length} parameters, ${draws} draws each)`,
      zs[worst]!,
      '≤',
      4,
      0,
      `lhs: largest |difference| / standard error, at ${c.names[worst]} (${c.reparam[worst]!.mean.toFixed(4)} vs ${c.score[worst]!.mean.toFixed(4)})`,
    ),
    row(
      SECTION,
      'variance of the score-function estimator ≫ reparameterization (median ratio over parameters)',
      median,
      '>',
      10,
      0,
      `ratios range from ${ratios[0]!.toFixed(1)} to ${ratios.at(-1)!.toFixed(1)}`,
    ),
  ];
}
