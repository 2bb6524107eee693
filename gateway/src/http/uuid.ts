/**
 * Random (version 4) UUIDs as one string each. crypto.randomUUID() draws from the same kind of
 * pooled CSPRNG bytes but assembles the text from a dozen substrings (about 600 bytes of garbage
 * an id, and one id per request); here the hex digits are written into a scratch buffer and the
 * string is made once.
 */
import { randomFillSync } from "node:crypto";

const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(16 * POOL_IDS);
let next = POOL_IDS;
const text = Buffer.allocUnsafe(36);
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes' two hex digits go, dashes skipped (8-4-4-4-12). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text[8] = text[13] = text[18] = text[23] = 0x2d; // "-"

export function randomUuid(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const base = 16 * next++;
  for (let i = 0; i < 16; i++) {
    let byte = pool[base + i];
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    text[AT[i]] = HEX_DIGITS[byte >> 4];
    text[AT[i] + 1] = HEX_DIGITS[byte & 0x0f];
  }
  return text.toString("latin1", 0, 36);
}
