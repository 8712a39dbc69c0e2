import { binaryData, bernoulliMixtureFamily, initBernoulliMixture } from '../baselines/bernoulli-mixture.js';
import { type EmIteration, type EStep, exactPosterior, fitEm, mixtureElbo, type MixtureFamily, totalLogLikelihood } from '../baselines/em.js';
import { gaussianMixtureFamily, initGaussianMixture, sampleGaussianMixture } from '../baselines/gaussian-mixture.js';
import { binarizeSampled } from '../data/batches.js';
import { subset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { Generator } from '../tensor/random.js';
import { spreadIndices } from '../vae/evaluate.js';
import { row, type VerifyRow } from './rows.js';

const SECTION = 'mixtures';

/** Options of {@link verifyMixtures}. */
export interface MixturesOptions {
  seed?: number;
  /** Binarized training digits for the Bernoulli mixture (default 500), its K (default 10), EM iterations (default 20). */
  images?: number;
  components?: number;
  iterations?: number;
  /** The E-step under test (default: the exact posterior). Inject a damped one to see the rows fail. */
  eStep?: EStep;
}

/** The 2-D toy: three overlapping Gaussians, 600 draws. */
function gaussianToy(seed: number): Array<[number, number]> {
  const truth = {
    weights: [0.5, 0.3, 0.2],
    means: [
      [0, 0],
      [2.5, 1],
      [-1, 3],
    ],
    covs: [
      [
        [1, 0.4],
        [0.4, 0.8],
      ],
      [
        [0.5, -0.2],
        [-0.2, 1],
      ],
      [
        [0.8, 0],
        [0, 0.3],
      ],
    ],
  };
  return sampleGaussianMixture(truth, 600, new Generator(seed)) as Array<[number, number]>;
}

function emRows(name: string, n: number, history: EmIteration[]): VerifyRow[] {
  const worstGap = Math.max(...history.map((h) => h.worstGapAfterE));
  const worstStep = Math.min(...history.map((h) => (h.logLikelihoodAfter - h.logLikelihoodBefore) / n));
  const worstM = Math.min(...history.map((h) => (h.elboAfterM - h.elboAfterE) / n));
  const first = history[0]!.logLikelihoodBefore / n;
  const last = history.at(-1)!.logLikelihoodAfter / n;
  return [
    row(
      SECTION,
      `${name}: after every E-step, ELBO Fₙ(q, θ) = ln p(xₙ) (q = exact posterior)`,
      worstGap,
      '=',
      0,
      1e-9,
      `lhs: the largest |Fₙ − ln p(xₙ)| over ${n} examples and ${history.length} iterations; the E-step closes the gap`,
    ),
    row(SECTION, `${name}: the M-step raises F for fixed q`, worstM, '≥', 0, 1e-12, 'lhs: the smallest per-example rise of F over the iterations'),
    row(
      SECTION,
      `${name}: ln p(X) never decreases over EM iterations`,
      worstStep,
      '≥',
      0,
      1e-10,
      `lhs: the smallest per-example change of ln p(X) from one iteration to the next; mean ln p(x) ${first.toFixed(3)} → ${last.toFixed(3)} nats; tolerance 1e-10 ≥ K·1e-12, the KL the E-step's rounding of responsibilities < 1e-12 to 0 may leave`,
    ),
  ];
}

/**
 * The counter-example to "a rising ELBO means a non-decreasing log-likelihood": take the EM fit
 * θ* (a local maximum of ln p(X)) and the posterior q₀ of the starting point θ₀, not θ*'s. The
 * M-step for q₀ gives θ₁ = argmax_θ F(q₀, θ), so F(q₀, θ₁) > F(q₀, θ*): the ELBO rises. But θ₁ is
 * EM's first iterate, far from the optimum, so ln p(X|θ₁) < ln p(X|θ*): the likelihood falls.
 */
function counterExample<M, D>(name: string, family: MixtureFamily<M, D>, data: D, initial: M, fitted: M, n: number): VerifyRow[] {
  const q0 = exactPosterior(family.logJoint(initial, data));
  const theta1 = family.mStep(data, q0, fitted);
  const fittedJoint = family.logJoint(fitted, data);
  const nextJoint = family.logJoint(theta1, data);
  const [elboBefore, elboAfter] = [mixtureElbo(fittedJoint, q0) / n, mixtureElbo(nextJoint, q0) / n];
  const [logPxBefore, logPxAfter] = [totalLogLikelihood(fittedJoint) / n, totalLogLikelihood(nextJoint) / n];
  return [
    row(
      SECTION,
      `${name}, non-exact q (counter-example): an M-step from the fit raises the ELBO F(q₀, θ)`,
      elboAfter,
      '>',
      elboBefore,
      0,
      'per example; q₀ = the posterior of the starting point, not of the current θ',
    ),
    row(
      SECTION,
      `${name}, non-exact q (counter-example): … while ln p(X) falls`,
      logPxAfter,
      '<',
      logPxBefore,
      0,
      `per example; so a rising ELBO does not imply a non-decreasing log-likelihood (it does when q is the exact posterior)`,
    ),
  ];
}

/**
 * The EM rows of `elbo verify`: a Bernoulli mixture on binarized digits (maximum likelihood,
 * α = 0) and a Gaussian mixture on a 2-D toy, each fitted by EM with the given E-step; then the
 * counter-example under a non-exact q, on the Gaussian toy (on the Bernoulli fit, F(q₀, θ*) is
 * −∞: the ML fit gives some pixels probability 0 under components q₀ still weighs).
 */
export function verifyMixtures(options: MixturesOptions = {}): VerifyRow[] {
  const seed = options.seed ?? 1;
  const iterations = options.iterations ?? 20;
  const { train } = loadMnist();
  const digits = binarizeSampled(subset(train, spreadIndices(train.n, options.images ?? 500)), new Generator(seed));
  const binary = binaryData(digits.images, digits.n, 784);
  const bernoulli = bernoulliMixtureFamily(0);
  const bInit = initBernoulliMixture(binary, options.components ?? 10, new Generator(seed + 1));
  const bFit = fitEm(bernoulli, binary, bInit, { iterations, eStep: options.eStep });

  const toy = gaussianToy(seed + 2);
  const gInit = initGaussianMixture(toy, 3, new Generator(seed + 3));
  const gFit = fitEm(gaussianMixtureFamily, toy, gInit, { iterations: 2 * iterations, eStep: options.eStep });
  return [
    ...emRows(`Bernoulli mixture, K = ${bInit.k}, ${binary.n} binary digits`, binary.n, bFit.history),
    ...emRows('Gaussian mixture, K = 3, 2-D toy (600 points)', toy.length, gFit.history),
    ...counterExample('Gaussian mixture', gaussianMixtureFamily, toy, gInit, gFit.model, toy.length),
  ];
}
