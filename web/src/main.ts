import { imageGrid, pairGrid } from 'elbo/io';
import { WorkerClient } from './client.js';
import { lineChartSvg } from 'elbo/io';
import { bars, digitColor, type Frame, numberLine, scatter, showImage } from './draw.js';
import type { BackendCheck, BatchTerms, BoundsResult, CurvePoint, FromWorker, LabBackend, LabHook, LabSettings, LatentView, ModelInfo } from './protocol.js';
import { navigatorGpu } from './webgpu/gpu-types.js';

/**
 * The page: controls, charts and pictures. All the numbers come from the training worker
 * (worker.ts); the page only draws them and forwards what the user does.
 */

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $('status'),
  message: $('message'),
  arch: $<HTMLSelectElement>('arch'),
  latent: $<HTMLSelectElement>('latent'),
  beta: $<HTMLInputElement>('beta'),
  lr: $<HTMLSelectElement>('lr'),
  backend: $<HTMLSelectElement>('backend'),
  start: $<HTMLButtonElement>('start'),
  reset: $<HTMLButtonElement>('reset'),
  checkpoint: $<HTMLInputElement>('checkpoint'),
  export: $<HTMLButtonElement>('export'),
  latentPlot: $<HTMLCanvasElement>('latent-plot'),
  decoded: $<HTMLCanvasElement>('decoded'),
  decodedZ: $('decoded-z'),
  boundsIndex: $<HTMLInputElement>('bounds-index'),
  boundsRun: $<HTMLButtonElement>('bounds-run'),
  boundsTable: $<HTMLTableElement>('bounds-table'),
};
/** Per-dimension KL above this many nats counts as informative (INFORMATIVE_KL of src/verify/collapse.ts). */
const INFORMATIVE_KL = 0.1;
const MAX_POINTS = 3000;

const state = {
  ready: false,
  status: null as Extract<FromWorker, { type: 'status' }> | null,
  model: null as ModelInfo | null,
  train: [] as CurvePoint[],
  test: [] as CurvePoint[],
  terms: null as BatchTerms | null,
  view: null as LatentView | null,
  frame: null as Frame | null,
  decoded: null as { u: number; v: number; z: number[] } | null,
  check: null as BackendCheck | null,
  message: null as { text: string; kind: 'info' | 'error' } | null,
};

function showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
  state.message = { text, kind };
  ui.message.textContent = text;
  ui.message.className = kind;
  ui.message.hidden = false;
}

const settings = (): LabSettings => ({
  arch: ui.arch.value === 'conv' ? 'conv' : 'mlp',
  latentDim: Number(ui.latent.value),
  beta: Number(ui.beta.value),
  lr: Number(ui.lr.value),
});
/** The digits in one epoch of the lab's training set. */
const EPOCH_DIGITS = 8000;
/** The model's layers in short: 784-400-20 for the MLP, 784-conv32-conv64-20 for the conv VAE. */
const layers = (m: ModelInfo): string => (m.arch === 'conv' ? `784-conv32-conv64-${m.latentDim}` : `784-${m.hiddenDims.join('-')}-${m.latentDim}`);
/** The measured speed, with the time an epoch takes at it when that is over a minute (the conv VAE off a fast backend). */
function speedText(samplesPerSec: number): string {
  const epochMinutes = EPOCH_DIGITS / samplesPerSec / 60;
  const perSample = samplesPerSec >= 1 ? `${Math.round(samplesPerSec)} samples/s` : `${(1 / samplesPerSec).toFixed(1)} s per sample`;
  return epochMinutes > 1 ? `${perSample} (${epochMinutes.toFixed(epochMinutes < 10 ? 1 : 0)} min per epoch)` : perSample;
}
const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : String(v));
const text = (id: string, value: string): void => void ($(id).textContent = value);

