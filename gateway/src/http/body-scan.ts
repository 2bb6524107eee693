/**
 * One pass over a client's JSON body before JSON.parse, skipping strings, without recursion:
 * - depth: V8 parses deep nesting fine, but every later JSON.stringify of it (body rewrite,
 *   cache key, token count) overflows the stack;
 * - keys: JSON.parse keeps the last of two equal keys, and the gateway checks that one (model,
 *   messages, limits, cache key); an upstream that keeps the first would serve something else.
 *   Keys are compared as written, so any key whose bytes may decode to another key's text (a
 *   backslash escape such as `"mod\u0065l"`, or a non-ASCII byte) also counts as ambiguous.
 * An ambiguous body is forwarded as the gateway's own serialisation of what it parsed; every
 * other body goes upstream byte for byte.
 */

/** Deepest object/array nesting accepted in a request body; real requests stay far below it. */
export const MAX_JSON_DEPTH = 128;

export type BodyScan = "plain" | "ambiguous-keys" | "too-deep";

/** Past this many keys one object's keys go into a Set (a hostile object with 100k keys stays linear). */
const SET_THRESHOLD = 16;

const OBJECT = 1;

/**
 * The keys seen in each open object, as byte spans of the body (no string per key): a stack of
 * [start, end) pairs, each object's from `base[depth]` up; an object's spans are dropped when it
 * closes. Past SET_THRESHOLD keys one object's keys become strings in a Set.
 */
class KeyLevels {
  private spans = new Int32Array(64);
  private top = 0;
  readonly base: Int32Array;
  private readonly sets: (Set<string> | null)[] = [];

  constructor(maxDepth: number) {
    this.base = new Int32Array(maxDepth + 2);
  }

  open(depth: number): void {
    this.base[depth] = this.top;
    this.sets[depth] = null;
  }

  close(depth: number): void {
    this.top = this.base[depth];
    this.sets[depth] = null;
  }

  reset(): void {
    this.top = 0;
    this.sets.length = 0;
  }

  /** Records the key `text[from, to)` in the object at `depth`; false when it was already there. */
  add(text: Buffer, depth: number, from: number, to: number): boolean {
    const set = this.sets[depth];
    if (set !== null && set !== undefined) {
      const key = text.toString("latin1", from, to);
      if (set.has(key)) return false;
      set.add(key);
      return true;
    }
    const spans = this.spans;
    const first = this.base[depth];
    const length = to - from;
    for (let k = first; k < this.top; k++) {
      const start = spans[2 * k];
      if (spans[2 * k + 1] - start === length && sameBytes(text, start, from, length)) return false;
    }
    if (this.top - first >= SET_THRESHOLD) {
      // A hostile object with 100k keys stays linear.
      const keys = new Set<string>();
      for (let k = first; k < this.top; k++) keys.add(text.toString("latin1", spans[2 * k], spans[2 * k + 1]));
      keys.add(text.toString("latin1", from, to));
      this.sets[depth] = keys;
      this.top = first;
      return true;
    }
    if (2 * this.top + 2 > spans.length) {
      this.spans = new Int32Array(spans.length * 2);
      this.spans.set(spans);
    }
    this.spans[2 * this.top] = from;
    this.spans[2 * this.top + 1] = to;
    this.top++;
    return true;
  }
}

function sameBytes(text: Buffer, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (text[a + i] !== text[b + i]) return false;
  return true;
}

/** Scratch for the usual depth limit, reused: the scan is synchronous, and a level is set before it is read. */
const DEFAULT_KINDS = new Uint8Array(MAX_JSON_DEPTH + 2);
const DEFAULT_KEYS = new KeyLevels(MAX_JSON_DEPTH);

/** Classifies `raw` (malformed input is left to JSON.parse, which rejects it). */
export function scanJsonBody(raw: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): BodyScan {
  const usual = maxDepth === MAX_JSON_DEPTH;
  const kinds = usual ? DEFAULT_KINDS : new Uint8Array(maxDepth + 2);
  const keys = usual ? DEFAULT_KEYS : new KeyLevels(maxDepth);
  try {
    return scan(raw, maxDepth, kinds, keys);
  } finally {
    keys.reset(); // no body's keys kept past its scan
  }
}

function scan(raw: Uint8Array, maxDepth: number, kinds: Uint8Array, keys: KeyLevels): BodyScan {
  const text = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let depth = 0;
  let expectKey = false;
  let ambiguous = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (byte === 0x22 /* " */) {
      // Strings are skipped with the native indexOf: most of a body is string content.
      const close = stringEnd(text, i);
      if (close === -1) return ambiguous ? "ambiguous-keys" : "plain";
      if (expectKey && !ambiguous) ambiguous = !plainKey(text, i + 1, close) || !keys.add(text, depth, i + 1, close);
      expectKey = false;
      i = close;
    } else if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) {
      if (++depth > maxDepth) return "too-deep";
      kinds[depth] = byte === 0x7b ? OBJECT : 0;
      keys.open(depth);
      expectKey = byte === 0x7b;
    } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) {
      if (depth > 0) keys.close(depth--);
      expectKey = false;
    } else if (byte === 0x2c /* , */) expectKey = kinds[depth] === OBJECT;
  }
  return ambiguous ? "ambiguous-keys" : "plain";
}

/** The index of the quote closing the string opened at `open` (one not escaped by an odd run of backslashes), or -1. */
function stringEnd(text: Buffer, open: number): number {
  let close = text.indexOf(0x22, open + 1);
  while (close !== -1) {
    let backslashes = 0;
    while (text[close - 1 - backslashes] === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return close;
    close = text.indexOf(0x22, close + 1);
  }
  return -1;
}

/** A key whose bytes are its text: no escape, nothing outside ASCII. */
function plainKey(text: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text[i] === 0x5c || text[i] >= 0x80) return false;
  return true;
}

/** True when `raw` nests objects or arrays deeper than `max`. */
export function jsonTooDeep(raw: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  return scanJsonBody(raw, max) === "too-deep";
}
