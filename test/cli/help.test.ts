import { afterEach, describe, expect, it, vi } from 'vitest';

/** The option names each command hands to parse(), recorded by wrapping it. */
const seen = new Map<string, string[]>();
vi.mock('../../src/cli/args.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/cli/args.js')>();
  return {
    ...real,
    parse: (command: string, argv: string[], options: Parameters<typeof real.parse>[2]) => {
      seen.set(command, Object.keys(options));
      return real.parse(command, argv, options);
    },
  };
});

// Every command main.ts dispatches to, so a new command cannot miss this test.
const { COMMANDS: commands } = await import('../../src/cli/commands.js');

afterEach(() => vi.restoreAllMocks());

describe('every command lists every option it accepts in its --help', () => {
  for (const [name, run] of Object.entries(commands)) {
    it(`elbo ${name} --help`, async () => {
      let help = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        help += String(chunk);
        return true;
      });
      await run(['--help']);
      expect(help).toContain(`elbo ${name}`);
      const options = seen.get(name)!;
      expect(options).toBeDefined();
      for (const option of [...options, 'help']) expect(help, `--${option}`).toMatch(new RegExp(`--${option}\\b`));
    });
  }
});
