import { availableParallelism, cpus } from 'node:os';
import { getBackend, listBackends } from '../kernels/index.js';
import { parse } from './args.js';

export async function infoCommand(argv: string[]): Promise<void> {
  const { values } = parse('info', argv, {});
  if (values.help) return void process.stdout.write('elbo info: versions, cores and kernel backends\n');
  const lines = [
    `node ${process.version} (${process.platform}/${process.arch})`,
    `cores: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown cpu'})`,
    `backends: ${listBackends().join(', ')} (active: ${getBackend().name}; float64 always runs on cpu)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
