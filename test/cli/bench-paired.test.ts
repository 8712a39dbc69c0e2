import { describe, expect, it } from 'vitest';
import { type PairedTrainSteps, pairedMarkdown, pairedRounds } from '../../src/cli/bench-paired.js';
import { TorchServer, torchUnavailable } from '../../bench/peers/pytorch.js';

/** A fake side whose step times come from `ms(callIndex, stepIndex)`, recording the order of its blocks in `log`. */
function fakeSide(name: string, log: string[], ms: (block: number, step: number) => number) {
  let block = 0;
  let cpu = 0;
  return {
    steps: (n: number): number[] => {
      log.push(`${name}${n}`);
      const b = block++;
      return Array.from({ length: n }, (_, i) => ms(b, i));
    },
    cpuMs: () => (cpu += 1),
  };
}

describe('pairedRounds', () => {
  it('warms each side up once, then alternates blocks in ABBA order, timing all but the lead-in steps, with a pause after each', async () => {
    const log: string[] = [];
    const pauses: number[] = [];
    // The first two steps of a block (the lead-in) are slow; they must not count.
    const t = await pairedRounds(
      fakeSide('A', log, (_b, i) => (i < 2 ? 100 : 2)),
      fakeSide('B', log, (_b, i) => (i < 2 ? 100 : 4)),
      { rounds: 4, steps: 3, warmup: 7, leadIn: 2, pauseMs: 25, sleep: async (ms) => void pauses.push(ms) },
    );
    expect(log).toEqual(['A7', 'B7', 'A5', 'B5', 'B5', 'A5', 'A5', 'B5', 'B5', 'A5']);
    expect(pauses).toEqual(Array(10).fill(25));
    expect(t.ours_ms).toEqual({ median: 2, min: 2, max: 2 });
    expect(t.theirs_ms).toEqual({ median: 4, min: 4, max: 4 });
    expect(t.ratio).toBe(0.5);
    expect(t.round_ratios).toEqual({ median: 0.5, min: 0.5, max: 0.5 });
    expect([t.rounds, t.steps, t.warmup, t.lead_in, t.pause_ms]).toEqual([4, 3, 7, 2, 25]);
    // Each fake's CPU clock ticks once per read: one read before and one after each of the other side's blocks.
    expect([t.ours_cpu_ms_while_theirs_ran, t.theirs_cpu_ms_while_ours_ran]).toEqual([1, 1]);
  });

  it('per-round ratios cancel a load burst that slows both sides in the same round', async () => {
    // Round 2 (blocks 2 of each side after warm-up) runs at 3x for both: a burst from another process.
    const slow = (block: number): number => (block === 2 ? 3 : 1);
    const log: string[] = [];
    const t = await pairedRounds(
      fakeSide('A', log, (b, i) => slow(b) * (6 + (i % 2))),
      fakeSide('B', log, (b, i) => slow(b) * (5 + (i % 3))),
      { rounds: 3, steps: 4, warmup: 1, leadIn: 0, pauseMs: 0, sleep: async () => undefined },
    );
    // Blocks per side: warm-up (0), rounds 0-2 (1-3); A's block 2 and B's block 2 are both round 1.
    // A: 6,7,6,7 per block (18,21,18,21 in the burst); B: 5,6,7,5 (15,18,21,15).
    expect(t.ours_ms).toEqual({ median: 7, min: 6, max: 21 });
    expect(t.theirs_ms).toEqual({ median: 6.5, min: 5, max: 21 });
    expect(t.ratio).toBe(round3(7 / 6.5));
    expect(t.round_ratios).toEqual({ median: round3(6.5 / 5.5), min: round3(6.5 / 5.5), max: round3(6.5 / 5.5) });
  });

  it('rejects a block that returns the wrong number of times, and bad rounds', async () => {
    const good = { steps: (n: number) => Array(n).fill(1) };
    const bad = { steps: (n: number) => Array(n - 1).fill(1) };
    const o = { rounds: 2, steps: 3, warmup: 0, leadIn: 1, pauseMs: 0, sleep: async () => undefined };
    await expect(pairedRounds(good, bad, o)).rejects.toThrow(/peer's block of 4 steps returned 3 times/);
    await expect(pairedRounds(good, good, { ...o, rounds: 0 })).rejects.toThrow(/rounds and steps must be integers >= 1, got rounds 0/);
  });
});

const round3 = (x: number): number => Math.round(x * 1e3) / 1e3;

describe('pairedMarkdown', () => {
  it('renders one row per thread count, or the reason when PyTorch did not run', () => {
    const row = {
      threads: 2,
      ours: 'wasm (SIMD, 2 threads)',
      theirs: 'PyTorch 1.13, OpenBLAS',
      ours_ms: { median: 6.5, min: 6, max: 9 },
      theirs_ms: { median: 6.25, min: 5.9, max: 8 },
      ratio: 1.04,
      round_ratios: { median: 1.02, min: 0.9, max: 1.2 },
      rounds: 20,
      steps: 15,
      warmup: 30,
      lead_in: 10,
      pause_ms: 250,
      ours_cpu_ms_while_theirs_ran: 0.5,
      theirs_cpu_ms_while_ours_ran: 0,
      ours_loss: 200,
      theirs_loss: 201,
    };
    const md = pairedMarkdown({ rows: [row] }).join('\n');
    expect(md).toContain('### Training step paired with PyTorch, alternating rounds');
    expect(md).toContain('| 2 | 6.50 (6.00) | 6.25 (5.90) | **1.04** | 1.02 (0.90–1.20) | 20 × (10 + 15) | 0.50 / 0.00 |');
    const none: PairedTrainSteps = { rows: [], unavailable: 'PyTorch: /usr/bin/python3 cannot import torch (apt-get install python3-torch)' };
    expect(pairedMarkdown(none).join('\n')).toContain('Not measured: PyTorch: /usr/bin/python3 cannot import torch');
    expect(pairedMarkdown(null)).toEqual([]);
  });
});

const noTorch = torchUnavailable();
if (noTorch) console.log(`skipping the train_step.py --serve test: ${noTorch} (needs python3-torch)`);

describe.skipIf(noTorch !== null)('train_step.py --serve (python3-torch)', () => {
  it('reports ready, runs blocks of steps on command, answers an unknown command with an error, and quits', async () => {
    const server = await TorchServer.start(1, 2);
    try {
      expect(server.info.threads).toBe(1);
      expect(server.info.batch).toBe(128);
      expect(server.info.torch).toMatch(/^\d+\.\d+/);
      const a = await server.run(3);
      expect(a.times_ms).toHaveLength(3);
      expect(a.times_ms.every((t) => t > 0)).toBe(true);
      expect(a.cpu_ms).toBeGreaterThan(0);
      const b = await server.run(2);
      expect(b.times_ms).toHaveLength(2);
      expect(Number.isFinite(b.loss) && b.loss < a.loss).toBe(true); // Adam steps on the same batch lower the loss
      await expect(server.send('jump 3')).rejects.toThrow(/unknown command 'jump 3'/);
      expect(server.cpuMs()).toBeGreaterThan(0);
    } finally {
      expect(await server.close()).toBe(0);
    }
  });
});
