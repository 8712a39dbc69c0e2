import { activate, checkMatmul, describeBackend, wasmAvailable } from './backends.js';
import { compareBounds } from './bounds.js';
import { checkpointBytes, modelFromCheckpoint } from './checkpoint.js';
import { fetchDigits } from './digits.js';
import { Lab, MANIFOLD_SIDE, RECON_COUNT } from './lab.js';
import type { BatchTerms, FromWorker, ToWorker } from './protocol.js';
import { sampledTestSet } from 'elbo/data';
import { spreadIndices } from 'elbo/vae';

/**
 * The training worker: owns the Lab, trains in slices of about SLICE_MS between which it answers
 * the page's messages, and sends curves, pictures and status. While it trains, the pictures and
 * the test curve are refreshed when due and only within a budget of JOB_SHARE of the training
 * time (so a slow backend refreshes them less often); all at once whenever training stops.
 */

const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

const SLICE_MS = 150;
const JOB_SHARE = 0.25;
let lab: Lab | undefined;
let running = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let samplesPerSec = 0;
/** When each periodic job is next due, at the earliest, and what it last cost (ms). */
const jobs = { test: { due: 0, cost: 0, every: 2000 }, pictures: { due: 0, cost: 0, every: 1500 }, latent: { due: 0, cost: 0, every: 3000 } };
/** Time spent training and on jobs since training started (ms). */
const spent = { training: 0, jobs: 0 };

function status(): void {
  if (!lab) return;
  const { name, detail } = describeBackend();
  post({ type: 'status', running, step: lab.step, epoch: lab.epoch, samplesPerSec, backend: name, detail });
}

function timed(job: keyof typeof jobs, run: () => void): void {
  const started = performance.now();
  run();
  const j = jobs[job];
  j.cost = performance.now() - started;
  j.due = performance.now() + j.every;
  spent.jobs += j.cost;
}

function sendTest(): void {
  timed('test', () => post({ type: 'test', point: lab!.testPoint() }));
}

function sendPictures(): void {
  timed('pictures', () => {
    const indices = spreadIndices(lab!.data.test.n, RECON_COUNT);
    const originals = lab!.images(indices).data;
    const reconstructions = lab!.reconstruct(indices);
    const o = Float32Array.from(originals);
    post({ type: 'recon', count: indices.length, originals: o, reconstructions }, [o.buffer, reconstructions.buffer]);
  });
}

function sendLatent(): void {
  timed('latent', () => {
    const view = lab!.latent();
    post({ type: 'latent', view }, [view.points.buffer, view.labels.buffer]);
    const images = lab!.manifold();
    if (images) post({ type: 'manifold', side: MANIFOLD_SIDE, images }, [images.buffer]);
  });
}

/** Everything the page draws, now (after a reset, a load, a pause). */
function refreshAll(fresh = false): void {
  if (fresh) samplesPerSec = 0;
  post({ type: 'model', model: lab!.info(), fresh });
  sendTest();
  sendPictures();
  sendLatent();
  status();
}

function tick(): void {
  timer = undefined;
  if (!running || !lab) return;
  const started = performance.now();
  const sums = { elbo: 0, reconstruction: 0, kl: 0, n: 0 };
  let terms: BatchTerms | undefined;
  try {
    do {
      terms = lab.trainStep();
      sums.elbo += terms.elbo * terms.batchSize;
      sums.reconstruction += terms.reconstruction * terms.batchSize;
      sums.kl += terms.kl * terms.batchSize;
      sums.n += terms.batchSize;
    } while (performance.now() - started < SLICE_MS);
  } catch (error) {
    running = false;
    post({ type: 'error', message: (error as Error).message });
    status();
    return;
  }
  spent.training += performance.now() - started;
  const rate = sums.n / ((performance.now() - started) / 1000);
  samplesPerSec = samplesPerSec === 0 ? rate : 0.7 * samplesPerSec + 0.3 * rate;
  post({
    type: 'train',
    point: { step: lab.step, elbo: sums.elbo / sums.n, reconstruction: sums.reconstruction / sums.n, kl: sums.kl / sums.n },
    terms: terms!,
  });
  const affordable = (job: keyof typeof jobs): boolean => performance.now() >= jobs[job].due && spent.jobs + jobs[job].cost <= JOB_SHARE * spent.training;
  if (affordable('pictures')) sendPictures();
  if (affordable('test')) sendTest();
  if (affordable('latent')) sendLatent();
  status();
  timer = setTimeout(tick, 0);
}

function setRunning(on: boolean): void {
  running = on;
  if (on) Object.assign(spent, { training: 0, jobs: 0 });
  if (on && !timer) timer = setTimeout(tick, 0);
  if (on) status();
  else refreshAll();
}

/** Answers a request: the value (or the error's message) goes back under the request's id. */
async function reply(id: number, work: () => unknown | Promise<unknown>, transfer: (value: unknown) => Transferable[] = () => []): Promise<void> {
  try {
    const value = await work();
    post({ type: 'reply', id, ok: true, value }, transfer(value));
    status();
  } catch (error) {
    post({ type: 'reply', id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'init') {
    const data = await fetchDigits(message.digitsUrl);
    // Bounds in nats of a density of the digits scored: training digits binarized by a fresh
    // Bernoulli draw per batch, test digits binarized once with a fixed seed (as `elbo train`).
    lab = new Lab({ train: data.train, test: sampledTestSet(data.test) }, message.settings);
    post({ type: 'ready', testCount: data.test.n, wasm: wasmAvailable() });
    if (wasmAvailable()) await activate('wasm');
    refreshAll(true);
    return;
  }
  if (!lab) throw new Error('the lab is still loading its digits');
  const l = lab;
  switch (message.type) {
    case 'start':
      return setRunning(true);
    case 'pause':
      return setRunning(false);
    case 'reset':
      l.reset(message.settings);
      running = false;
      return refreshAll(true);
    case 'hyper':
      return l.setHyper(message.beta, message.lr);
    case 'backend':
      return reply(message.id, async () => {
        await activate(message.name, message.port);
        // What the jobs cost was measured on the old backend: measure again, from a fresh budget.
        for (const job of Object.values(jobs)) job.cost = 0;
        Object.assign(spent, { training: 0, jobs: 0 });
        samplesPerSec = 0;
        const check = checkMatmul();
        status();
        return { ...describeBackend(), check };
      });
    case 'decode':
      return reply(message.id, () => l.decodeAt(message.u, message.v));
    case 'bounds':
      return reply(message.id, () => compareBounds(l.model, l.data.test, message.index));
    case 'reconstruct':
      return reply(message.id, () => l.reconstruct(message.indices));
    case 'images':
      return reply(message.id, () => Float32Array.from(l.images(message.indices).data));
    case 'export':
      return reply(
        message.id,
        () => checkpointBytes(l.model, { ...l.config, epochs: Math.max(1, l.epoch) }, l.step, l.epoch),
        (v) => [(v as Uint8Array).buffer],
      );
    case 'load':
      return reply(message.id, () => {
        const loaded = modelFromCheckpoint(new Uint8Array(message.bytes)); // throws before anything changes
        running = false;
        l.load(loaded, message.name);
        refreshAll(true);
        return { arch: loaded.config.arch, latentDim: loaded.config.latentDim, beta: loaded.config.beta, lr: loaded.config.lr };
      });
  }
}

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
};
