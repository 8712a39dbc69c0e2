/**
 * The data movement around the convolutions' products (`conv.ts`), in WebAssembly text
 * (assembled by `wat.ts`), as tasks the thread pool shares (`task(job, t, slot)`):
 *
 * - `im2col`: unfolds an image [batch, channels, H, W] into col, one row per (channel, p, q),
 *   each row the batch's grid [batch, GH, GW]: col[(c, p, q), (n, i, j)] = image[n, c,
 *   i·sH − pH + p·dH, j·sW − pW + q·dW], 0 outside the image; a task takes a run of rows;
 * - `col2im`: its adjoint, image[n, c, i·sH − pH + p·dH, j·sW − pW + q·dW] += col[(c, p, q),
 *   (n, i, j)] onto zeros, dropped outside; a task takes a run of (channel, n) planes, which it
 *   alone writes;
 * - `transpose`: [A, B, P] → [B, A, P], runs of P floats moved; a task takes a run of rows (a, b).
 *
 * Which grid positions (i, j) of tap (p, q) fall inside the image is computed once per call and
 * read from four i32 tables at `tables` (see {@link CONV_JOB}). Pointers are byte addresses.
 */

/** The ops of a {@link CONV_JOB}, by index. */
export const CONV_OPS = ['im2col', 'col2im', 'transpose'] as const;

/**
 * Word index of each field of the job descriptor for `task` (i32 words): the op (index into
 * {@link CONV_OPS}), src and dst, `tables` (rowStart[kh], rowEnd[kh], colStart[kw], colEnd[kw]:
 * the grid rows i in [rowStart[p], rowEnd[p]) whose image row lies inside it, likewise columns),
 * `count` (rows, planes or moves in all) and `chunk` (per task), then the sizes: the image
 * [batch, channels, height, width], the grid (gridHeight × gridWidth), the kernel, strides,
 * paddings and dilations. `transpose` reads A = batch, B = channels, P = width.
 */
export const CONV_JOB = {
  op: 0,
  src: 1,
  dst: 2,
  tables: 3,
  count: 4,
  chunk: 5,
  batch: 6,
  channels: 7,
  height: 8,
  width: 9,
  gridHeight: 10,
  gridWidth: 11,
  kh: 12,
  kw: 13,
  sh: 14,
  sw: 15,
  ph: 16,
  pw: 17,
  dh: 18,
  dw: 19,
} as const;

const get = (x: string): string => `(local.get $${x})`;
const set = (x: string, v: string): string => `(local.set $${x} ${v})`;
const i32 = (v: number): string => `(i32.const ${v})`;
const add = (x: string, y: string): string => `(i32.add ${x} ${y})`;
const mul = (x: string, y: string): string => `(i32.mul ${x} ${y})`;
const job = (field: keyof typeof CONV_JOB): string => `(i32.load offset=${CONV_JOB[field] * 4} ${get('job')})`;
const table = (which: 0 | 1 | 2 | 3, index: string): string => {
  // rowStart at tables, rowEnd after kh words, colStart after 2·kh, colEnd after 2·kh + kw.
  const base = [i32(0), get('kh'), mul(get('kh'), i32(2)), add(mul(get('kh'), i32(2)), get('kw'))][which]!;
  return `(i32.load (i32.add ${get('tables')} (i32.shl ${add(base, index)} ${i32(2)})))`;
};

let labels = 0;
/** for (v = start; v < end; v++) body, with fresh labels. */
function loop(v: string, start: string, end: string, body: string, step = i32(1)): string {
  const l = labels++;
  return `${set(v, start)}
    (block $done${l} (loop $next${l}
      (br_if $done${l} (i32.ge_s ${get(v)} ${end}))
      ${body}
      ${set(v, add(get(v), step))}
      (br $next${l})))`;
}

