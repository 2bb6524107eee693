/**
 * Console sessions over HTTP: issuing the cookie at login, reading it back, checking the CSRF
 * token of a change, and revoking at logout. Tokens are stateless (./session-token.ts); a
 * logout is remembered by this replica until the token would have expired anyway, and the
 * browser drops the cookie. Changing the admin key ends every session on every replica.
 */
import type { IncomingMessage } from "node:http";
import { cookieValue, sessionCookie, sessionCookieName } from "./cookies";
import { cameOverHttps } from "./request-origin";
import { csrfMatches, csrfTokenOf, issueSession, sessionSigningKey, verifySession, type SessionClaims } from "./session-token";

export interface SessionSettings {
  ttlMs: number;
  /** Force the Secure flag on (true) or off (false); by default it follows the request's scheme. */
  secureCookie?: boolean;
  /** Believe X-Forwarded-Proto/Host (a trusted proxy is configured). */
  trustProxy: boolean;
}

const MAX_REVOKED = 10_000;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const CSRF_HEADER = "x-csrf-token";

export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has(method ?? "GET");
}

export class ConsoleSessions {
  private signingKey: Buffer;
  private signedWith: string;
  private readonly revoked = new Map<string, number>();

  constructor(
    adminKey: string,
    private readonly settings: SessionSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.signingKey = sessionSigningKey(adminKey);
    this.signedWith = adminKey;
  }

  /** A reloaded config may change the admin key: sessions signed with the old one stop working. */
  useAdminKey(adminKey: string): void {
    if (adminKey === this.signedWith) return;
    this.signingKey = sessionSigningKey(adminKey);
    this.signedWith = adminKey;
  }

  secure(req: IncomingMessage): boolean {
    return this.settings.secureCookie ?? cameOverHttps("encrypted" in req.socket && req.socket.encrypted === true, req.headers, this.settings.trustProxy);
  }

  /** A new session: the Set-Cookie header value and what the page needs (its CSRF token, the expiry). */
  open(req: IncomingMessage): { cookie: string; csrfToken: string; expiresAt: string } {
    const { token, claims } = issueSession(this.signingKey, this.now(), this.settings.ttlMs);
    return { cookie: sessionCookie(token, { secure: this.secure(req), maxAgeSeconds: this.settings.ttlMs / 1000 }), ...this.describe(claims) };
  }

  describe(claims: SessionClaims): { csrfToken: string; expiresAt: string } {
    return { csrfToken: csrfTokenOf(this.signingKey, claims.sid), expiresAt: new Date(claims.exp).toISOString() };
  }

  /** Whether the request carries a session cookie at all (valid or not). */
  hasCookie(req: IncomingMessage): boolean {
    return this.token(req) !== null;
  }

  /** The request's live session, or null (no cookie, forged, expired, logged out). */
  read(req: IncomingMessage): SessionClaims | null {
    const token = this.token(req);
    if (token === null) return null;
    const claims = verifySession(this.signingKey, token, this.now());
    if (claims === null || this.revoked.has(claims.sid)) return null;
    return claims;
  }

  csrfValid(req: IncomingMessage, claims: SessionClaims): boolean {
    const header = req.headers[CSRF_HEADER];
    return csrfMatches(this.signingKey, claims.sid, Array.isArray(header) ? header[0] : header);
  }

  /** Ends a session here; returns the Set-Cookie that deletes the cookie. */
  close(req: IncomingMessage, claims: SessionClaims | null): string {
    if (claims !== null) {
      const now = this.now();
      if (this.revoked.size >= MAX_REVOKED) for (const [sid, exp] of this.revoked) if (exp <= now) this.revoked.delete(sid);
      if (this.revoked.size < MAX_REVOKED) this.revoked.set(claims.sid, claims.exp);
    }
    return sessionCookie("", { secure: this.secure(req), maxAgeSeconds: 0 });
  }

  private token(req: IncomingMessage): string | null {
    const header = req.headers.cookie;
    return cookieValue(header, sessionCookieName(true)) ?? cookieValue(header, sessionCookieName(false));
  }
}
