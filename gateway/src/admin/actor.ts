/**
 * Who made an admin change, for the audit log. There is one admin key, so the credential alone
 * cannot tell two people apart: a caller (the console, a script) may name the person it acts for
 * in `X-Admin-Actor`. That name is what the caller claims, recorded as such next to the address
 * the request came from, which the gateway itself saw.
 */
import type { IncomingMessage } from "node:http";
import { isConsoleSession } from "./console/session-mark";

export interface AdminActor {
  /** How the caller authenticated. */
  credential: "admin_key" | "console_session";
  /** The `X-Admin-Actor` header (claimed, not verified), or null. */
  name: string | null;
  /** The client address (X-Forwarded-For read as server.trustedProxies says). */
  ip: string;
  userAgent: string | null;
}

const MAX_NAME = 128;

/** Printable ASCII only, bounded: a header cannot forge log lines or blow up the audit list. */
function clean(value: string | string[] | undefined, max: number): string | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const printable = raw.replace(/[^\x20-\x7e]/g, "").trim().slice(0, max);
  return printable.length > 0 ? printable : null;
}

export function actorOf(req: IncomingMessage, clientIp: string): AdminActor {
  return { credential: isConsoleSession(req) ? "console_session" : "admin_key", name: clean(req.headers["x-admin-actor"], MAX_NAME), ip: clientIp, userAgent: clean(req.headers["user-agent"], 200) };
}
