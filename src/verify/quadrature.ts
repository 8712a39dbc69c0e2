import { noGrad } from '../autograd/engine.js';
import { exp, mul, sub, add } from '../autograd/ops.js';
import { batches, batchTensor, binarizeStatic } from '../data/batches.js';
import { subset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { Adam } from '../nn/optim/adam.js';
import { randn, tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { elbo } from '../vae/elbo.js';
import { spreadIndices } from '../vae/evaluate.js';
import { iwae } from '../vae/iwae.js';
import { logNormal, logStandardNormal } from '../vae/likelihoods.js';
import { VAE } from '../vae/model.js';
import { logSumExpArray } from './linalg.js';
import { elboByGaussHermite, gridLogLikelihoods, integrate, latentGrid } from './latent-grid.js';
import { meanAndStandardError, row, type VerifyRow } from './rows.js';

const SECTION = 'quadrature';

/** Options of {@link verifyQuadrature}; the defaults take about 10 s of CPU. */
export interface QuadratureOptions {
  seed?: number;
  /** Binarized training digits (default 2000), epochs (default 4), hidden units (default 32). */
  trainImages?: number;
  epochs?: number;
  hidden?: number;
  /** Test digits whose ln p(x) is integrated (default 8). */
  testImages?: number;
  /** Grid cells per axis (default 160) over [−radius, radius]² (default 10). */
  gridPoints?: number;
  radius?: number;
  /** Importance draws per image, in blocks of 1000 (default 10000: ten IWAE_1000 estimates per image). */
  draws?: number;
}

/**
 * Trains a VAE with a 2-D latent on statically binarized MNIST digits (so the Bernoulli decoder
 * is a true probability mass function), in float32 with the project's `elbo()` and Adam, and
 * returns a float64 copy for the checks. The activation is tanh: the integrands are then analytic
 * in z, and the midpoint and Gauss–Hermite rules converge geometrically, so their error is
 * negligible and measurable (the h versus 2h comparison).
 */
export function trainLatent2dVae(options: QuadratureOptions = {}): VAE {
  const seed = options.seed ?? 1;
  const { train } = loadMnist();
  const data = binarizeStatic(subset(train, spreadIndices(train.n, options.trainImages ?? 2000)));
  const config = { inputDim: 784, hiddenDims: [options.hidden ?? 32], latentDim: 2, activation: 'tanh' as const, likelihood: 'bernoulli' as const };
  const model32 = new VAE({ ...config, seed });
  const optimizer = new Adam(model32.parameters(), { lr: 3e-3 });
  const rng = new Generator(seed + 1);
  for (let epoch = 0; epoch < (options.epochs ?? 4); epoch++) {
    for (const batch of batches(data, { batchSize: 100, shuffle: true, rng })) {
      const { loss } = elbo(model32, batchTensor(batch), { rng });
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    }
  }
  const model = new VAE({ ...config, dtype: 'float64' });
  model.loadStateDict(model32.stateDict());
  return model.eval();
}

/**
 * ln wᵢ = ln p(x|zᵢ) + ln p(zᵢ) − ln q(zᵢ|x) for zᵢ = μ + σ ⊙ epsᵢ, [k, n]: the same weights
 * {@link iwae} averages, built from the same library functions.
 */
function logWeights(model: VAE, x: Tensor, eps: Tensor): Tensor {
  return noGrad(() => {
    const { mu, logVar } = model.encode(x);
    const [k, n] = eps.shape as [number, number, number];
    const z = add(mu, mul(exp(mul(logVar, 0.5)), eps)); // [k, n, 2]
    const out = model.decode(z.reshape([k * n, 2])).reshape([k, n, x.shape[1]!]);
    return sub(add(model.logLikelihood(x, out), logStandardNormal(z)), logNormal(z, mu, logVar));
  });
}

/** The numbers the quadrature section compares, averaged over the test images. */
export interface QuadratureResult {
  logPx: number;
  /** Largest |ln p(x) on the h grid − on the 2h grid| over the images. */
  gridError: number;
  /** Largest (max over the border − max over the grid) of ln p(x, z): how far below the peak the grid ends. */
  borderDrop: number;
  elbo: number;
  posteriorKl: number;
  /** Largest |ELBO + KL(q‖p(z|x)) − ln p(x)| over the images. */
  worstIdentity: number;
  /**
   * Per k, paired per image: dᵢ = mean over its blocks of IWAE_k(xᵢ) − ln p(xᵢ); `mean` = the mean
   * of dᵢ over the images; `se` = √(Σ seᵢ²)/n from the spread of each image's own blocks (the
   * images are fixed, so only the Monte Carlo noise counts); `worst` = the largest dᵢ − 4·seᵢ.
   */
  iwaeGap: Array<{ k: number; mean: number; se: number; count: number; worst: number }>;
  /** Largest |iwae(k = 1000) − log-mean-exp of the same 1000 weights|. */
  iwaeLibraryDiff: number;
  /** Mean over images of the mean one-draw ELBO estimate (the k = 1 blocks) minus the quadrature ELBO, and its SE. */
  oneDraw: { mean: number; se: number };
}

/** Trains the 2-D VAE and integrates ln p(x), the ELBO, KL(q‖p(z|x)) and the IWAE bounds. */
export function runQuadrature(options: QuadratureOptions = {}): QuadratureResult {
  const seed = options.seed ?? 1;
  const model = trainLatent2dVae(options);
  const { test } = loadMnist();
  const images = binarizeStatic(subset(test, spreadIndices(test.n, options.testImages ?? 8)));
  const x = tensor(images.images, { shape: [images.n, 784], dtype: 'float64' });
  const n = images.n;
  const grid = latentGrid(options.gridPoints ?? 160, options.radius ?? 10);
  const table = gridLogLikelihoods(model, x, grid);
  const { mu, logVar } = noGrad(() => model.encode(x));
  const gh = elboByGaussHermite(model, x, 20);
  const quad = table.map((t, i) => integrate(grid, t, [mu.data[2 * i]!, mu.data[2 * i + 1]!], [logVar.data[2 * i]!, logVar.data[2 * i + 1]!]));

  const draws = options.draws ?? 10000;
  const rng = new Generator(seed + 7);
  const ks = [1, 10, 100, 1000];
  // gaps.get(k)[i]: image i's IWAE_k − ln p(xᵢ), one per block of k draws.
  const gaps = new Map<number, number[][]>(ks.map((k) => [k, Array.from({ length: n }, () => [])]));
  let iwaeLibraryDiff = 0;
  for (let start = 0; start < draws; start += 1000) {
    const eps = randn([1000, n, 2], { dtype: 'float64', rng });
    const logW = logWeights(model, x, eps); // [1000, n]
    for (let i = 0; i < n; i++) {
      const w = Array.from({ length: 1000 }, (_, j) => logW.data[j * n + i]!);
      for (const k of ks) {
        for (let b = 0; b < 1000 / k; b++) gaps.get(k)![i]!.push(logSumExpArray(w.slice(b * k, (b + 1) * k)) - Math.log(k) - quad[i]!.logPx);
      }
    }
    if (start === 0) {
      const library = iwae(model, x, 1000, { eps });
      for (let i = 0; i < n; i++) {
        const w = Array.from({ length: 1000 }, (_, j) => logW.data[j * n + i]!);
        iwaeLibraryDiff = Math.max(iwaeLibraryDiff, Math.abs(library.data[i]! - (logSumExpArray(w) - Math.log(1000))));
      }
    }
  }
  // k = 1 blocks are one-draw ELBO estimates: compare their mean with the quadrature ELBO, per image.
  const perImage = Array.from({ length: n }, (_, i) => meanAndStandardError(gaps.get(1)![i]!.map((g) => g + quad[i]!.logPx - gh.elbo[i]!)));
  const mean = (f: (i: number) => number): number => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0) / n;
  return {
    logPx: mean((i) => quad[i]!.logPx),
    gridError: Math.max(...quad.map((q) => Math.abs(q.logPx - q.logPxCoarse))),
    borderDrop: Math.max(...quad.map((q) => q.borderDrop)),
    elbo: mean((i) => gh.elbo[i]!),
    posteriorKl: mean((i) => quad[i]!.posteriorKl),
    worstIdentity: Math.max(...quad.map((q, i) => Math.abs(gh.elbo[i]! + q.posteriorKl - q.logPx))),
    iwaeGap: ks.map((k) => {
      const each = gaps.get(k)!.map((blocks) => meanAndStandardError(blocks));
      return {
        k,
        mean: each.reduce((s, e) => s + e.mean, 0) / n,
        se: Math.sqrt(each.reduce((s, e) => s + e.se ** 2, 0)) / n,
        count: gaps.get(k)!.reduce((s, b) => s + b.length, 0),
        worst: Math.max(...each.map((e) => e.mean - 4 * e.se)),
      };
    }),
    iwaeLibraryDiff,
    oneDraw: { mean: mean((i) => perImage[i]!.mean), se: Math.sqrt(perImage.reduce((s, p) => s + p.se ** 2, 0)) / n },
  };
}

/** The rows of the quadrature section of `elbo verify`. */
export function verifyQuadrature(options: QuadratureOptions = {}): VerifyRow[] {
  const r = runQuadrature(options);
  const points = options.gridPoints ?? 160;
  const tol = Math.max(1e-6, 10 * r.gridError);
  const rows = [
    row(
      SECTION,
      `2-D VAE: ln p(x) on a ${points}² grid = on its ${points / 2}² sub-grid (quadrature error)`,
      r.gridError,
      '=',
      0,
      1e-3,
      `mean ln p(x) = ${r.logPx.toFixed(4)} nats; lhs: largest |difference| over the images, a bound on the coarse grid's error (the fine grid's is far smaller); 1e-3 ≪ the IWAE gaps below`,
    ),
    row(
      SECTION,
      '2-D VAE: the grid holds the posterior (border ln p(x, z) far below its peak)',
      r.borderDrop,
      '≤',
      -20,
      0,
      'lhs: largest max(border) − max(grid) of ln p(x, z), in nats',
    ),
    row(
      SECTION,
      '2-D VAE: ELBO (Gauss–Hermite + analytic KL) + KL(q‖p(z|x)) (grid) = ln p(x) (grid)',
      r.worstIdentity,
      '=',
      0,
      tol,
      `mean ELBO ${r.elbo.toFixed(4)}, mean KL(q‖p(z|x)) ${r.posteriorKl.toFixed(4)}; tolerance max(1e-6, 10 × grid error)`,
    ),
    row(
      SECTION,
      '2-D VAE: one-draw estimates ln p(x, z) − ln q(z|x), z ~ q, average to the ELBO',
      r.oneDraw.mean,
      '=',
      0,
      4 * r.oneDraw.se,
      'lhs: mean (estimate − ELBO); unbiased, yet one estimate is not the ELBO; tolerance 4 standard errors',
    ),
    row(SECTION, '2-D VAE: iwae(k = 1000) = log-mean-exp of the same 1000 importance weights', r.iwaeLibraryDiff, '=', 0, 1e-9),
  ];
  for (const g of r.iwaeGap) {
    rows.push(
      row(
        SECTION,
        `2-D VAE: IWAE_${g.k} ≤ ln p(x), paired per image`,
        g.mean,
        '≤',
        0,
        4 * g.se + tol,
        `lhs: mean over the images of (their mean IWAE_k − their ln p(x)), ${g.count} estimates; tolerance 4 paired SE (${g.se.toExponential(1)}, from each image's own blocks) + quadrature tolerance; worst image: gap − 4 SE = ${g.worst.toExponential(2)}`,
      ),
    );
  }
  // IWAE_k rising with k is not checked: blocks of the same draws make it hold draw by draw for any weights (Jensen), so it tests nothing.
  return rows;
}
