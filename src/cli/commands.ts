import { baselinesCommand } from './baselines.js';
import { benchCommand } from './bench.js';
import { collapseCommand } from './collapse.js';
import { evalCommand } from './eval.js';
import { gapsCommand } from './gaps.js';
import { interpolateCommand, reconstructCommand, sampleCommand } from './generate.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';
import { verifyCommand } from './verify.js';

/** Every `elbo` command by name (main.ts dispatches through it; the help test walks it). */
export const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  train: trainCommand,
  eval: evalCommand,
  sample: sampleCommand,
  reconstruct: reconstructCommand,
  interpolate: interpolateCommand,
  info: infoCommand,
  verify: verifyCommand,
  collapse: collapseCommand,
  gaps: gapsCommand,
  serve: serveCommand,
  bench: benchCommand,
  baselines: baselinesCommand,
};
