/**
 * Adds `"stream_options":{"include_usage":true}` to a raw JSON object body without parsing and
 * re-serialising it: the member is spliced in before the object's closing brace. Only for a body
 * already known to parse as a JSON object with no `stream_options` member.
 */
const MEMBER = Buffer.from('"stream_options":{"include_usage":true}');

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The body with the member added, or null when the bytes do not end like an object (caller re-serialises). */
export function spliceIncludeUsage(raw: Buffer): Buffer | null {
  let close = raw.length - 1;
  while (close >= 0 && isJsonSpace(raw[close])) close--;
  if (close < 1 || raw[close] !== 0x7d /* } */) return null;
  let last = close - 1;
  while (last >= 0 && isJsonSpace(raw[last])) last--;
  if (last < 0) return null;
  const empty = raw[last] === 0x7b; /* { */
  const out = Buffer.allocUnsafe(close + (empty ? 0 : 1) + MEMBER.length + 1);
  raw.copy(out, 0, 0, close);
  let at = close;
  if (!empty) out[at++] = 0x2c; /* , */
  MEMBER.copy(out, at);
  out[at + MEMBER.length] = 0x7d;
  return out;
}
