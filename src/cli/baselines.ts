import type { VAE } from '../vae/model.js';
import { type BaselineRow, runBaselines } from '../baselines/table.js';
import { loadDataset } from '../data/datasets.js';
import { loadTrainedModel } from '../vae/train.js';
import { int, intList, parse, str, UsageError } from './args.js';
import { BACKEND_FLAG, selectBackend } from './backend.js';

const HELP = `elbo baselines: KDE, mixtures by EM and the VAE on one test set, in nats

Usage: elbo baselines [options]

Every row is scored on the same test images: the test set binarized once by Bernoulli draws with
a fixed seed (as \`elbo eval\` scores a dynamically binarized run), then --test-limit of them spread
over it. KDE and mixtures give their exact ln p(x); the VAE gives lower bounds (ELBO, IWAE_k).

  --data LIST           data sets, comma-separated (default mnist,fashion-mnist)
  --train-limit N       training images spread over the training split (default 10000)
  --held-out N          of those, held out to choose the KDE bandwidth and the smoothing (default 1000)
  --test-limit N        test images (default 500)
  --components LIST     mixture sizes K (default 10,50,200)
  --iterations N        EM iterations (default 20)
  --vae-epochs N        epochs of the VAE trained here, dynamic binarization (default 10)
  --mnist-checkpoint P  score this checkpoint (a run trained with --binarize dynamic) on mnist instead
  --fashion-checkpoint P  the same for fashion-mnist
  --iwae K              importance samples of the VAE's bound (default 5000)
  --seed S              seed of the training binarization, EM and the VAE (default 1)
  --json                one JSON object per data set instead of a table
${BACKEND_FLAG}
  -h, --help            this help`;

/** The rows as an aligned text table. */
export function formatBaselines(title: string, rows: readonly BaselineRow[]): string {
  const cells = rows.map((r) => [r.model, r.nats.toFixed(2), r.kind === 'exact' ? 'ln p(x)' : 'lower bound on ln p(x)', r.detail]);
  const header = ['model', 'nats', 'what', 'how'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (cols: string[]): string =>
    cols
      .map((s, c) => (c === 1 ? s.padStart(widths[c]!) : s.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [title, line(header), ...cells.map(line)].join('\n') + '\n';
}

/** `elbo baselines`. */
export async function baselinesCommand(argv: string[]): Promise<void> {
  const { values } = parse('baselines', argv, {
    data: { type: 'string' },
    'train-limit': { type: 'string' },
    'held-out': { type: 'string' },
    'test-limit': { type: 'string' },
    components: { type: 'string' },
    iterations: { type: 'string' },
    'vae-epochs': { type: 'string' },
    'mnist-checkpoint': { type: 'string' },
    'fashion-checkpoint': { type: 'string' },
    iwae: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    backend: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const names = (str(values.data) ?? 'mnist,fashion-mnist')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const checkpoints: Record<string, string | undefined> = { mnist: str(values['mnist-checkpoint']), 'fashion-mnist': str(values['fashion-checkpoint']) };
  const options = {
    trainLimit: int('train-limit', values['train-limit'], 10000),
    heldOut: int('held-out', values['held-out'], 1000),
    testLimit: int('test-limit', values['test-limit'], 500),
    components: intList('components', values.components, [10, 50, 200]),
    iterations: int('iterations', values.iterations, 20),
    vaeEpochs: int('vae-epochs', values['vae-epochs'], 10),
    iwaeK: int('iwae', values.iwae, 5000),
    seed: int('seed', values.seed, 1, 0),
  };
  await selectBackend(values.backend);
  for (const name of names) {
    const data = loadDataset(name);
    const checkpoint = checkpoints[name];
    let vae: VAE | undefined;
    if (checkpoint) {
      const loaded = loadTrainedModel(checkpoint);
      if (loaded.config.binarize !== 'dynamic')
        throw new UsageError(
          `--${name === 'mnist' ? 'mnist' : 'fashion'}-checkpoint: ${checkpoint} was trained with --binarize ${loaded.config.binarize}; the table needs a dynamically binarized run`,
        );
      vae = loaded.model;
    }
    if (!values.json) process.stderr.write(`${name}: fitting KDE, mixtures and ${vae ? 'scoring the given VAE' : 'a VAE'}…\n`);
    const started = performance.now();
    const { rows, description } = runBaselines(data, {
      ...options,
      vae,
      onRow: (r) => values.json || process.stderr.write(`  ${r.model}: ${r.nats.toFixed(2)} nats\n`),
    });
    const seconds = (performance.now() - started) / 1000;
    if (values.json) process.stdout.write(JSON.stringify({ data: name, description, rows, seconds, options: { ...options, checkpoint } }) + '\n');
    else process.stdout.write(formatBaselines(`\n${name}: ${description}; mean test score in nats (higher is better); ${seconds.toFixed(0)} s`, rows));
  }
}
