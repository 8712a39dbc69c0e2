/**
 * A small assembler from WebAssembly text (WAT) to module bytes, so that the kernels a reader
 * studies are ordinary `.wat` (in `gemm.wat.ts`) and a fresh clone needs no build step and no
 * toolchain. It covers the subset the kernels use:
 *
 * - module fields: `(import "m" "n" (memory min max shared?))` and
 *   `(func $name (export "x")? (param $p t)* (result t)? (local $l t)* instr*)`;
 * - instructions in flat form (`local.get $x`) or folded form (`(i32.add (local.get $x) (i32.const 1))`),
 *   structured `block`/`loop`/`if`/`then`/`else` with `$labels`, and the memarg immediates
 *   `offset=` and `align=`;
 * - the MVP integer/float opcodes listed in {@link OPS}, 128-bit SIMD (f32x4 and f64x2, the i32x4/i64x2 lane
 *   ops and lane stores the kernels use), and relaxed-SIMD `f32x4.relaxed_madd`.
 *
 * Function types are deduplicated automatically. Errors name the function and the token.
 */

type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };
/** Immediate kinds: none, local index, label, function index, memarg (natural alignment log2), memarg then lane (a lane store), i32, f32, lane, 16 shuffle lanes. */
type Imm = '' | 'local' | 'label' | 'func' | `mem${0 | 1 | 2 | 3 | 4}` | 'mem3lane' | 'i32' | 'f32' | 'f64' | 'lane' | 'lanes16' | 'memidx';
interface Op { code: number[]; imm: Imm }

const op = (code: number | number[], imm: Imm = ''): Op => ({ code: typeof code === 'number' ? [code] : code, imm });
const simd = (code: number, imm: Imm = ''): Op => ({ code: [0xfd, ...uleb(code)], imm });

/** The opcodes the assembler knows, by their WAT name. */
const OPS: Readonly<Record<string, Op>> = {
  unreachable: op(0x00), nop: op(0x01), br: op(0x0c, 'label'), br_if: op(0x0d, 'label'),
  return: op(0x0f), call: op(0x10, 'func'), drop: op(0x1a), select: op(0x1b),
  'local.get': op(0x20, 'local'), 'local.set': op(0x21, 'local'), 'local.tee': op(0x22, 'local'),
  'i32.load': op(0x28, 'mem2'), 'f32.load': op(0x2a, 'mem2'), 'i32.store': op(0x36, 'mem2'), 'f32.store': op(0x38, 'mem2'),
  'memory.size': op(0x3f, 'memidx'), 'memory.grow': op(0x40, 'memidx'),
  'i32.const': op(0x41, 'i32'), 'f32.const': op(0x43, 'f32'), 'f64.const': op(0x44, 'f64'),
  'i32.eqz': op(0x45), 'i32.eq': op(0x46), 'i32.ne': op(0x47), 'i32.lt_s': op(0x48), 'i32.lt_u': op(0x49),
  'i32.gt_s': op(0x4a), 'i32.gt_u': op(0x4b), 'i32.le_s': op(0x4c), 'i32.le_u': op(0x4d), 'i32.ge_s': op(0x4e), 'i32.ge_u': op(0x4f),
  'i32.add': op(0x6a), 'i32.sub': op(0x6b), 'i32.mul': op(0x6c), 'i32.div_s': op(0x6d), 'i32.div_u': op(0x6e),
  'i32.rem_s': op(0x6f), 'i32.rem_u': op(0x70), 'i32.and': op(0x71), 'i32.or': op(0x72), 'i32.xor': op(0x73),
  'i32.shl': op(0x74), 'i32.shr_s': op(0x75), 'i32.shr_u': op(0x76),
  'f32.demote_f64': op(0xb6), 'f64.promote_f32': op(0xbb),
  'f32.add': op(0x92), 'f32.sub': op(0x93), 'f32.mul': op(0x94), 'f32.div': op(0x95), 'f32.min': op(0x96), 'f32.max': op(0x97),
  'v128.load': simd(0x00, 'mem4'), 'v128.load32_splat': simd(0x09, 'mem2'), 'v128.store': simd(0x0b, 'mem4'),
  'v128.load32_zero': simd(0x5c, 'mem2'), 'f32x4.splat': simd(0x13), 'f32x4.extract_lane': simd(0x1f, 'lane'),
  'f64x2.extract_lane': simd(0x21, 'lane'), 'f64x2.replace_lane': simd(0x22, 'lane'),
  'i8x16.shuffle': simd(0x0d, 'lanes16'),
  'f32x4.add': simd(0xe4), 'f32x4.sub': simd(0xe5), 'f32x4.mul': simd(0xe6), 'f32x4.div': simd(0xe7),
  'f32x4.sqrt': simd(0xe3), 'f32x4.min': simd(0xe8),
  'f64x2.splat': simd(0x14), 'f32x4.gt': simd(0x44), 'f64x2.ge': simd(0x4c), 'v128.and': simd(0x4e), 'v128.or': simd(0x50), 'v128.bitselect': simd(0x52), 'v128.any_true': simd(0x53),
  'f32x4.demote_f64x2_zero': simd(0x5e), 'f64x2.promote_low_f32x4': simd(0x5f), 'i64x2.shl': simd(0xcb),
  'f64x2.abs': simd(0xec), 'f64x2.neg': simd(0xed), 'f64x2.add': simd(0xf0), 'f64x2.sub': simd(0xf1),
  'f64x2.mul': simd(0xf2), 'f64x2.div': simd(0xf3), 'f64x2.min': simd(0xf4), 'f64x2.max': simd(0xf5), 'f32x4.max': simd(0xe9), 'f32x4.relaxed_madd': simd(0x105),
  'f32x4.abs': simd(0xe0), 'f32x4.neg': simd(0xe1), 'f32x4.ge': simd(0x46), 'f32x4.pmax': simd(0xeb), 'i32x4.shl': simd(0xab),
  'i32x4.splat': simd(0x11), 'i32x4.replace_lane': simd(0x1c, 'lane'),
  'f32x4.pmin': simd(0xea), 'f32x4.floor': simd(0x68),
  'i32x4.ne': simd(0x38), 'i32x4.all_true': simd(0xa3), 'i32x4.bitmask': simd(0xa4), 'i32x4.add': simd(0xae), 'v128.store64_lane': simd(0x5b, 'mem3lane'),
};

