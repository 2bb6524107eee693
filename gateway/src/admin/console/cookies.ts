/** Reading the Cookie header and writing the console's Set-Cookie, pure. */

/** The value of cookie `name` in a Cookie header (the first one), or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined || header.length > 16_384) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export interface SessionCookieOptions {
  /** Only sent over HTTPS (and the name takes the `__Host-` prefix, which browsers enforce). */
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

/** The cookie's name: `__Host-` pins it to this host, path `/`, and HTTPS, when served over TLS. */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-aigw_console" : "aigw_console";
}

/** HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site request carries it), Path=/ (the console and /admin). */
export function sessionCookie(value: string, options: SessionCookieOptions): string {
  const parts = [`${sessionCookieName(options.secure)}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}