let drawQueued = false;
/** Redraws the curves, the terms and the scatter at the next frame (at most once per frame). */
function redraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    // SVG charts (src/io/chart.ts, as in report.html): every point inside the axes, real text, the step axis labelled.
    const series = (key: keyof CurvePoint) => [
      { name: 'train', color: '#7fa7d1', values: state.train.map((p) => p[key]), x: state.train.map((p) => p.step) },
      { name: 'test', color: '#d62728', values: state.test.map((p) => p[key]), x: state.test.map((p) => p.step), dots: true },
    ];
    const chart = (id: string, title: string, key: keyof CurvePoint): void => {
      $(id).innerHTML = lineChartSvg(series(key), { title, xLabel: 'step', yLabel: 'nats per digit', width: 400, height: 220, integerX: true });
    };
    chart('chart-elbo', 'ELBO (higher is better)', 'elbo');
    chart('chart-recon', 'reconstruction 𝔼_{q}[ln p(x|z)]', 'reconstruction');
    chart('chart-kl', 'KL(q(z|x) ‖ p(z))', 'kl');
    const t = state.terms;
    if (t) {
      [
        ['t-rec', t.reconstruction],
        ['t-kl', t.kl],
        ['t-elbo', t.elbo],
        ['t-obj', t.objective],
        ['t-loss', -t.objective],
      ].forEach(([id, v]) => text(id as string, fmt(v as number)));
      text('t-beta', `β = ${t.beta}`);
      text('t-step', `step ${t.step}, ${t.batchSize} digits`);
      const informative = t.klPerDim.filter((k) => k > INFORMATIVE_KL).length;
      bars($('kl-dims'), `KL per latent dimension: ${informative} of ${t.klPerDim.length} carry more than ${INFORMATIVE_KL} nats`, t.klPerDim, INFORMATIVE_KL);
    }
    if (state.view) {
      const axes: [string, string] = state.view.d === 2 ? ['z₁', 'z₂'] : ['PC 1', 'PC 2'];
      state.frame = scatter(ui.latentPlot, state.view.points, state.view.labels, axes, state.decoded ? [state.decoded.u, state.decoded.v] : undefined);
    }
  });
}

function showStatus(s: Extract<FromWorker, { type: 'status' }>): void {
  state.status = s;
  const m = state.model;
  const arch = m ? `${layers(m)} ${m.likelihood}${m.source === 'new' ? '' : ` from ${m.source}`}` : '';
  // The first steps on gpu.js compile its kernels (seconds on a software renderer): say so rather than "0 samples/s".
  const speed = s.samplesPerSec > 0 ? speedText(s.samplesPerSec) : s.backend === 'gpujs' ? 'compiling WebGL kernels …' : 'starting …';
  ui.status.textContent = `${s.running ? '● training' : '○ paused'} · ${arch} · ${s.detail} · step ${s.step} · epoch ${s.epoch} · ${s.running ? speed : 'idle'}`;
  showRendererNote(s.backend);
  ui.start.textContent = s.running ? 'Pause' : 'Start';
  if (ui.backend.value !== s.backend && !switching) ui.backend.value = s.backend;
}

function showModel(model: ModelInfo, fresh: boolean): void {
  state.model = model;
  if (fresh) Object.assign(state, { train: [], test: [], terms: null, decoded: null, view: null });
  const two = model.latentDim === 2;
  $('manifold-box').hidden = !two;
  $('bounds-box').hidden = !two;
  text(
    'latent-caption',
    two
      ? 'codes μ(x) of 1,000 test digits on the two latent axes; click or drag to decode a point'
      : `codes μ(x) of 1,000 test digits on the first two principal components of the ${model.latentDim}-D codes; click or drag to decode mean + u·PC₁ + v·PC₂`,
  );
  if (model.note) showMessage(model.note);
  redraw();
}

