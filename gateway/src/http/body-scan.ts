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

/** Scratch for the usual depth limit, reused: the scan is synchronous, and a level is set before it is read. */
const DEFAULT_KINDS = new Uint8Array(MAX_JSON_DEPTH + 2);
const SHARED_KEYS: (string[] | Set<string> | null)[] = [];

/** Classifies `raw` (malformed input is left to JSON.parse, which rejects it). */
export function scanJsonBody(raw: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): BodyScan {
  const kinds = maxDepth === MAX_JSON_DEPTH ? DEFAULT_KINDS : new Uint8Array(maxDepth + 2);
  const keys = SHARED_KEYS;
  try {
    return scan(raw, maxDepth, kinds, keys);
  } finally {
    keys.length = 0; // no body's keys kept past its scan
  }
}

function scan(raw: Uint8Array, maxDepth: number, kinds: Uint8Array, keys: (string[] | Set<string> | null)[]): BodyScan {
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
      if (expectKey && !ambiguous) ambiguous = !plainKey(text, i + 1, close) || !addKey(keys, depth, text.toString("latin1", i + 1, close));
      expectKey = false;
      i = close;
    } else if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) {
      if (++depth > maxDepth) return "too-deep";
      kinds[depth] = byte === 0x7b ? OBJECT : 0;
      keys[depth] = null;
      expectKey = byte === 0x7b;
    } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) {
      if (depth > 0) depth--;
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

/** Records `key` in the object at `depth`; false when it was already there. */
function addKey(keys: (string[] | Set<string> | null)[], depth: number, key: string): boolean {
  const seen = keys[depth];
  if (seen === null || seen === undefined) {
    keys[depth] = [key];
    return true;
  }
  if (Array.isArray(seen)) {
    if (seen.includes(key)) return false;
    seen.push(key);
    if (seen.length > SET_THRESHOLD) keys[depth] = new Set(seen);
    return true;
  }
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

/** True when `raw` nests objects or arrays deeper than `max`. */
export function jsonTooDeep(raw: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  return scanJsonBody(raw, max) === "too-deep";
}
