/**
 * The `usage` member of a buffered JSON answer, read without parsing the whole answer. An
 * OpenAI-compatible answer the gateway passes through unchanged is parsed only for its usage
 * (~2 µs and ~1 KB of garbage for a short chat answer, more for long ones); OpenAI and its
 * compatibles put `usage` near the end, so a bounded scan from the end finds it and only that
 * object is parsed. Anything the scan cannot vouch for returns null and the caller parses the
 * whole body, as before.
 *
 * Why a match is the top-level member: in valid JSON a quote preceded by `,` or `{` and followed
 * by `usage":` opens a key (a quote inside a string is escaped; a closing quote is never followed
 * by a letter), and the forward scan from that key's value to the end must close exactly one
 * object, at the body's last byte. What is not checked: that the bytes before the match are valid
 * JSON. A 2xx `application/json` answer whose head is malformed but whose tail holds a well-formed
 * top-level usage is passed on (undici already checks the body's declared length).
 */

/** How far from the end `"usage"` is looked for. */
const TAIL_BYTES = 4096;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const USAGE_KEY = Buffer.from('"usage"');

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Index of the quote closing the string opened at `open`, or -1. */
function stringEnd(text: Buffer, open: number): number {
  let close = text.indexOf(QUOTE, open + 1);
  while (close !== -1) {
    let backslashes = 0;
    while (text[close - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return close;
    close = text.indexOf(QUOTE, close + 1);
  }
  return -1;
}

/**
 * From `from` (outside any string), the index where nesting first drops below the starting level
 * (the `}` or `]` closing the enclosing value), or -1.
 */
function closingIndex(text: Buffer, from: number, end: number): number {
  let depth = 0;
  for (let i = from; i < end; i++) {
    const byte = text[i];
    if (byte === QUOTE) {
      i = stringEnd(text, i);
      if (i === -1 || i >= end) return -1;
    } else if (byte === 0x7b || byte === 0x5b) depth++;
    else if (byte === 0x7d || byte === 0x5d) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** The top-level `usage` object of a JSON object body, parsed; null when the scan cannot tell (parse the body instead). */
export function topLevelUsage(body: Buffer): Record<string, unknown> | null {
  let first = 0;
  let last = body.length - 1;
  while (first <= last && isSpace(body[first])) first++;
  while (last >= first && isSpace(body[last])) last--;
  if (last - first < 2 || body[first] !== 0x7b || body[last] !== 0x7d) return null;
  const floor = Math.max(first, last - TAIL_BYTES);
  for (let at = body.lastIndexOf(USAGE_KEY, last); at > floor; at = body.lastIndexOf(USAGE_KEY, at - 1)) {
    let before = at - 1;
    while (before > first && isSpace(body[before])) before--;
    if (body[before] !== 0x2c && body[before] !== 0x7b) continue;
    let i = at + USAGE_KEY.length;
    while (i < last && isSpace(body[i])) i++;
    if (body[i] !== 0x3a /* : */) continue;
    i++;
    while (i < last && isSpace(body[i])) i++;
    // A usage that is not an object (null, a string): the full parse decides what it means.
    if (body[i] !== 0x7b) return null;
    const objectEnd = closingIndex(body, i + 1, last);
    if (objectEnd === -1) return null;
    // The rest must close exactly the top-level object, at its last byte.
    if (closingIndex(body, objectEnd + 1, last + 1) !== last) return null;
    try {
      const usage: unknown = JSON.parse(body.toString("utf8", i, objectEnd + 1));
      return usage !== null && typeof usage === "object" && !Array.isArray(usage) ? (usage as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return null;
}