/** Adds a point, replacing one at the same step; thins long curves to every other point. */
function addPoint(curve: CurvePoint[], point: CurvePoint): void {
  if (curve.at(-1)?.step === point.step) curve.pop();
  curve.push(point);
  if (curve.length > MAX_POINTS) curve.splice(0, curve.length, ...curve.filter((_, i) => i % 2 === 0 || i === curve.length - 1));
}

function onMessage(message: FromWorker): void {
  switch (message.type) {
    case 'ready':
      state.ready = true;
      for (const b of [ui.start, ui.reset, ui.export]) b.disabled = false;
      if (!message.wasm) disableOption('wasm', 'no WebAssembly SIMD');
      return;
    case 'model':
      return showModel(message.model, message.fresh);
    case 'status':
      return showStatus(message);
    case 'train':
      addPoint(state.train, message.point);
      state.terms = message.terms;
      return redraw();
    case 'test':
      addPoint(state.test, message.point);
      return redraw();
    case 'recon':
      return showImage($('recon'), pairGrid(message.originals, message.reconstructions, message.count, 28, 28, { columns: 10 }));
    case 'manifold':
      return showImage($('manifold'), imageGrid(message.images, message.side ** 2, 28, 28, { columns: message.side, pad: 0, scale: 1 }));
    case 'latent':
      state.view = message.view;
      return redraw();
    case 'error':
      return showMessage(message.message, 'error');
  }
}

const client = new WorkerClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }), onMessage, (m) => showMessage(m, 'error'));

/** The WebGL renderer's name, unmasked (WEBGL_debug_renderer_info) where the browser allows; null without WebGL. */
function webglRenderer(): string | null {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}

/** Set when WebGL runs on the CPU (SwiftShader, llvmpipe, Microsoft's Basic Render Driver): gpu.js is then slow. */
const softwareRenderer = ((name) => (name && /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name) ? name : null))(webglRenderer());
if (softwareRenderer) ui.backend.querySelector<HTMLOptionElement>('option[value="gpujs"]')!.textContent += ' (software)';

/** Shows, while gpu.js is the backend, why it is slow when WebGL is a software renderer. */
function showRendererNote(backend: string): void {
  const note = $('renderer-note');
  const show = backend === 'gpujs' && softwareRenderer !== null;
  if (show)
    note.textContent = `WebGL here runs on a software renderer (${softwareRenderer}), not a GPU: gpu.js compiles its kernels for the CPU (about 15 s with no steps at first) and then trains more slowly than WASM SIMD. A browser with hardware acceleration gives gpu.js a real GPU.`;
  note.hidden = !show;
}

function disableOption(value: string, why: string): void {
  const option = ui.backend.querySelector<HTMLOptionElement>(`option[value="${value}"]`)!;
  option.disabled = true;
  option.textContent += ` (${why})`;
}

// WebGPU needs an adapter and shared memory between the workers (a cross-origin isolated page).
if (!crossOriginIsolated) disableOption('webgpu', 'page not cross-origin isolated');
else if (!navigatorGpu()) disableOption('webgpu', 'not in this browser');
else
  void navigatorGpu()!
    .requestAdapter()
    .then(
      (adapter) => adapter || disableOption('webgpu', 'no adapter'),
      () => disableOption('webgpu', 'no adapter'),
    );

let gpuWorker: Worker | undefined;
let switching = false;
ui.backend.onchange = async () => {
  const name = ui.backend.value as LabBackend;
  let port: MessagePort | undefined;
  if (name === 'webgpu' && !gpuWorker) {
    gpuWorker = new Worker(new URL('./webgpu/gpu-worker.ts', import.meta.url), { type: 'module' });
    const channel = new MessageChannel();
    gpuWorker.postMessage({ port: channel.port2 }, [channel.port2]);
    port = channel.port1;
  }
  switching = true;
  state.check = null;
  try {
    const backend = await client.request<{ detail: string; check: BackendCheck }>({ type: 'backend', name, ...(port ? { port } : {}) }, port ? [port] : []);
    state.check = backend.check;
    const { worst, cases } = backend.check;
    const verdict = worst <= 1 ? 'agrees with' : 'DISAGREES with';
    showMessage(
      `Backend: ${backend.detail}. Its matmul ${verdict} the float64 reference (${cases} layouts; worst error ${worst.toFixed(3)} of float32's bound).`,
      worst <= 1 ? 'info' : 'error',
    );
  } catch (error) {
    showMessage(`Could not switch to ${name}: ${(error as Error).message}`, 'error');
    if (port) {
      gpuWorker?.terminate(); // the next try starts a new GPU worker
      gpuWorker = undefined;
    }
    ui.backend.value = state.status?.backend ?? 'wasm';
  } finally {
    switching = false;
  }
};

