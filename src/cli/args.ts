import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from './messages.js';

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly: unknown flags and missing values are usage errors naming the flag. */
export function parse(command: string, argv: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    argv = attachNegativeValues(argv, options);
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '') : String(error);
    const unknown = /^Unknown option '--([^'=]+)'/.exec(message)?.[1];
    const guess = unknown === undefined ? undefined : didYouMean(unknown, Object.keys(options));
    throw new UsageError(`${message}${guess ? ` (did you mean '--${guess}'?)` : ''} (see 'elbo ${command} --help')`);
  }
}

/**
 * `--flag -1` as `--flag=-1` for flags that take a value: parseArgs calls a value that starts
 * with '-' ambiguous, so `--epochs -1` would fail with a puzzling message instead of the range check.
 */
function attachNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-(\d|\.\d|inf)/i.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Decimal integers only: no hex (0x10), binary, exponent or surrounding spaces, which Number() would accept. */
const INTEGER = /^[+-]?\d+$/;
/** Decimal numbers, optionally with an exponent: no hex, no Infinity, no surrounding spaces. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A flag's value as an integer within [min, max]. */
export function int(flag: string, value: string | boolean | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !INTEGER.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` >= ${min}`}, got '${String(value)}'`);
  }
  return n;
}

/** A flag's value as a finite number within [min, max] (exclusive of min when `open`). */
export function real(flag: string, value: string | boolean | undefined, fallback: number, min = -Infinity, open = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !DECIMAL.test(value) || !Number.isFinite(n) || n < min || (open && n === min)) {
    throw new UsageError(`--${flag} must be a finite number ${open ? '>' : '>='} ${min}, got '${String(value)}'`);
  }
  return n;
}

/** A flag's value, one of `choices`. */
export function choice<T extends string>(flag: string, value: string | boolean | undefined, fallback: T, choices: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T))
    throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${String(value)}'`);
  return value as T;
}

/** A comma-separated list of positive integers, e.g. `--hidden 512,256`. */
export function intList(flag: string, value: string | boolean | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new UsageError(`--${flag} needs a value`);
  if (value.trim() === '') return [];
  return value.split(',').map((part) => int(flag, part.trim(), 0));
}

export const str = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
