import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { parseStrictJson, StrictJsonError, type StrictJsonValue } from './strict-json.js';

/**
 * The safetensors format (github.com/huggingface/safetensors), for float32 and float64 tensors:
 *
 *     bytes 0..8      N, the header's length in bytes, an unsigned 64-bit little-endian integer
 *     bytes 8..8+N    the header: UTF-8 JSON, padded with spaces so that 8 + N is a multiple of 8
 *                     { "__metadata__": { string: string },        (optional)
 *                       name: { "dtype": "F32" | "F64", "shape": [d₀, …], "data_offsets": [begin, end] }, … }
 *     bytes 8+N..     the data: each tensor's elements, row-major, little-endian, at
 *                     [begin, end) counted from the start of the data section
 *
 * Written as the reference implementation writes it: compact JSON with `__metadata__` first,
 * tensors ordered by decreasing alignment (F64 before F32) and then by name (UTF-8 bytes),
 * packed back to back from offset 0, so every tensor starts aligned to its element size.
 */

/** A malformed, truncated or unsupported safetensors file; the message names the field. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The largest header accepted, in bytes (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** What a safetensors file holds. */
export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const CODE: Record<DType, 'F32' | 'F64'> = { float32: 'F32', float64: 'F64' };
const ITEM_SIZE = { F32: 4, F64: 8 } as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

const fail = (message: string): never => {
  throw new SafetensorsError(`safetensors: ${message}`);
};
/** A name, quoted and shortened, safe to put in a one-line message. */
const short = (text: string): string => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
const quote = (name: string): string => JSON.stringify(short(name));
const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/**
 * The bytes of a safetensors file holding `tensors` and, when given, `metadata`.
 * @throws SafetensorsError for a name `__metadata__`, a non-Tensor value or a non-string metadata value.
 */
export function encodeSafetensors(tensors: Readonly<Record<string, Tensor>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === '__metadata__') fail('"__metadata__" is reserved and cannot name a tensor');
    if (!(t instanceof Tensor)) fail(`tensor ${quote(name)}: value is not a Tensor`);
    return { name, key: utf8.encode(name), t, code: CODE[t.dtype] };
  });
  entries.sort((a, b) => ITEM_SIZE[b.code] - ITEM_SIZE[a.code] || compareBytes(a.key, b.key));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const fields = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== 'string') fail(`__metadata__ value for ${quote(k)} is ${typeof v}, expected a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, t, code } of entries) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${code}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8; // pad so the data starts at a multiple of 8
  if (n > MAX_HEADER_BYTES) fail(`header would be ${n} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true); // N as u64 little-endian: low word,
  view.setUint32(4, Math.floor(n / 2 ** 32), true); // then high word
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n); // spaces
  let at = 8 + n;
  for (const { t } of entries) {
    writeLittleEndian(t.data, out, at);
    at += t.data.byteLength;
  }
  return out;
}