/** Unsigned LEB128. */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(v: number): number[] {
  const out: number[] = [];
  v |= 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const utf8 = (s: string): number[] => { const b = [...new TextEncoder().encode(s)]; return [...uleb(b.length), ...b]; };
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

type Node = string | Node[];

/** Splits WAT into a tree of s-expressions, dropping `;;` and `(; ;)` comments. */
function parse(text: string): Node[] {
  const tokens = text.replace(/\(;[\s\S]*?;\)/g, ' ').replace(/;;[^\n]*/g, ' ').match(/"[^"]*"|[()]|[^\s()]+/g) ?? [];
  const stack: Node[][] = [[]];
  for (const t of tokens) {
    if (t === '(') stack.push([]);
    else if (t === ')') {
      const done = stack.pop();
      if (!done || stack.length === 0) throw new Error('wat: unbalanced ")"');
      stack[stack.length - 1]!.push(done);
    } else stack[stack.length - 1]!.push(t);
  }
  if (stack.length !== 1) throw new Error('wat: unbalanced "("');
  return stack[0]!;
}

const head = (n: Node): string | undefined => (Array.isArray(n) && typeof n[0] === 'string' ? n[0] : undefined);
const unquote = (s: Node): string => { if (typeof s !== 'string' || !s.startsWith('"')) throw new Error(`wat: expected a string, got ${JSON.stringify(s)}`); return s.slice(1, -1); };

interface Func { name: string; exportAs?: string; params: ValType[]; results: ValType[]; locals: Map<string, number>; localTypes: ValType[]; body: Node[] }

function valType(s: Node): ValType {
  if (typeof s === 'string' && s in VALTYPE) return s as ValType;
  throw new Error(`wat: unknown value type ${JSON.stringify(s)}`);
}

/** Reads `(func ...)`: its name, export, params, result, locals; the rest is the body. */
function readFunc(node: Node[]): Func {
  const f: Func = { name: '', params: [], results: [], locals: new Map(), localTypes: [], body: [] };
  let i = 1;
  if (typeof node[i] === 'string' && (node[i] as string).startsWith('$')) f.name = node[i++] as string;
  for (; i < node.length; i++) {
    const n = node[i]!;
    const h = head(n);
    if (h === 'export') f.exportAs = unquote((n as Node[])[1]!);
    else if (h === 'param' || h === 'local') {
      const parts = (n as Node[]).slice(1);
      const named = typeof parts[0] === 'string' && parts[0].startsWith('$');
      const types = named ? [valType(parts[1]!)] : parts.map(valType);
      if (named) f.locals.set(parts[0] as string, f.params.length + f.localTypes.length);
      if (h === 'param') f.params.push(...types);
      else f.localTypes.push(...types);
    } else if (h === 'result') f.results.push(...(n as Node[]).slice(1).map(valType));
    else break;
  }
  f.body = node.slice(i);
  return f;
}

/** Encodes one function body; `funcs` maps names to indices for `call`. */
function encodeBody(f: Func, funcs: Map<string, number>): number[] {
  const out: number[] = [];
  const labels: (string | undefined)[] = [];
  const fail = (msg: string): never => { throw new Error(`wat: in func ${f.name || '?'}: ${msg}`); };
  const index = (tok: Node | undefined, table: Map<string, number>, what: string): number => {
    if (typeof tok !== 'string') return fail(`expected a ${what}`);
    if (/^\d+$/.test(tok)) return Number(tok);
    return table.get(tok) ?? fail(`unknown ${what} ${tok}`);
  };
  const labelDepth = (tok: Node | undefined): number => {
    if (typeof tok === 'string' && /^\d+$/.test(tok)) return Number(tok);
    const at = labels.lastIndexOf(tok as string);
    return at < 0 ? fail(`unknown label ${String(tok)}`) : labels.length - 1 - at;
  };

  /** Emits opcode `name` reading immediates from `args` at `at`; returns how many tokens it used. */
  function instr(name: string, args: Node[], at: number): number {
    const o = OPS[name] ?? fail(`unknown instruction ${name}`);
    out.push(...o.code);
    const imm = o.imm;
    if (imm === '') return 0;
    if (imm === 'memidx') { out.push(0); return 0; }
    if (imm === 'local') { out.push(...uleb(index(args[at], f.locals, 'local'))); return 1; }
    if (imm === 'func') { out.push(...uleb(index(args[at], funcs, 'function'))); return 1; }
    if (imm === 'label') { out.push(...uleb(labelDepth(args[at]))); return 1; }
    if (imm === 'lane') { out.push(Number(args[at])); return 1; }
    if (imm === 'lanes16') { for (let l = 0; l < 16; l++) out.push(Number(args[at + l])); return 16; }
    if (imm === 'i32') { out.push(...sleb(Number(args[at]))); return 1; }
    if (imm === 'f32') { out.push(...new Uint8Array(new Float32Array([Number(args[at])]).buffer)); return 1; }
    if (imm === 'f64') { out.push(...new Uint8Array(new Float64Array([Number(args[at])]).buffer)); return 1; }
    let align = Number(imm.slice(3, 4));
    let offset = 0;
    let used = 0;
    for (let a = args[at]; typeof a === 'string' && /^(offset|align)=/.test(a); a = args[at + ++used]) {
      const v = Number(a.split('=')[1]);
      if (a.startsWith('offset')) offset = v;
      else align = Math.log2(v);
    }
    out.push(...uleb(align), ...uleb(offset));
    if (imm === 'mem3lane') { out.push(Number(args[at + used])); return used + 1; }
    return used;
  }

  /** Opens a structured block: pushes its label and emits the opcode and block type. */
  function open(code: number, label: string | undefined, result: Node | undefined): void {
    out.push(code, result === undefined ? 0x40 : VALTYPE[valType((result as Node[])[1]!)]);
    labels.push(label);
  }

  /** `block`/`loop`/`if` header at `args[at]`: optional `$label`, optional `(result t)`. Returns tokens used. */
  function blockHeader(code: number, args: Node[], at: number): number {
    let used = 0;
    const label = typeof args[at] === 'string' && (args[at] as string).startsWith('$') ? (args[at + used++] as string) : undefined;
    const result = head(args[at + used] ?? '') === 'result' ? args[at + used++] : undefined;
    open(code, label, result);
    return used;
  }

  function seq(items: Node[]): void {
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (Array.isArray(item)) { folded(item); continue; }
      if (item === 'block' || item === 'loop' || item === 'if') i += blockHeader(item === 'block' ? 0x02 : item === 'loop' ? 0x03 : 0x04, items, i + 1);
      else if (item === 'else') out.push(0x05);
      else if (item === 'end') { labels.pop(); out.push(0x0b); }
      else i += instr(item, items, i + 1);
    }
  }

  function folded(node: Node[]): void {
    const name = head(node) ?? fail(`expected an instruction, got ${JSON.stringify(node)}`);
    if (name === 'block' || name === 'loop') {
      const used = blockHeader(name === 'block' ? 0x02 : 0x03, node, 1);
      seq(node.slice(1 + used));
    } else if (name === 'if') {
      // (if $label? (result t)? cond* (then ...) (else ...)?): the condition is evaluated first.
      const rest = node.slice(1);
      const label = typeof rest[0] === 'string' && rest[0].startsWith('$') ? (rest.shift() as string) : undefined;
      const result = head(rest[0] ?? '') === 'result' ? rest.shift() : undefined;
      const then = rest.find((n) => head(n) === 'then') as Node[] | undefined;
      const els = rest.find((n) => head(n) === 'else') as Node[] | undefined;
      for (const cond of rest) if (cond !== then && cond !== els) folded(cond as Node[]);
      open(0x04, label, result);
      seq(then?.slice(1) ?? []);
      if (els) { out.push(0x05); seq(els.slice(1)); }
    } else {
      const used = countImmediates(node);
      for (const operand of node.slice(1 + used)) {
        if (!Array.isArray(operand)) fail(`unexpected token ${operand} in (${name} ...)`);
        folded(operand as Node[]);
      }
      instr(name, node, 1);
      return;
    }
    labels.pop();
    out.push(0x0b);
  }

  /** How many leading atoms of a folded instruction are its immediates. */
  function countImmediates(node: Node[]): number {
    let n = 0;
    while (n + 1 < node.length && typeof node[n + 1] === 'string') n++;
    return n;
  }

  seq(f.body);
  out.push(0x0b);
  // Locals: one (count=1, type) entry each, which is simple and costs a few bytes.
  const locals = vector(f.localTypes.map((t) => [1, VALTYPE[t]]));
  const body = [...locals, ...out];
  return [...uleb(body.length), ...body];
}

