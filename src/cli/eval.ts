import { evaluate } from '../vae/evaluate.js';
import { scoresAreNats, testSetFor } from '../vae/train.js';
import { int, parse } from './args.js';
import { selectBackend, BACKEND_FLAG } from './backend.js';
import { assertFinite, loadModelAndData } from './common.js';
import { Progress } from './progress.js';

const HELP = `elbo eval: the test ELBO and the IWAE bound on log p(x) of a trained model

Usage: elbo eval --checkpoint FILE|RUN_DIR [options]

  --checkpoint PATH     a checkpoint.safetensors, or the run folder holding it
  --data NAME|DIR       data to evaluate on (default: what the model was trained on)
  --iwae K              importance samples for the IWAE bound (default 1000; 0 skips it)
  --limit N             evaluate the first N test images only (default all)
  --batch N             images per batch (default 100)
  --seed S              seed of the evaluation noise (default 0)
  --json                print one JSON object instead of a table
${BACKEND_FLAG}
  -h, --help            this help
`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse('eval', argv, {
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    iwae: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    backend: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const k = int('iwae', values.iwae, 1000, 0);
  const limit = int('limit', values.limit, Number.MAX_SAFE_INTEGER);
  const batchSize = int('batch', values.batch, 100);
  const seed = int('seed', values.seed, 0, 0);
  await selectBackend(values.backend);
  const { model, config, data } = loadModelAndData(values.checkpoint, values.data);
  const started = performance.now();
  const total = Math.min(limit, data.test.n);
  const progress = new Progress({ unit: 'images', total });
  const what = k > 0 ? `ELBO and IWAE (k = ${k})` : 'ELBO';
  let stage = 0;
  const testSet = testSetFor(config, data.test);
  const result = evaluate(model, testSet, {
    iwaeK: k,
    limit,
    batchSize,
    seed,
    onBatch: (done) => {
      progress.update(done, `eval ${what}`);
      // In a pipe: one line per tenth of the images (a stage), so a CI log shows it moving.
      const tenth = Math.floor((10 * done) / total);
      if (!progress.tty && tenth > stage && done < total) {
        stage = tenth;
        progress.line(`eval ${what}: ${done}/${total} images  ${progress.rate(done)}`, done);
      }
    },
  });
  progress.end();
  const seconds = (performance.now() - started) / 1000;
  assertFinite('eval', { ELBO: result.elbo, reconstruction: result.reconstruction, KL: result.kl, 'IWAE bound': result.iwae });
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...result, k, data: testSet.name, nats: scoresAreNats(config), seconds }) + '\n');
    return;
  }
  // A Bernoulli decoder scored on grey pixels gives the negative BCE objective, not nats of a density.
  const unit = scoresAreNats(config) ? 'nats' : 'nats of the BCE objective (grey pixels: not a log-likelihood)';
  const lines = [
    `data: ${testSetFor(config, data.test).name}, ${result.n} images`,
    `ELBO            ${result.elbo.toFixed(3)} ${unit}  (reconstruction ${result.reconstruction.toFixed(3)}, KL ${result.kl.toFixed(3)})`,
    ...(k > 0 ? [`IWAE (k = ${k})  ${result.iwae!.toFixed(3)} ${unit}  (a tighter lower bound on log p(x))`] : []),
    `${seconds.toFixed(1)} s`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
