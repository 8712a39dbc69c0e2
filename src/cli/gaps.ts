import { batches, batchTensor } from '../data/batches.js';
import { subset } from '../data/dataset.js';
import { Generator } from '../tensor/random.js';
import { spreadIndices } from '../vae/evaluate.js';
import { aggregatePosteriorSplit, inferenceGaps } from '../vae/gaps.js';
import { oneHot } from '../vae/model.js';
import { testSetFor } from '../vae/train.js';
import { int, parse, real } from './args.js';
import { selectBackend, BACKEND_FLAG } from './backend.js';
import { loadModelAndData } from './common.js';

const HELP = `elbo gaps: where a trained model's bound loses to ln p(x), measured on test images

Usage: elbo gaps --checkpoint FILE|RUN_DIR [options]

Prints (means per test image, nats):
  the KL term split through the aggregate posterior q(z) = mean of q(z|x) over the test set:
    E KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z))
  the amortization gap (encoder's q against q fitted to each image by Adam, decoder fixed) and
  the approximation gap (that fitted q against the IWAE estimate of ln p(x)).

  --checkpoint PATH     a checkpoint.safetensors, or the run folder holding it
  --n N                 test images for the gaps (default 100, spread over the test set)
  --steps N             Adam steps per image on (mu, logVar) (default 300)
  --lr X                their learning rate (default 0.01)
  --iwae K              importance samples of the ln p(x) estimate (default 1000)
  --seed S              seed of every draw (default 0)
  --data NAME|DIR       the test images to use (default: what the model was trained on)
${BACKEND_FLAG}
  -h, --help            this help
`;

export async function gapsCommand(argv: string[]): Promise<void> {
  const { values } = parse('gaps', argv, {
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    n: { type: 'string' },
    steps: { type: 'string' },
    lr: { type: 'string' },
    iwae: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
  });
  if (values.help) return void process.stdout.write(HELP);
  const n = int('n', values.n, 100);
  const steps = int('steps', values.steps, 300, 0);
  const lr = real('lr', values.lr, 1e-2, 0, true);
  const k = int('iwae', values.iwae, 1000);
  const seed = int('seed', values.seed, 0, 0);
  await selectBackend(values.backend);
  const { model, config, data } = loadModelAndData(values.checkpoint, values.data);
  // Every test image, as the run is evaluated (testSetFor: binarized once for a dynamic run), in one batch.
  const test = testSetFor(config, data.test);
  const all = batches(test, { batchSize: test.n, rng: new Generator(seed), dtype: model.config.dtype }).next().value!;
  const scored = (labels: ArrayLike<number>) => (model.config.classes > 0 ? model.given(oneHot(labels, model.config.classes, model.config.dtype)) : model);
  const split = aggregatePosteriorSplit(scored(all.labels), batchTensor(all), { seed });
  const few = batches(subset(test, spreadIndices(test.n, n)), { batchSize: n, rng: new Generator(seed), dtype: model.config.dtype }).next().value!;
  const gaps = inferenceGaps(scored(few.labels), batchTensor(few), { steps, lr, k, seed });
  const f = (v: number): string => v.toFixed(2).padStart(8);
  process.stdout.write(
    [
      `data: ${test.name}${config.binarize === 'none' ? ' (grey pixels)' : ''}`,
      `KL split over ${split.n} test images (10 draws each):`,
      `  E KL(q(z|x) || p(z))   ${f(split.meanKl)}  (closed form; by the draws ${split.meanKlSampled.toFixed(2)})`,
      `  I(x; z)                ${f(split.mutualInformation)}  (at most ln N = ${split.logN.toFixed(2)})`,
      `  KL(q(z) || p(z))       ${f(split.marginalKl)}`,
      `gaps over ${gaps.n} test images (${steps} Adam steps, lr ${lr}, per image):`,
      `  ELBO, encoder q        ${f(gaps.elboEncoder)}`,
      `  ELBO, q fitted         ${f(gaps.elboOptimized)}`,
      `  ln p(x) ≈ IWAE_${k}    ${f(gaps.logLikelihood)}`,
      `  amortization gap       ${f(gaps.amortizationGap)}`,
      `  approximation gap      ${f(gaps.approximationGap)}`,
    ].join('\n') + '\n',
  );
}
