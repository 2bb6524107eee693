/**
 * The console's session tokens, pure: a cookie value that proves "this browser logged in with the
 * admin key until <exp>", without storing the key or any state. A token is
 * `base64url(payload).base64url(HMAC-SHA256(k, payload))` where `k` is derived from the admin key,
 * so every replica verifies it (no sticky sessions, no store) and changing the admin key ends
 * every session. The CSRF token of a session is another HMAC of its id: the page reads it once
 * (GET /ui/api/session) and sends it as a header on every change; a cross-site form cannot.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface SessionClaims {
  /** Random id of this login (what logout revokes). */
  sid: string;
  /** Issued at, ms since the epoch. */
  iat: number;
  /** Expires at, ms since the epoch. */
  exp: number;
}

const VERSION = 1;
/** A token issued this far in the future is refused (clock skew between replicas is allowed this much). */
const MAX_SKEW_MS = 60_000;

/** The signing key of console sessions, derived from (never equal to) the admin key. */
export function sessionSigningKey(adminKey: string): Buffer {
  return createHmac("sha256", adminKey).update("aigw-console-session-v1").digest();
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

export function issueSession(key: Buffer, now: number, ttlMs: number): { token: string; claims: SessionClaims } {
  const claims: SessionClaims = { sid: randomBytes(16).toString("base64url"), iat: now, exp: now + ttlMs };
  const payload = Buffer.from(JSON.stringify({ v: VERSION, ...claims })).toString("base64url");
  return { token: `${payload}.${mac(key, payload).toString("base64url")}`, claims };
}

/** The claims of a genuine, unexpired token; null for anything else (forged, expired, malformed). */
export function verifySession(key: Buffer, token: string, now: number): SessionClaims | null {
  if (token.length > 512) return null;
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return null;
  const payload = token.slice(0, dot);
  const presented = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = mac(key, payload);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object") return null;
  const { v, sid, iat, exp } = parsed as Record<string, unknown>;
  if (v !== VERSION || typeof sid !== "string" || typeof iat !== "number" || typeof exp !== "number") return null;
  if (now >= exp || iat > now + MAX_SKEW_MS) return null;
  return { sid, iat, exp };
}

/** The CSRF token of a session: bound to its id, so one session's token is no use with another's cookie. */
export function csrfTokenOf(key: Buffer, sid: string): string {
  return mac(key, `csrf:${sid}`).toString("base64url");
}

/** Constant-time check of a presented CSRF token. */
export function csrfMatches(key: Buffer, sid: string, presented: string | undefined): boolean {
  if (presented === undefined || presented.length === 0 || presented.length > 128) return false;
  const expected = Buffer.from(csrfTokenOf(key, sid));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
