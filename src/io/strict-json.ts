/**
 * A strict JSON parser for untrusted headers (RFC 8259, read as Rust's serde_json reads it):
 *
 * - no duplicate keys in any object (the value is a `Map`, so `__proto__` is just a key);
 * - no lone UTF-16 surrogates in `\u` escapes (a high one must be followed by a low one);
 * - integers keep how they were written: a literal of digits only (`4`) is a `bigint`, exactly;
 *   anything else (`4.0`, `4e0`, `-0`, `-4`) is a `number`, which is what lets a reader refuse
 *   `4.0` where an unsigned integer is required; a number that overflows a double is an error;
 * - nesting deeper than {@link MAX_JSON_DEPTH} is an error, found without recursion (an explicit
 *   stack), so no input can exhaust the call stack;
 * - whitespace (space, tab, CR, LF) is allowed before and after the value, nothing else.
 *
 * Pure: no I/O and no platform modules.
 */

/** A parsed value: objects are Maps (insertion order kept), digit-only integers are bigints. */
export type StrictJsonValue = null | boolean | string | number | bigint | StrictJsonValue[] | StrictJsonObject;

/** A parsed JSON object: keys in file order, each key once. */
export type StrictJsonObject = Map<string, StrictJsonValue>;

/** The deepest nesting of arrays and objects accepted (serde_json's default recursion limit is 128 levels). */
export const MAX_JSON_DEPTH = 127;

/** Malformed or refused JSON; the message says what and at which character offset. */
export class StrictJsonError extends Error {
  override name = 'StrictJsonError';
  constructor(
    message: string,
    /** The offset (in UTF-16 code units of the text) where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A container being filled: an array, or an object with the key whose value comes next. */
type Frame = { kind: 'array'; value: StrictJsonValue[] } | { kind: 'object'; value: StrictJsonObject; key: string | null };

/**
 * Parses `text` strictly (see the module comment).
 * @throws StrictJsonError naming the problem and its offset; nothing else.
 * @example parseStrictJson('{"a":[4]}') // Map { 'a' => [4n] }
 * @example parseStrictJson('{"a":1,"a":2}') // throws: duplicate key "a"
 */
export function parseStrictJson(text: string): StrictJsonValue {
  let at = 0;
  const fail = (message: string, where = at): never => {
    throw new StrictJsonError(message, where);
  };
  const skipWhitespace = (): void => {
    while (at < text.length && isWhitespace(text.charCodeAt(at))) at++;
  };
  const expectChar = (char: string): void => {
    if (text[at] !== char) fail(at >= text.length ? `expected '${char}', got the end of the text` : `expected '${char}', got ${JSON.stringify(text[at])}`);
    at++;
  };

  const readString = (): string => {
    expectChar('"');
    let out = '';
    let runStart = at;
    for (;;) {
      if (at >= text.length) fail('unterminated string');
      const c = text.charCodeAt(at);
      if (c === 0x22) break;
      if (c < 0x20) fail(`control character U+${c.toString(16).padStart(4, '0')} in a string`);
      if (c !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(runStart, at);
      const escaped = text[at + 1];
      if (escaped === 'u') {
        const unit = readHex4(at + 2);
        at += 6;
        if (unit >= 0xdc00 && unit <= 0xdfff) fail(`lone low surrogate \\u${unit.toString(16)}`, at - 6);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = text[at] === '\\' && text[at + 1] === 'u' ? readHex4(at + 2) : -1;
          if (low < 0xdc00 || low > 0xdfff) fail(`lone high surrogate \\u${unit.toString(16)}`, at - 6);
          at += 6;
          out += String.fromCharCode(unit, low);
        } else out += String.fromCharCode(unit);
      } else if (escaped !== undefined && escaped in ESCAPES) {
        out += ESCAPES[escaped];
        at += 2;
      } else fail(`invalid escaped ${JSON.stringify(`\\${escaped ?? ''}`)}`);
      runStart = at;
    }
    out += text.slice(runStart, at);
    at++; // the closing quote
    return out;
  };
  const readHex4 = (from: number): number => {
    const digits = text.slice(from, from + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) fail('a \\u escaped needs four hex digits', from);
    return parseInt(digits, 16);
  };

  const readNumber = (): number | bigint => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) return fail(`unexpected ${JSON.stringify(text[at])}`);
    const literal = match[0];
    if (isDigit(text.charCodeAt(at + literal.length))) fail('a number with a leading zero');
    at += literal.length;
    if (literal[0] !== '-' && match[1] === undefined && match[2] === undefined) return BigInt(literal);
    const value = Number(literal);
    if (!Number.isFinite(value)) fail(`number ${literal.length > 24 ? `${literal.slice(0, 21)}...` : literal} is out of range`, at - literal.length);
    return value;
  };
  const readWord = (word: string, value: StrictJsonValue): StrictJsonValue => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return fail(`unexpected ${JSON.stringify(text[at])}`);
  };

  const stack: Frame[] = [];
  let result: StrictJsonValue | undefined;
  skipWhitespace();
  for (;;) {
    // Read one value; a container opens a frame and is filled by the loop.
    let value: StrictJsonValue;
    let opened = false;
    const c = text[at];
    if (c === '{' || c === '[') {
      if (stack.length >= MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
      at++;
      const frame: Frame = c === '{' ? { kind: 'object', value: new Map(), key: null } : { kind: 'array', value: [] };
      stack.push(frame);
      value = frame.value;
      opened = true;
      skipWhitespace();
      if (text[at] === (c === '{' ? '}' : ']')) {
        at++;
        stack.pop();
        opened = false;
      } else if (frame.kind === 'object') frame.key = readKey();
    } else if (c === '"') value = readString();
    else if (c === 't') value = readWord('true', true);
    else if (c === 'f') value = readWord('false', false);
    else if (c === 'n') value = readWord('null', null);
    else if (c === '-' || (c !== undefined && isDigit(c.charCodeAt(0)))) value = readNumber();
    else return fail(c === undefined ? 'unexpected end of the text' : `unexpected ${JSON.stringify(c)}`);
    if (opened) continue; // the first element or member comes next

    // Store the value in its container, then close every container that ends here.
    for (;;) {
      const frame = stack[stack.length - 1];
      if (!frame) {
        result = value;
        break;
      }
      if (frame.kind === 'array') frame.value.push(value);
      else frame.value.set(frame.key!, value);
      skipWhitespace();
      const close = frame.kind === 'array' ? ']' : '}';
      if (text[at] === ',') {
        at++;
        skipWhitespace();
        if (frame.kind === 'object') frame.key = readKey();
        break;
      }
      expectChar(close);
      stack.pop();
      value = frame.value;
    }
    if (result !== undefined) break;
  }
  skipWhitespace();
  if (at < text.length) fail(`trailing characters after the JSON value (${JSON.stringify(text.slice(at, at + 10))})`);
  return result;

  /** An object's next key and its colon; a key already in the object is an error. */
  function readKey(): string {
    const frame = stack[stack.length - 1] as Extract<Frame, { kind: 'object' }>;
    if (text[at] !== '"') fail(at >= text.length ? 'expected a key, got the end of the text' : `expected a key, got ${JSON.stringify(text[at])}`);
    const where = at;
    const key = readString();
    if (frame.value.has(key)) fail(`duplicate key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key)}`, where);
    skipWhitespace();
    expectChar(':');
    skipWhitespace();
    return key;
  }
}
