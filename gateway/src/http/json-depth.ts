/**
 * A guard run before JSON.parse on client bodies: V8 parses deep nesting fine, but every later
 * JSON.stringify of it (body rewrite, cache key, token count) overflows the stack. One pass over
 * the bytes, skipping strings, without recursion.
 */

/** Deepest object/array nesting accepted in a request body; real requests stay far below it. */
export const MAX_JSON_DEPTH = 128;

/** True when `raw` nests objects or arrays deeper than `max` (malformed input is left to JSON.parse). */
export function jsonTooDeep(raw: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === 0x5c /* \ */) i++;
      else if (byte === 0x22 /* " */) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) depth--;
  }
  return false;
}
