/**
 * `npm run bench`: the same benchmark as `elbo bench` (src/cli/bench.ts), with the peers.
 *
 *   npm run bench                         Markdown tables (elbo's backends + tfjs, jax-js, PyTorch)
 *   npm run bench -- --json               one JSON object
 *   npm run bench -- --quick --no-peers   a smoke run
 *   npm run bench -- --write              also replaces the "elbo bench (with peers)" section of bench/RESULTS.md
 *
 * Every other flag is `elbo bench`'s (see `elbo bench --help`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BENCH_HELP, benchMarkdown, parseBenchArgs, runBench, withStdoutReserved } from '../src/cli/bench.js';

const BEGIN = '<!-- elbo-bench:begin -->';
const END = '<!-- elbo-bench:end -->';

/** Replaces (or appends) the marked section of bench/RESULTS.md with `section`. */
function writeResults(section: string): void {
  const path = new URL('./RESULTS.md', import.meta.url);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmark results\n';
  }
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}`;
  const at = text.indexOf(BEGIN);
  const endAt = text.indexOf(END);
  text = at >= 0 && endAt > at ? text.slice(0, at) + block + text.slice(endAt + END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, text);
  process.stderr.write(`wrote the section into ${path.pathname}\n`);
}

const argv = process.argv.slice(2);
const write = argv.includes('--write');
const options = parseBenchArgs(argv.filter((a) => a !== '--write'));
if (options.help) {
  process.stdout.write(`${BENCH_HELP}  --write               (npm run bench only) also write the tables into bench/RESULTS.md\n`);
} else {
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const report = await withStdoutReserved(() => runBench(options, command, (line) => void process.stderr.write(`${line}\n`)));
  const markdown = benchMarkdown(report, options.peers ? 'elbo bench (with peers)' : 'elbo bench');
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${markdown}\n`);
  if (write) writeResults(markdown);
}