/**
 * Assembles a WAT module (the subset described above) to its binary encoding.
 *
 * @example
 * const bytes = assembleWat('(module (func (export "two") (result i32) (i32.const 2)))');
 * new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.two(); // 2
 */
export function assembleWat(text: string): Uint8Array<ArrayBuffer> {
  const top = parse(text);
  const mod = top.length === 1 && head(top[0]!) === 'module' ? (top[0] as Node[]).slice(1) : top;
  const imports: number[][] = [];
  const funcs: Func[] = [];
  for (const field of mod) {
    const h = head(field);
    if (h === 'import') {
      const [, m, n, desc] = field as Node[];
      if (head(desc!) !== 'memory') throw new Error('wat: only memory imports are supported');
      const lim = (desc as Node[]).slice(1).filter((x) => typeof x === 'string' && !x.startsWith('$')) as string[];
      const shared = lim.includes('shared');
      const nums = lim.filter((x) => /^\d+$/.test(x)).map(Number);
      const flag = (nums.length > 1 ? 1 : 0) | (shared ? 2 : 0);
      imports.push([...utf8(unquote(m!)), ...utf8(unquote(n!)), 0x02, flag, ...nums.flatMap(uleb)]);
    } else if (h === 'func') funcs.push(readFunc(field as Node[]));
    else throw new Error(`wat: unsupported module field ${JSON.stringify(h ?? field)}`);
  }
  const types: string[] = [];
  const typeOf = funcs.map((f) => {
    const sig = JSON.stringify([f.params, f.results]);
    if (!types.includes(sig)) types.push(sig);
    return types.indexOf(sig);
  });
  const names = new Map(funcs.map((f, i) => [f.name, i]));
  const typeSec = types.map((s) => {
    const [p, r] = JSON.parse(s) as [ValType[], ValType[]];
    return [0x60, ...vector(p.map((t) => [VALTYPE[t]])), ...vector(r.map((t) => [VALTYPE[t]]))];
  });
  const exportSec = funcs.flatMap((f, i) => (f.exportAs === undefined ? [] : [[...utf8(f.exportAs), 0x00, ...uleb(i)]]));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(typeSec)),
    ...section(2, vector(imports)),
    ...section(3, vector(typeOf.map((t) => uleb(t)))),
    ...section(7, vector(exportSec)),
    ...section(10, vector(funcs.map((f) => encodeBody(f, names)))),
  ]);
}
