/**
 * Client keys are kept only as SHA-256 digests. Why a Map lookup by digest is still constant
 * time with respect to the secret: the Map compares digests, and an attacker who changes one
 * byte of a guess changes the whole digest unpredictably, so how long a lookup takes says
 * nothing about how much of the secret was right. A hit is re-checked with timingSafeEqual.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * SHA-256 of the key, 64 lowercase hex digits. One-shot `crypto.hash` (every request with a key
 * runs this): about a quarter of createHash().update().digest()'s time, and no Hash object.
 */
export function hashKey(key: string): string {
  return hash("sha256", key, "hex");
}

/** One hex digit's value, or -1: lowercase only, as digests are written (config keyHash is checked so). */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Constant-time equality of two lowercase hex digests (false on any length or format mismatch).
 * Compares every digit without stopping at the first difference, in place: no Buffers decoded
 * per request (this re-checks each key look-up hit).
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== 64 || b.length !== 64) return false;
  let diff = 0;
  let invalid = 0;
  for (let i = 0; i < 64; i++) {
    const x = hexValue(a.charCodeAt(i));
    const y = hexValue(b.charCodeAt(i));
    diff |= x ^ y;
    invalid |= x | y;
  }
  return diff === 0 && invalid >= 0;
}

/** Constant-time check of a presented secret against an expected one (the admin key). */
export function secretMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(createHash("sha256").update(presented).digest(), createHash("sha256").update(expected).digest());
}

/** A new client key: `sk-gw-` and 32 random bytes, base64url (256 bits). */
export function generateKey(): string {
  return `sk-gw-${randomBytes(32).toString("base64url")}`;
}

/**
 * A key's immutable identity, which limits, spend and cache entries follow (never its name, which
 * can be deleted and created again). Config keys derive it from their digest (a new secret is a
 * new identity); runtime keys get a random one at creation, stored with their record. Not the
 * digest itself, so Redis key names do not repeat what identifies the secret.
 */
export function keyIdFromDigest(digest: string): string {
  return `k-${createHash("sha256").update(`key-id:${digest}`).digest("hex").slice(0, 24)}`;
}

export function newKeyId(): string {
  return `k-${randomBytes(12).toString("hex")}`;
}
