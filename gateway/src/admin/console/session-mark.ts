/**
 * Requests the console's session check already authenticated (a valid session cookie, and the
 * CSRF token on a change): the admin API accepts them as it accepts the Bearer admin key. A mark
 * on the request object itself, so nothing a client sends can set it.
 */
import type { IncomingMessage } from "node:http";

const authenticated = new WeakSet<IncomingMessage>();

export function markConsoleSession(req: IncomingMessage): void {
  authenticated.add(req);
}

export function isConsoleSession(req: IncomingMessage): boolean {
  return authenticated.has(req);
}
