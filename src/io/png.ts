import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { writeFileAtomic } from './atomic.js';

/** An 8-bit image: `channels` bytes per pixel (1 = gray, 3 = RGB), rows top to bottom. */
export interface PngImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** height × width × channels bytes, row-major. */
  readonly data: Uint8Array;
}

/** Thrown for images that cannot be encoded and PNG bytes that cannot be decoded. */
export class PngError extends Error {
  override name = 'PngError';
}

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309 / PNG), the checksum of each chunk's type and data. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function checkImage(image: PngImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new PngError(`encodePng: width and height must be positive integers, got ${width} × ${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new PngError(`encodePng: channels must be 1 (gray) or 3 (RGB), got ${String(channels)}`);
  if (data.length !== width * height * channels) {
    throw new PngError(`encodePng: ${data.length} bytes do not fill ${width} × ${height} × ${channels} (${width * height * channels} needed)`);
  }
}

/**
 * The bytes of a PNG file holding `image`: 8-bit grayscale (color type 0) or RGB (color type 2),
 * not interlaced, each scanline with filter 0 (none), compressed by zlib's deflate.
 *
 * @example encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.of(0, 255) })
 */
export function encodePng(image: PngImage): Uint8Array {
  checkImage(image);
  const { width, height, channels, data } = image;
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8); // bit depth, color type, compression, filter, interlace
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1)); // each scanline: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Writes `image` as a PNG file, creating parent directories; atomic (a temporary file, then
 * rename; see `writeFileAtomic`), so a reader never sees a half-written image.
 */
export function writePng(path: string, image: PngImage): void {
  const bytes = encodePng(image);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
}

/**
 * Decodes a PNG of the kind {@link encodePng} writes (8-bit gray or RGB, not interlaced; any
 * scanline filter), checking the signature and every chunk's CRC. Meant for tests and checks,
 * not as a general PNG reader.
 */
export function decodePng(bytes: Uint8Array): PngImage {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngError('decodePng: not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0,
    height = 0,
    channels: 1 | 3 = 1;
  const idat: Uint8Array[] = [];
  for (let at = 8; ; ) {
    if (at + 12 > bytes.length) throw new PngError(`decodePng: truncated chunk at byte ${at}`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) throw new PngError(`decodePng: truncated ${type} chunk at byte ${at}`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length))
      throw new PngError(`decodePng: bad CRC in ${type} chunk at byte ${at}`);
    if (type === 'IHDR') {
      const h = new DataView(data.buffer, data.byteOffset, data.byteLength);
      [width, height] = [h.getUint32(0), h.getUint32(4)];
      if (data[8] !== 8 || (data[9] !== 0 && data[9] !== 2) || data[12] !== 0)
        throw new PngError(
          `decodePng: only 8-bit gray/RGB, non-interlaced PNGs are supported (bit depth ${data[8]}, color type ${data[9]}, interlace ${data[12]})`,
        );
      channels = data[9] === 0 ? 1 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  } catch (e) {
    throw new PngError(`decodePng: cannot inflate image data (${(e as Error).message})`);
  }
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new PngError(`decodePng: image data has ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[y * stride + i - channels]! : 0; // left
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0; // up
      const c = y > 0 && i >= channels ? out[(y - 1) * stride + i - channels]! : 0; // up-left
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      if (predictor === undefined) throw new PngError(`decodePng: unknown filter type ${filter} on row ${y}`);
      out[y * stride + i] = (line[i]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, data: out };
}