ui.start.onclick = () => client.send({ type: state.status?.running ? 'pause' : 'start' });
ui.reset.onclick = () => client.send({ type: 'reset', settings: settings() });
ui.arch.onchange = () => {
  client.send({ type: 'reset', settings: settings() });
  showMessage(
    ui.arch.value === 'conv'
      ? 'A new convolutional VAE (elbo train --arch conv): each step does about 5½ times the MLP’s arithmetic (3.6 M multiply-adds per digit), so it trains fast only where the backend has fast convolutions; the status line shows its measured speed.'
      : 'A new MLP VAE (784-400 and back).',
  );
};
ui.latent.onchange = () => {
  client.send({ type: 'reset', settings: settings() });
  showMessage(`A new model with a ${ui.latent.value}-D latent (changing the latent size starts over).`);
};
ui.beta.onchange = ui.lr.onchange = () => client.send({ type: 'hyper', beta: Number(ui.beta.value), lr: Number(ui.lr.value) });

ui.checkpoint.onchange = async () => {
  const file = ui.checkpoint.files?.[0];
  ui.checkpoint.value = '';
  if (!file) return;
  try {
    const bytes = await file.arrayBuffer();
    const loaded = await client.request<LabSettings>({ type: 'load', name: file.name, bytes }, [bytes]);
    ui.arch.value = loaded.arch;
    if (!Array.from(ui.latent.options).some((o) => o.value === String(loaded.latentDim))) ui.latent.add(new Option(String(loaded.latentDim)));
    ui.latent.value = String(loaded.latentDim);
    ui.beta.value = String(loaded.beta);
    if (!Array.from(ui.lr.options).some((o) => Number(o.value) === loaded.lr)) ui.lr.add(new Option(String(loaded.lr)));
    ui.lr.value = Array.from(ui.lr.options).find((o) => Number(o.value) === loaded.lr)!.value;
    const m = state.model!;
    showMessage(`Loaded ${file.name}: ${layers(m)}, ${m.likelihood}, ${m.activation}, step ${m.step}. Start continues training it (with a fresh Adam).`);
  } catch (error) {
    showMessage(`Could not load ${file.name}: ${(error as Error).message}. The lab's model is unchanged.`, 'error');
  }
};

