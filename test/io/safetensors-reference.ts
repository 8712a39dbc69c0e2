/**
 * A model of what the reference reader (Rust safetensors 0.8: serde_json into
 * `{ __metadata__?: HashMap<String, String>, <name>: TensorInfo { dtype, shape: Vec<usize>,
 * data_offsets: (usize, usize) } }`, then `Metadata::validate`) accepts, written independently of
 * src/ (a recursive parser over bytes, depth-limited like serde_json) for the fuzz test to hold
 * `decodeSafetensors` to. Stricter than serde in one place, as issue 14 asks: a key repeated in
 * any object (serde keeps the last tensor or metadata entry) is refused.
 *
 * Returns 'reject', 'accept', or 'unsupported' (accepted by the reference, but holding a dtype
 * other than F32/F64 or a size over 2^53 − 1, which elbo does not read).
 */
export type Verdict = 'accept' | 'reject' | 'unsupported';

const DTYPES = new Set([
  'BOOL',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
]);
const BITS: Record<string, bigint> = {
  BOOL: 8n,
  F4: 4n,
  F6_E2M3: 6n,
  F6_E3M2: 6n,
  U8: 8n,
  I8: 8n,
  F8_E5M2: 8n,
  F8_E4M3: 8n,
  F8_E8M0: 8n,
  I16: 16n,
  U16: 16n,
  F16: 16n,
  BF16: 16n,
  I32: 32n,
  U32: 32n,
  F32: 32n,
  F64: 64n,
  I64: 64n,
  U64: 64n,
};
const U64_MAX = 2n ** 64n - 1n;

class Reject extends Error {}

type Value =
  | { t: 'null' | 'bool' }
  | { t: 'str'; v: string }
  | { t: 'uint'; v: bigint }
  | { t: 'num' }
  | { t: 'arr'; v: Value[] }
  | { t: 'obj'; v: Array<[string, Value]> };

function parse(text: string): Value {
  let i = 0;
  const ws = () => {
    while (' \t\n\r'.includes(text[i] ?? 'x')) i++;
  };
  const value = (depth: number): Value => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth + 1 >= 128) throw new Reject(); // serde_json: recursion limit 128
      i++;
      ws();
      const closing = c === '{' ? '}' : ']';
      const items: Value[] = [];
      const members: Array<[string, Value]> = [];
      if (text[i] === closing) {
        i++;
      } else {
        for (;;) {
          if (c === '{') {
            ws();
            if (text[i] !== '"') throw new Reject();
            const key = string();
            if (members.some(([k]) => k === key)) throw new Reject();
            ws();
            if (text[i++] !== ':') throw new Reject();
            members.push([key, value(depth + 1)]);
          } else items.push(value(depth + 1));
          ws();
          const next = text[i++];
          if (next === closing) break;
          if (next !== ',') throw new Reject();
        }
      }
      return c === '{' ? { t: 'obj', v: members } : { t: 'arr', v: items };
    }
    if (c === '"') return { t: 'str', v: string() };
    for (const [word, t] of [
      ['true', 'bool'],
      ['false', 'bool'],
      ['null', 'null'],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { t };
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 2000));
    if (!m) throw new Reject();
    i += m[0].length;
    if (/^\d/.test(text[i] ?? '')) throw new Reject();
    if (!m[0].startsWith('-') && !m[2] && !m[3] && BigInt(m[0]) <= U64_MAX) return { t: 'uint', v: BigInt(m[0]) };
    if (!Number.isFinite(Number(m[0]))) throw new Reject(); // serde_json: number out of range
    return { t: 'num' };
  };
  const string = (): string => {
    i++;
    let out = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined || c.charCodeAt(0) < 0x20) throw new Reject();
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && Object.hasOwn(simple, e)) out += simple[e];
      else if (e === 'u') {
        const hex = (at: number) => (/^[0-9a-fA-F]{4}$/.test(text.slice(at, at + 4)) ? parseInt(text.slice(at, at + 4), 16) : -1);
        const u = hex(i);
        if (u < 0) throw new Reject();
        i += 4;
        if (u >= 0xdc00 && u <= 0xdfff) throw new Reject();
        if (u >= 0xd800 && u <= 0xdbff) {
          if (text.slice(i, i + 2) !== '\\u') throw new Reject();
          const low = hex(i + 2);
          if (low < 0xdc00 || low > 0xdfff) throw new Reject();
          i += 6;
          out += String.fromCharCode(u, low);
        } else out += String.fromCharCode(u);
      } else throw new Reject();
    }
  };
  const v = value(0);
  ws();
  if (i !== text.length) throw new Reject();
  return v;
}

/** The verdict of the reference rules on the bytes of a file. */
export function referenceVerdict(bytes: Uint8Array): Verdict {
  try {
    if (bytes.length < 8) throw new Reject();
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
    if (n > 100_000_000n || 8n + n > BigInt(bytes.length)) throw new Reject();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + Number(n)));
    } catch {
      throw new Reject();
    }
    const header = parse(text);
    if (header.t !== 'obj') throw new Reject();
    let unsupported = false;
    const infos: Array<{ begin: bigint; end: bigint; bytes: bigint }> = [];
    for (const [name, info] of header.v) {
      if (name === '__metadata__') {
        if (info.t === 'null') continue;
        if (info.t !== 'obj' || info.v.some(([, v]) => v.t !== 'str')) throw new Reject();
        continue;
      }
      if (info.t !== 'obj') throw new Reject();
      const field = (key: string) => info.v.find(([k]) => k === key)?.[1];
      const dtype = field('dtype');
      const shape = field('shape');
      const offsets = field('data_offsets');
      if (dtype?.t !== 'str' || !DTYPES.has(dtype.v)) throw new Reject();
      if (shape?.t !== 'arr' || !shape.v.every((d) => d.t === 'uint')) throw new Reject();
      if (offsets?.t !== 'arr' || offsets.v.length !== 2 || !offsets.v.every((d) => d.t === 'uint')) throw new Reject();
      const dims = shape.v.map((d) => (d as { v: bigint }).v);
      let numel = 1n;
      for (const d of dims) {
        numel *= d;
        if (numel > U64_MAX) throw new Reject(); // ValidationOverflow
      }
      const bits = numel * BITS[dtype.v]!;
      if (bits > U64_MAX || bits % 8n !== 0n) throw new Reject();
      const [begin, end] = offsets.v.map((d) => (d as { v: bigint }).v) as [bigint, bigint];
      infos.push({ begin, end, bytes: bits / 8n });
      if ((dtype.v !== 'F32' && dtype.v !== 'F64') || dims.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) unsupported = true;
    }
    infos.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    let start = 0n;
    for (const { begin, end, bytes: size } of infos) {
      if (begin !== start || end < begin || end - begin !== size) throw new Reject();
      start = end;
    }
    if (start + 8n + n !== BigInt(bytes.length)) throw new Reject();
    return unsupported ? 'unsupported' : 'accept';
  } catch (error) {
    if (error instanceof Reject) return 'reject';
    throw error;
  }
}
