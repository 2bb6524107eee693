/**
 * The admin API's front door, on when `auth.adminKey` is set: every request under `/admin/` is
 * throttled per client address and authenticated here, once, then handed to the module that owns
 * its first path segment (`/admin/keys/…` → api/keys.ts, `/admin/audit` → api/audit.ts, …).
 * Callers send `Authorization: Bearer <adminKey>`, checked in constant time; failures are logged
 * (address and path, never the key) and throttled (./auth-throttle.ts). A module throws a
 * GatewayError to answer with an error; anything else becomes a 503 and is logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { extractKey } from "../auth/extract";
import { secretMatches } from "../auth/key-hash";
import { GatewayError } from "../errors";
import type { LoggerPort } from "../traffic/metrics-port";
import type { AdminAuthThrottle } from "./auth-throttle";
import { actorOf, type AdminActor } from "./actor";
import { isConsoleSession } from "./console/session-mark";
import { sendError } from "./respond";

/** Answers one request under `/admin/`; the caller reads no body first (the module reads its own). */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<void>;

/** One authenticated admin request, as a module sees it. */
export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The path without its query, for messages. */
  path: string;
  /** Decoded path segments after `/admin/<resource>` (`/admin/keys/a/rotate` → ["a", "rotate"]). */
  segments: string[];
  query: URLSearchParams;
  /** Who is asking, for audit events. */
  actor: AdminActor;
}

/** The handler of one resource: `/admin/<resource>` and everything under it. */
export interface AdminModule {
  resource: string;
  handle(request: AdminRequest): Promise<void>;
}

export interface AdminRouterDeps {
  adminKey: string;
  throttle: AdminAuthThrottle;
  logger: LoggerPort;
  modules: AdminModule[];
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function createAdminRouter(deps: AdminRouterDeps): AdminHandler {
  const modules = new Map(deps.modules.map((m) => [m.resource, m]));
  return async (req, res, clientIp) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? "GET";
    try {
      const attempt = await deps.throttle.reserve(clientIp, path);
      const presented = extractKey(req.headers);
      // A console session (cookie, and the CSRF token on a change) was checked by admin/console/ first.
      if (!isConsoleSession(req) && (presented === null || !secretMatches(presented, deps.adminKey))) {
        deps.throttle.failed(clientIp, path, method, presented === null ? "missing_key" : "wrong_key");
        throw new GatewayError("GW_ERR_INVALID_API_KEY", "Invalid admin key.");
      }
      deps.throttle.release(attempt, clientIp);
      const parts = path.split("/").filter(Boolean).map(safeDecode);
      const module = parts[0] === "admin" && parts[1] !== undefined ? modules.get(parts[1]) : undefined;
      if (module === undefined) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path.slice(0, 200)}.`);
      const query = new URLSearchParams(queryAt === -1 ? "" : url.slice(queryAt + 1));
      await module.handle({ req, res, method, path, segments: parts.slice(2), query, actor: actorOf(req, clientIp) });
    } catch (err) {
      if (!(err instanceof GatewayError)) deps.logger.error({ err: err instanceof Error ? err.message : String(err), path: path.slice(0, 200) }, "admin request failed");
      if (!res.headersSent) sendError(res, err instanceof GatewayError ? err : new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The key store is unavailable; try again shortly."));
      else res.destroy();
    }
  };
}
