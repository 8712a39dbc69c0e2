/**
 * A tiny 5×7 bitmap font (printable ASCII, after the HD44780 character ROM), so plots can label
 * their axes without a canvas or native dependency. Each glyph is 7 rows of 5 bits (bit 4 = the
 * leftmost pixel), written as hex pairs; g, j, p, q, y and the comma have an 8th row below the
 * baseline. Characters outside printable ASCII are drawn as '?'.
 */
const GLYPHS: Record<string, string> = {
  ' ': '00000000000000', '!': '04040404040004', '"': '0a0a0a00000000', '#': '0a0a1f0a1f0a0a',
  $: '040f140e051e04', '%': '18190204081303', '&': '0c12140815120d', "'": '04040800000000',
  '(': '02040808080402', ')': '08040202020408', '*': '0004150e150400', '+': '0004041f040400',
  ',': '00000000000c0408', '-': '0000001f000000', '.': '00000000000c0c', '/': '00010204081000',
  0: '0e11131519110e', 1: '040c040404040e', 2: '0e11010204081f', 3: '1f02040201110e',
  4: '02060a121f0202', 5: '1f101e0101110e', 6: '0608101e11110e', 7: '1f010204080808',
  8: '0e11110e11110e', 9: '0e11110f01020c', ':': '000c0c000c0c00', ';': '000c0c000c0408',
  '<': '02040810080402', '=': '00001f001f0000', '>': '08040201020408', '?': '0e110102040004',
  '@': '0e11010d15150e', A: '0e1111111f1111', B: '1e11111e11111e', C: '0e11101010110e',
  D: '1c12111111121c', E: '1f10101e10101f', F: '1f10101e101010', G: '0e11101711110f',
  H: '1111111f111111', I: '0e04040404040e', J: '0702020202120c', K: '11121418141211',
  L: '1010101010101f', M: '111b1515111111', N: '11111915131111', O: '0e11111111110e',
  P: '1e11111e101010', Q: '0e11111115120d', R: '1e11111e141211', S: '0f10100e01011e',
  T: '1f040404040404', U: '1111111111110e', V: '11111111110a04', W: '1111111515150a',
  X: '11110a040a1111', Y: '1111110a040404', Z: '1f01020408101f', '[': '0e08080808080e',
  '\\': '00100804020100', ']': '0e02020202020e', '^': '040a1100000000', _: '0000000000001f',
  '`': '08040200000000', a: '00000e010f110f', b: '1010161911111e', c: '00000e1010110e',
  d: '01010d1311110f', e: '00000e111f100e', f: '0609081c080808', g: '00000f11110f010e',
  h: '10101619111111', i: '04000c0404040e', j: '020006020202120c', k: '10101214181412',
  l: '0c04040404040e', m: '00001a15151111', n: '00001619111111', o: '00000e1111110e',
  p: '00001e11111e1010', q: '00000f11110f0101', r: '00001619101010', s: '00000e100e011e',
  t: '08081c08080906', u: '0000111111130d', v: '00001111110a04', w: '0000111115150a',
  x: '0000110a040a11', y: '00001111110f010e', z: '00001f0204081f', '{': '02040408040402',
  '|': '04040404040404', '}': '08040402040408', '~': '00000815020000',
};

/** Glyph width in pixels at scale 1; characters advance by GLYPH_WIDTH + 1. */
export const GLYPH_WIDTH = 5;
const ADVANCE = GLYPH_WIDTH + 1;

const ROWS = new Map<string, number[]>(Object.entries(GLYPHS).map(([ch, hexRows]) => [ch, hexRows.match(/../g)!.map((h) => parseInt(h, 16))]));

/** An RGB raster: width × height × 3 bytes, row-major. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** An RGB colour, each channel 0-255. */
export type Rgb = readonly [number, number, number];

/** The width in pixels of `text` drawn at `scale` (no trailing spacing). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

/** Sets one pixel, ignoring coordinates outside the raster. */
export function setPixel(img: Raster, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const k = 3 * (Math.floor(y) * img.width + Math.floor(x));
  img.data[k] = color[0];
  img.data[k + 1] = color[1];
  img.data[k + 2] = color[2];
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel a scale × scale square.
 * `vertical` rotates it 90° counter-clockwise (reading bottom to top, for y-axis labels); (x, y)
 * is then the top-left of the rotated text's box.
 */
export function drawText(img: Raster, text: string, x: number, y: number, color: Rgb, options: { scale?: number; vertical?: boolean } = {}): void {
  const scale = options.scale ?? 1;
  const length = textWidth(text, scale);
  [...text].forEach((ch, index) => {
    const rows = ROWS.get(ch) ?? ROWS.get('?')!;
    rows.forEach((bits, r) => {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (!((bits >> (GLYPH_WIDTH - 1 - c)) & 1)) continue;
        const u = index * ADVANCE + c; // along the text
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            if (options.vertical) setPixel(img, x + r * scale + dx, y + length - 1 - (u * scale + dy), color);
            else setPixel(img, x + u * scale + dx, y + r * scale + dy, color);
          }
        }
      }
    });
  });
}