/** Stores `n` zeros from $d on (moving $d), 4 at a time then one by one. */
const zeros = (n: string): string => `${set('e', add(get('d'), `(i32.shl ${n} ${i32(2)})`))}
    (block $zdone${labels} (loop $z4${labels}
      (br_if $zdone${labels} (i32.gt_s (i32.add ${get('d')} ${i32(16)}) ${get('e')}))
      (v128.store ${get('d')} (f32x4.splat (f32.const 0)))
      ${set('d', add(get('d'), i32(16)))}
      (br $z4${labels++})))
    (block $z1done${labels} (loop $z1${labels}
      (br_if $z1done${labels} (i32.ge_u ${get('d')} ${get('e')}))
      (f32.store ${get('d')} (f32.const 0))
      ${set('d', add(get('d'), i32(4)))}
      (br $z1${labels++})))`;

/** The module as WAT text; `shared` must match the memory it is instantiated on. */
export function convWat(options: { shared: boolean }): string {
  labels = 0;
  const locals = [
    'op',
    'src',
    'dst',
    'tables',
    'start',
    'end',
    'batch',
    'channels',
    'height',
    'width',
    'gh',
    'gw',
    'kh',
    'kw',
    'sh',
    'sw',
    'ph',
    'pw',
    'dh',
    'dw',
    'r',
    'c',
    'p',
    'q',
    'n',
    'i',
    'j',
    'i0',
    'i1',
    'j0',
    'j1',
    'd',
    'e',
    's',
    'plane',
    'offset',
    'step',
    'len',
    'tail',
    'limit',
  ];
  // The valid part of a grid row: len floats from $s, the image's step $step bytes apart, to $d on
  // (moving both): 4 at a time where that stays inside the row (stride 1: one load; stride 2:
  // two loads, the even lanes kept), then one by one.
  const gather = `
              ${set('limit', add(get('d'), `(i32.shl ${get('len')} ${i32(2)})`))}
              (if (i32.eq ${get('sw')} ${i32(1)})
                (then
                  (block $g1done (loop $g1
                    (br_if $g1done (i32.gt_u (i32.add ${get('d')} ${i32(16)}) ${get('limit')}))
                    (v128.store ${get('d')} (v128.load ${get('s')}))
                    ${set('d', add(get('d'), i32(16)))}
                    ${set('s', add(get('s'), i32(16)))}
                    (br $g1))))
                (else (if (i32.eq ${get('sw')} ${i32(2)})
                  (then ;; lanes 0, 2 of each of two loads; the second load's last float is that of grid column j + 3.5 < len - 1
                    (block $g2done (loop $g2
                      (br_if $g2done (i32.gt_u (i32.add ${get('d')} ${i32(20)}) ${get('limit')}))
                      (v128.store ${get('d')} (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load ${get('s')}) (v128.load offset=16 ${get('s')})))
                      ${set('d', add(get('d'), i32(16)))}
                      ${set('s', add(get('s'), i32(32)))}
                      (br $g2)))))))
              (block $gdone (loop $g
                (br_if $gdone (i32.ge_u ${get('d')} ${get('limit')}))
                (f32.store ${get('d')} (f32.load ${get('s')}))
                ${set('d', add(get('d'), i32(4)))}
                ${set('s', add(get('s'), get('step')))}
                (br $g)))`;
  const im2col = `
    ;; row r = (c, p, q): [batch, gh, gw] floats from dst + r·batch·gh·gw·4 on
    ${loop(
      'r',
      get('start'),
      get('end'),
      `
      ${set('c', `(i32.div_u ${get('r')} ${mul(get('kh'), get('kw'))})`)}
      ${set('p', `(i32.rem_u (i32.div_u ${get('r')} ${get('kw')}) ${get('kh')})`)}
      ${set('q', `(i32.rem_u ${get('r')} ${get('kw')})`)}
      ${set('i0', table(0, get('p')))} ${set('i1', table(1, get('p')))} ${set('j0', table(2, get('q')))} ${set('j1', table(3, get('q')))}
      ${set('len', `(i32.sub ${get('j1')} ${get('j0')})`)}
      ${set('tail', `(i32.sub ${get('gw')} ${get('j1')})`)}
      ;; image element of grid (i, j): plane + i·sh·width + j·sw + offset
      ${set('offset', add(mul(`(i32.sub ${mul(get('p'), get('dh'))} ${get('ph')})`, get('width')), `(i32.sub ${mul(get('q'), get('dw'))} ${get('pw')})`))}
      ${set('d', add(get('dst'), `(i32.shl ${mul(mul(get('r'), get('batch')), mul(get('gh'), get('gw')))} ${i32(2)})`))}
      ${loop(
        'n',
        i32(0),
        get('batch'),
        `
        ${set('plane', mul(add(mul(get('n'), get('channels')), get('c')), mul(get('height'), get('width'))))}
        ;; the grid rows above the image, then each valid one (zeros, the gather, zeros), then those below
        ${zeros(mul(get('i0'), get('gw')))}
        ${loop(
          'i',
          get('i0'),
          get('i1'),
          `
          (if ${get('j0')} (then ${zeros(get('j0'))}))
          ${set('s', add(get('src'), `(i32.shl ${add(add(get('plane'), mul(mul(get('i'), get('sh')), get('width'))), add(mul(get('j0'), get('sw')), get('offset')))} ${i32(2)})`))}
          ${gather}
          (if ${get('tail')} (then ${zeros(get('tail'))}))`,
        )}
        ${zeros(mul(`(i32.sub ${get('gh')} ${get('i1')})`, get('gw')))}`,
      )}`,
    )}`;
  const col2im = `
    ;; plane u = (c, n): zeroed, then every tap's grid added onto it
    ${loop(
      'r',
      get('start'),
      get('end'),
      `
      ${set('c', `(i32.div_u ${get('r')} ${get('batch')})`)}
      ${set('n', `(i32.rem_u ${get('r')} ${get('batch')})`)}
      ${set('plane', add(get('dst'), `(i32.shl ${mul(add(mul(get('n'), get('channels')), get('c')), mul(get('height'), get('width')))} ${i32(2)})`))}
      ${set('d', get('plane'))}
      ${zeros(mul(get('height'), get('width')))}
      ${loop(
        'p',
        i32(0),
        get('kh'),
        `
        ${set('i0', table(0, get('p')))} ${set('i1', table(1, get('p')))}
        ${loop(
          'q',
          i32(0),
          get('kw'),
          `
          ${set('j0', table(2, get('q')))} ${set('j1', table(3, get('q')))}
          ${set('offset', add(mul(`(i32.sub ${mul(get('p'), get('dh'))} ${get('ph')})`, get('width')), `(i32.sub ${mul(get('q'), get('dw'))} ${get('pw')})`))}
          ;; col row (c, p, q), batch item n: from src + ((row·batch + n)·gh·gw)·4
          ${set('s', add(get('src'), `(i32.shl ${mul(add(mul(add(mul(add(mul(get('c'), get('kh')), get('p')), get('kw')), get('q')), get('batch')), get('n')), mul(get('gh'), get('gw')))} ${i32(2)})`))}
          ${loop(
            'i',
            get('i0'),
            get('i1'),
            `
            ${set('d', add(get('plane'), `(i32.shl ${add(add(mul(mul(get('i'), get('sh')), get('width')), mul(get('j0'), get('sw'))), get('offset'))} ${i32(2)})`))}
            ${set('e', add(get('s'), `(i32.shl ${add(mul(get('i'), get('gw')), get('j0'))} ${i32(2)})`))}
            ${set('limit', add(get('e'), `(i32.shl (i32.sub ${get('j1')} ${get('j0')}) ${i32(2)})`))}
            (if (i32.eq ${get('sw')} ${i32(2)})
              (then ;; 4 columns at a time onto every other float of two vectors (−0 in between: x + −0 = x); the last float is inside the row
                (block $c2done (loop $c2
                  (br_if $c2done (i32.gt_u (i32.add ${get('e')} ${i32(20)}) ${get('limit')}))
                  (local.set $cols (v128.load ${get('e')}))
                  (v128.store ${get('d')} (f32x4.add (v128.load ${get('d')}) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 16 17 18 19 (local.get $cols) (local.get $zero))))
                  (v128.store offset=16 ${get('d')} (f32x4.add (v128.load offset=16 ${get('d')}) (i8x16.shuffle 8 9 10 11 16 17 18 19 12 13 14 15 16 17 18 19 (local.get $cols) (local.get $zero))))
                  ${set('d', add(get('d'), i32(32)))}
                  ${set('e', add(get('e'), i32(16)))}
                  (br $c2)))))
            (block $c1done (loop $c1
              (br_if $c1done (i32.ge_u ${get('e')} ${get('limit')}))
              (f32.store ${get('d')} (f32.add (f32.load ${get('d')}) (f32.load ${get('e')})))
              ${set('d', add(get('d'), get('step')))}
              ${set('e', add(get('e'), i32(4)))}
              (br $c1)))`,
          )}`,
        )}`,
      )}`,
    )}`;
  const transpose = `
    ;; row u = (a, b) of src [A, B, P] → row (b, a) of dst: P floats, 4 at a time then one by one
    ${loop(
      'r',
      get('start'),
      get('end'),
      `
      ${set('s', add(get('src'), `(i32.shl ${mul(get('r'), get('width'))} ${i32(2)})`))}
      ${set('d', add(get('dst'), `(i32.shl ${mul(add(mul(`(i32.rem_u ${get('r')} ${get('channels')})`, get('batch')), `(i32.div_u ${get('r')} ${get('channels')})`), get('width'))} ${i32(2)})`))}
      ${set('e', add(get('d'), `(i32.shl ${get('width')} ${i32(2)})`))}
      (block $tdone (loop $t4
        (br_if $tdone (i32.gt_s (i32.add ${get('d')} ${i32(16)}) ${get('e')}))
        (v128.store ${get('d')} (v128.load ${get('s')}))
        ${set('d', add(get('d'), i32(16)))}
        ${set('s', add(get('s'), i32(16)))}
        (br $t4)))
      (block $t1done (loop $t1
        (br_if $t1done (i32.ge_u ${get('d')} ${get('e')}))
        (f32.store ${get('d')} (f32.load ${get('s')}))
        ${set('d', add(get('d'), i32(4)))}
        ${set('s', add(get('s'), i32(4)))}
        (br $t1)))`,
    )}`;
  return `(module
  (import "env" "mem" (memory 1 32768${options.shared ? ' shared' : ''}))
  (func $task (export "task") (param $job i32) (param $t i32) (param $slot i32)
    ${locals.map((l) => `(local $${l} i32)`).join(' ')} (local $cols v128) (local $zero v128)
    ${(['op', 'src', 'dst', 'tables', 'batch', 'channels', 'height', 'width', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw'] as const).map((f) => set(f, job(f))).join(' ')}
    ${set('gh', job('gridHeight'))} ${set('gw', job('gridWidth'))}
    ${set('start', mul(get('t'), job('chunk')))}
    ${set('end', add(get('start'), job('chunk')))}
    (if (i32.gt_s ${get('end')} ${job('count')}) (then ${set('end', job('count'))}))
    ;; the image's step along a grid row, in bytes
    ${set('step', `(i32.shl ${get('sw')} ${i32(2)})`)}
    (local.set $zero (f32x4.splat (f32.const -0)))
    (if (i32.eq ${get('op')} ${i32(0)}) (then ${im2col}))
    (if (i32.eq ${get('op')} ${i32(1)}) (then ${col2im}))
    (if (i32.eq ${get('op')} ${i32(2)}) (then ${transpose})))
)
`;
}
