/** X-Request-Id: the caller's when it is sane (so traces join up), else a fresh one. */
import { randomUUID } from "node:crypto";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === "string" && SAFE_ID.test(header) ? header : randomUUID();
}

/** The client's address: the first X-Forwarded-For hop when the gateway sits behind a trusted proxy. */
export function clientIp(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  if (trustProxy && typeof forwardedFor === "string" && forwardedFor.length > 0) {
    const comma = forwardedFor.indexOf(",");
    return (comma === -1 ? forwardedFor : forwardedFor.slice(0, comma)).trim();
  }
  return socketAddress ?? "unknown";
}
