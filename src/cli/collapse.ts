import { writePng } from '../io/png.js';
import { collapseData, collapsePicture, runCollapse, runLabel, type CollapseRun } from '../verify/collapse.js';
import { assertFinite } from './common.js';
import { checkOutputFile } from './paths.js';
import { int, parse, real, str, UsageError } from './args.js';
import { plural, warmupWarning } from './messages.js';
import { Progress } from './progress.js';

const HELP = `elbo collapse: posterior collapse and the KL weight β, measured

Usage: elbo collapse [options]

Trains the same VAE (784-64-16, Bernoulli, Adam 3e-3, statically binarized digits) with each β, without and
with a linear KL warm-up, and reports the test ELBO (with β = 1), its reconstruction and KL terms,
the active units (latent dimensions whose code mean μⱼ(x) varies over the test digits, variance
> 0.01) and the informative units (mean KL term of the dimension > 0.1 nat). Writes a picture
with every run side by side.

  --betas LIST          KL weights (default 0.5,1,4)
  --warmup N            epochs of warm-up in the warm-up runs (default 2)
  --epochs N            epochs per run (default 5)
  --train N             training digits (default 2000)
  --test N              test digits (default 500)
  --latent N            latent dimensions (default 16)
  --seed S              seed (default 1)
  --out FILE            the picture (default collapse.png)
  --json                print one JSON object instead of a table
  -h, --help            this help
`;

/** `elbo collapse`: trains the β × warm-up grid and prints the table; writes the picture. */
export async function collapseCommand(argv: string[]): Promise<void> {
  const { values } = parse('collapse', argv, {
    betas: { type: 'string' },
    warmup: { type: 'string' },
    epochs: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    latent: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const betas =
    values.betas === undefined
      ? [0.5, 1, 4]
      : String(values.betas)
          .split(',')
          .map((b) => real('betas', b.trim(), 1, 0));
  if (betas.length === 0) throw new UsageError('--betas needs at least one value');
  const options = {
    betas,
    warmupEpochs: int('warmup', values.warmup, 2, 1),
    epochs: int('epochs', values.epochs, 5),
    trainImages: int('train', values.train, 2000),
    testImages: int('test', values.test, 500, 2),
    latentDim: int('latent', values.latent, 16),
    seed: int('seed', values.seed, 1, 0),
  };
  const out = str(values.out) ?? 'collapse.png';
  checkOutputFile('out', out);
  const warning = warmupWarning(options.warmupEpochs, options.epochs);
  if (warning) process.stderr.write(`elbo collapse: warning: ${warning} in the warm-up runs\n`);
  const total = 2 * betas.length * options.epochs;
  const progress = new Progress({ unit: 'epochs', total });
  let epochsDone = 0;
  const runs = runCollapse({
    ...options,
    onEpoch: (e) => values.json || progress.update(++epochsDone, `${runLabel(e)}: epoch ${e.epoch}/${e.epochs}`),
    onRun: (r) => values.json || progress.line(`  ${runLabel(r)}: done in ${r.seconds.toFixed(1)} s (${epochsDone}/${total} epochs)`),
  });
  for (const r of runs)
    assertFinite('collapse', {
      [`test ELBO of ${runLabel(r)}`]: r.elbo,
      [`reconstruction of ${runLabel(r)}`]: r.reconstruction,
      [`KL of ${runLabel(r)}`]: r.kl,
    });
  writePng(out, collapsePicture(runs, collapseData(options.trainImages, options.testImages).test, options.seed));
  const plain = runs.map(({ model: _model, ...rest }) => rest);
  if (values.json) {
    process.stdout.write(JSON.stringify({ runs: plain, picture: out, latentDim: options.latentDim }) + '\n');
    return;
  }
  process.stdout.write(formatCollapse(runs, options.latentDim) + `picture: ${out}\n`);
}

/** The runs as a table: β, warm-up, test ELBO, reconstruction, KL, active units. */
export function formatCollapse(runs: readonly Omit<CollapseRun, 'model'>[], latentDim: number): string {
  const header = ['beta', 'warm-up', 'ELBO', 'reconstruction', 'KL', 'active units', 'KL > 0.1 nat'];
  const rows = runs.map((r) => [
    String(r.beta),
    r.warmupEpochs > 0 ? plural(r.warmupEpochs, 'epoch') : 'none',
    r.elbo.toFixed(2),
    r.reconstruction.toFixed(2),
    r.kl.toFixed(2),
    `${r.activeUnits} of ${latentDim}`,
    `${r.informativeUnits} of ${latentDim}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cols: string[]): string => cols.map((s, c) => s.padStart(widths[c]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n(test digits, nats per example; the ELBO is always evaluated with β = 1)\n';
}
