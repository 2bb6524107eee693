/**
 * Where a console request came from, read from its headers (pure): whether it was made over
 * HTTPS (TLS here, or `X-Forwarded-Proto: https` from a trusted proxy) and whether a browser
 * says it came from another site (`Origin`, `Sec-Fetch-Site`): a second line behind SameSite.
 */
import type { IncomingHttpHeaders } from "node:http";

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** True when the request reached us over HTTPS; a forwarded header is believed only with `trustProxy`. */
export function cameOverHttps(encrypted: boolean, headers: IncomingHttpHeaders, trustProxy: boolean): boolean {
  if (encrypted) return true;
  if (!trustProxy) return false;
  const proto = first(headers["x-forwarded-proto"]);
  // A chain of proxies lists one protocol per hop: the client's is the first.
  return proto !== undefined && proto.split(",")[0].trim().toLowerCase() === "https";
}

/** A reason to refuse a request a browser sent from another site, or null when it is same-site. */
export function crossSiteProblem(headers: IncomingHttpHeaders, trustProxy: boolean): string | null {
  const site = first(headers["sec-fetch-site"]);
  if (site !== undefined && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site.slice(0, 40)}`;
  const origin = first(headers.origin);
  if (origin === undefined) return null;
  // Behind a trusted proxy the browser's host is the one it forwards; else only Host is ours.
  const host = (trustProxy ? first(headers["x-forwarded-host"]) : undefined) ?? first(headers.host);
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return "malformed Origin";
  }
  return host !== undefined && originHost === host.split(",")[0].trim() ? null : "Origin is another site";
}
