#!/usr/bin/env node
import { UsageError } from './args.js';
import { didYouMean } from './messages.js';
import { COMMANDS as commands } from './commands.js';
import { packageVersion } from './version.js';

const HELP = `elbo: variational autoencoders on a from-scratch autodiff engine

Usage: elbo <command> [options]      (elbo <command> --help for its options)
       elbo --version

Commands
  train         train a VAE; writes checkpoint, metrics.jsonl, pictures and report.html
  eval          test ELBO and IWAE bound of a checkpoint
  sample        decode draws from the prior into a PNG grid
  reconstruct   test digits beside their reconstructions, as a PNG
  interpolate   decode a straight line between two digits' codes, as a PNG
  info          versions, cores and kernel backends
  verify        check the ELBO, IWAE and gradient math against exact ground truth
  gaps          a trained model's KL split by the aggregate posterior, and its amortization gap
  baselines     KDE, mixtures by EM and the VAE on one binarized test set, in nats
  collapse      train with KL weights beta in {0.5, 1, 4}, with and without warm-up; count active units
  bench         matmul, elementwise and training-step throughput per backend, with peers (tfjs, jax-js, PyTorch)
  serve         the VAE lab in the browser: train, watch and probe a VAE live (npm run build:web first)
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    const guess = didYouMean(name, Object.keys(commands));
    process.stderr.write(`elbo: unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''} (commands: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  try {
    await command(rest);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A progress bar may be mid-line on a terminal: clear it rather than start with a blank line.
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}elbo ${name}: ${message.split('\n')[0]}\n`);
    if (process.env.ELBO_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
