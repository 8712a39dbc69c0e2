/**
 * The peers `elbo bench` runs beside elbo in the same process and run: TensorFlow.js (cpu and
 * wasm backends), jax-js (wasm, jit) and PyTorch (a child process). Each is optional: a peer whose
 * package (or torch) is missing, or that fails, is listed in `skipped` with the reason.
 *
 * src/cli/bench.ts loads this file by URL at run time (never by a static import), so that src/
 * itself depends on no ML library.
 */
import { availableParallelism } from 'node:os';
import { pairedOptions, type PairedTrainSteps } from '../../src/cli/bench-paired.js';
import type { PeerOptions, PeerReport, PeerRunner } from '../../src/cli/bench-timing.js';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** Whether an import failed because the package is not installed. */
const notInstalled = (error: unknown): boolean =>
  error instanceof Error && /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(`${(error as { code?: string }).code ?? ''} ${error.message}`);

/** Runs every peer that is available; see the module comment. */
export const runPeers: PeerRunner = async (o: PeerOptions): Promise<PeerReport> => {
  const report: PeerReport = { train_step: [], conv_train_step: [], matmul: [], skipped: [] };
  const attempt = async (peer: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      const reason = notInstalled(error)
        ? `not installed (npm install -D ${peer === 'jax-js' ? '@jax-js/jax' : '@tensorflow/tfjs @tensorflow/tfjs-backend-wasm'})`
        : message(error);
      report.skipped.push({ peer, reason });
      o.log(`${peer}: skipped, ${reason}`);
    }
  };

  for (const backend of ['cpu', 'wasm'] as const) {
    await attempt(`tfjs-${backend}`, async () => {
      const { tfjsTrainStep } = await import('./tfjs.js');
      o.log(`tfjs ${backend}: training step...`);
      report.train_step.push(await tfjsTrainStep(backend, o.batch, o.timer));
    });
  }

  await attempt('jax-js', async () => {
    const { jaxMatmul, jaxTrainStep } = await import('./jaxjs.js');
    o.log('jax-js wasm: training step...');
    report.train_step.push(await jaxTrainStep(o.batch, o.timer));
    report.matmul.push(...(await jaxMatmul(o.cases, o.quick, o.log)));
  });

  const { pairedTorchTrainStep, torchTrainStep, torchUnavailable } = await import('./pytorch.js');
  const why = torchUnavailable();
  if (why !== null) {
    report.skipped.push({ peer: 'pytorch', reason: why });
    if (o.paired) report.paired_train_step = { rows: [], unavailable: `PyTorch: ${why}` };
  } else {
    const threads = [...new Set([1, Math.min(2, availableParallelism())])];
    for (const t of threads) {
      await attempt(`pytorch-${t}`, async () => {
        o.log(`pytorch, ${t} thread${t === 1 ? '' : 's'}: training step (child process)...`);
        report.train_step.push(torchTrainStep(t, o.quick));
      });
    }
    for (const t of threads) {
      await attempt(`pytorch-conv-${t}`, async () => {
        o.log(`pytorch, ${t} thread${t === 1 ? '' : 's'}: conv VAE training step (child process)...`);
        report.conv_train_step!.push(torchTrainStep(t, o.quick, 'conv'));
      });
    }
    if (o.paired) {
      // elbo's step and PyTorch's in alternating blocks, same seconds, same load (src/cli/bench-paired.ts).
      const paired: PairedTrainSteps = { rows: [] };
      const errors: string[] = [];
      const options = pairedOptions(o.quick);
      for (const ours of o.paired.filter((p) => threads.includes(p.threads))) {
        await attempt(`pytorch-paired-${ours.threads}`, async () => {
          o.log(`paired with pytorch, ${ours.threads} thread${ours.threads === 1 ? '' : 's'}: ${options.rounds} rounds of ${options.steps} steps...`);
          try {
            const row = await pairedTorchTrainStep(ours, options);
            paired.rows.push(row);
            o.log(`  elbo ${row.ours_ms.median} ms, PyTorch ${row.theirs_ms.median} ms: ratio ${row.ratio} (per round ${row.round_ratios.median})`);
          } catch (error) {
            errors.push(`${ours.threads} thread${ours.threads === 1 ? '' : 's'}: ${message(error)}`);
            throw error;
          }
        });
      }
      if (errors.length) paired.unavailable = errors.join('; ');
      else if (paired.rows.length === 0) paired.unavailable = 'no elbo wasm backend with 1 or 2 threads to pair';
      report.paired_train_step = paired;
    }
  }
  return report;
};