ui.export.onclick = async () => {
  try {
    const bytes = await client.request<Uint8Array>({ type: 'export' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    link.download = `elbo-lab-step${state.status?.step ?? 0}.safetensors`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    showMessage(`Exported ${link.download}: load it with elbo eval / sample / reconstruct --checkpoint ${link.download}.`);
  } catch (error) {
    showMessage(`Could not export: ${(error as Error).message}`, 'error');
  }
};

let decoding = false;
let queued: [number, number] | null = null;
/** Decodes the plot point (u, v); while one decode runs, only the latest next point is kept. */
async function decodeAt(u: number, v: number): Promise<void> {
  if (decoding) {
    queued = [u, v];
    return;
  }
  decoding = true;
  try {
    const { z, image } = await client.request<{ z: number[]; image: Float32Array }>({ type: 'decode', u, v });
    state.decoded = { u, v, z };
    showImage(ui.decoded, imageGrid(image, 1, 28, 28, { columns: 1, pad: 0, scale: 1 }));
    ui.decodedZ.textContent = z.length <= 4 ? `z = (${z.map((x) => x.toFixed(2)).join(', ')})` : `PC (${u.toFixed(2)}, ${v.toFixed(2)})`;
    redraw();
  } catch (error) {
    showMessage((error as Error).message, 'error');
  } finally {
    decoding = false;
    const next = queued;
    queued = null;
    if (next) void decodeAt(...next);
  }
}
ui.latentPlot.onpointerdown = (event) => {
  ui.latentPlot.setPointerCapture(event.pointerId);
  if (state.frame) void decodeAt(...state.frame.invert(event.offsetX, event.offsetY));
};
ui.latentPlot.onpointermove = (event) => {
  if (event.buttons & 1 && state.frame) void decodeAt(...state.frame.invert(event.offsetX, event.offsetY));
};

ui.boundsRun.onclick = async () => {
  ui.boundsRun.disabled = true;
  try {
    showBounds(await client.request<BoundsResult>({ type: 'bounds', index: Number(ui.boundsIndex.value) }));
  } catch (error) {
    showMessage((error as Error).message, 'error');
  } finally {
    ui.boundsRun.disabled = false;
  }
};

function showBounds(r: BoundsResult): void {
  const rows: Array<[string, string, number]> = [
    ['ELBO', 'E_q[ln p(x|z)] − KL(q ‖ p(z)), E_q by 20×20 Gauss–Hermite', r.elbo],
    ...r.iwae.map((b): [string, string, number] => [`IWAE_${b.k}`, `ln (1/k) Σᵢ p(x, zᵢ)/q(zᵢ|x), ${b.k} draw${b.k > 1 ? 's' : ''} zᵢ ~ q(z|x)`, b.value]),
    [
      'ln p(x)',
      `ln ∫ p(x|z) p(z) dz on a ${r.gridPoints}² grid of half-width ${r.halfWidth.toFixed(2)} around μ(x) (grid error ${r.gridError.toExponential(1)})`,
      r.logPx,
    ],
    ['gap', 'ln p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) (on the grid: ' + fmt(r.posteriorKl) + ')', r.logPx - r.elbo],
  ];
  ui.boundsTable.innerHTML = '';
  for (const [name, formula, value] of rows) {
    const tr = ui.boundsTable.appendChild(document.createElement('tr'));
    for (const [tag, content] of [
      ['th', name],
      ['td', formula],
      ['td', fmt(value)],
    ] as const)
      tr.appendChild(document.createElement(tag)).textContent = content;
  }
  ui.boundsTable.createCaption().textContent = `test digit #${r.index} (a ${r.label}), in ${r.seconds.toFixed(1)} s`;
  numberLine($('bounds-line'), [
    { name: 'ELBO', value: r.elbo, color: '#1f77b4' },
    ...r.iwae.map((b, i) => ({ name: `IWAE_${b.k}`, value: b.value, color: digitColor(i + 1) })),
    { name: 'ln p(x)', value: r.logPx, color: '#000' },
  ]);
}

const hook: LabHook = {
  get ready() {
    return state.ready && state.view !== null;
  },
  state: () => ({
    status: state.status,
    model: state.model,
    train: state.train,
    test: state.test,
    terms: state.terms,
    decoded: state.decoded,
    check: state.check,
    message: state.message,
  }),
  reconstruct: (indices) => client.request<Float32Array>({ type: 'reconstruct', indices }).then((a) => Array.from(a)),
  images: (indices) => client.request<Float32Array>({ type: 'images', indices }).then((a) => Array.from(a)),
  bounds: async (index) => {
    const result = await client.request<BoundsResult>({ type: 'bounds', index });
    showBounds(result);
    return result;
  },
};
Object.assign(window, { elboLab: hook });

client.send({ type: 'init', digitsUrl: new URL('digits.bin', document.baseURI).href, settings: settings() });