function writeLittleEndian(data: Float32Array | Float64Array, out: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  if (data instanceof Float64Array) data.forEach((v, i) => view.setFloat64(8 * i, v, true));
  else data.forEach((v, i) => view.setFloat32(4 * i, v, true));
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : v instanceof Map ? 'an object' : typeof v === 'bigint' || typeof v === 'number' ? 'a number' : typeof v;

/** A short, one-line rendering of a parsed value for a message; never recursive, never long. */
function preview(v: StrictJsonValue | undefined): string {
  const scalar = (x: StrictJsonValue | undefined): string =>
    x === undefined
      ? 'nothing'
      : Array.isArray(x)
        ? '[...]'
        : x instanceof Map
          ? '{...}'
          : typeof x === 'string'
            ? quote(x)
            : typeof x === 'number' && Object.is(x, -0)
              ? '-0'
              : String(x);
  if (!Array.isArray(v)) return scalar(v);
  const shown = v.slice(0, 6).map(scalar);
  return `[${shown.join(', ')}${v.length > 6 ? ', ...' : ''}]`;
}

/** The largest value of a Rust usize on a 64-bit machine, the type of every size and offset. */
const USIZE_MAX = 2n ** 64n - 1n;
/** A JSON integer as the reference reads a usize: digits only (no sign, fraction or exponent), at most 2⁶⁴ − 1. */
const isUsize = (v: StrictJsonValue | undefined): v is bigint => typeof v === 'bigint' && v <= USIZE_MAX;

interface Entry {
  name: string;
  code: 'F32' | 'F64';
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, info: StrictJsonValue, dataLength: number): Entry {
  const where = `tensor ${quote(name)}`;
  if (!(info instanceof Map)) return fail(`${where}: expected an object with dtype, shape and data_offsets, got ${describe(info)}`);
  const dtype = info.get('dtype');
  const shape = info.get('shape');
  const offsets = info.get('data_offsets');
  if (typeof dtype !== 'string') return fail(`${where}: dtype must be a string, got ${dtype === undefined ? 'nothing' : describe(dtype)}`);
  if (dtype !== 'F32' && dtype !== 'F64') return fail(`${where}: unsupported dtype ${quote(dtype)} (only F32 and F64 are supported)`);
  if (!Array.isArray(shape) || !shape.every(isUsize)) {
    return fail(`${where}: shape must be an array of non-negative integers (digits only), got ${preview(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isUsize)) {
    return fail(`${where}: data_offsets must be two non-negative integers [begin, end] (digits only), got ${preview(offsets)}`);
  }
  const [begin, end] = offsets as [bigint, bigint];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > BigInt(dataLength)) fail(`${where}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes)`);
  // numel, then its size in bits, with the reference's overflow checks (over 2⁶⁴ − 1 is an error)
  let numel: bigint | null = 1n;
  for (const d of shape as bigint[]) numel = numel === null || numel * d > USIZE_MAX ? null : numel * d;
  const bits = numel === null || numel * BigInt(8 * ITEM_SIZE[dtype]) > USIZE_MAX ? null : numel * BigInt(8 * ITEM_SIZE[dtype]);
  const bytes = bits === null ? null : bits / 8n;
  const sizes = shape as bigint[];
  const shown = short(`[${sizes.join(', ')}]`);
  if (bytes !== end - begin) {
    fail(`${where}: ${dtype} ${shown} needs ${bytes === null ? 'too many' : bytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  if (!sizes.every((d) => d <= BigInt(Number.MAX_SAFE_INTEGER))) fail(`${where}: shape ${shown} has a size over 2^53 - 1, which this reader does not support`);
  return { name, code: dtype, shape: sizes.map(Number), begin: Number(begin), end: Number(end) };
}

function parseMetadata(value: StrictJsonValue): Record<string, string> {
  if (value === null) return {};
  if (!(value instanceof Map)) return fail(`__metadata__ must be an object of strings, got ${describe(value)}`);
  for (const [k, v] of value) {
    if (typeof v !== 'string') fail(`__metadata__ value for ${quote(k)} is ${describe(v)}, expected a string`);
  }
  return Object.fromEntries(value) as Record<string, string>;
}

function readTensor(bytes: Uint8Array, start: number, e: Entry): Tensor {
  const n = e.end - e.begin;
  const copy = new ArrayBuffer(n); // a fresh, aligned buffer owned by the tensor
  new Uint8Array(copy).set(bytes.subarray(start + e.begin, start + e.end));
  const data = e.code === 'F64' ? new Float64Array(copy) : new Float32Array(copy);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(copy);
    for (let i = 0; i < data.length; i++) data[i] = e.code === 'F64' ? view.getFloat64(8 * i, true) : view.getFloat32(4 * i, true);
  }
  return new Tensor(data, e.shape);
}

/**
 * Parses and validates the bytes of a safetensors file: the header length against the file
 * size (and the 100 MB limit), the JSON (strictly, see `parseStrictJson`: no duplicate
 * keys, no lone surrogates, sizes and offsets written as integers), each dtype (F32/F64 only), shape and data_offsets,
 * that the tensors tile the data section exactly (in bounds, no gaps, no overlaps), that each
 * byte count is numel × itemsize, and that metadata values are strings. Tensors are copied.
 * @throws SafetensorsError with a one-line message naming the tensor or field at fault.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_HEADER_BYTES) fail(`header length ${(BigInt(high) << 32n) | BigInt(low)} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = low;
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the file (${bytes.length - 8} bytes after the length)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: StrictJsonValue;
  try {
    header = parseStrictJson(text); // duplicate keys, lone surrogates, 4.0 for 4 and deep nesting are errors here
  } catch (error) {
    return fail(`header is not valid JSON (${error instanceof StrictJsonError ? error.message : 'unreadable'})`);
  }
  if (!(header instanceof Map)) return fail(`header must be a JSON object, got ${describe(header)}`);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of header) {
    if (name === '__metadata__') metadata = parseMetadata(info);
    else entries.push(parseEntry(name, info, dataLength));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.begin !== covered) {
      fail(
        `tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}] ${e.begin < covered ? 'overlap the previous tensor' : 'leave a gap'} (expected it to begin at ${covered})`,
      );
    }
    covered = e.end;
  }
  if (covered !== dataLength) fail(`the tensors cover ${covered} bytes of the ${dataLength}-byte data section`);
  const tensors = Object.fromEntries(entries.map((e): [string, Tensor] => [e.name, readTensor(bytes, dataStart, e)]));
  return { tensors, metadata };
}
