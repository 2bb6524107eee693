/**
 * The HTTP request listener: an exact-path route table (odd or encoded paths never match and get
 * an OpenAI-style 404), with every handler's failure answered rather than thrown.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "./errors";
import { requestIdFrom } from "./http/request-id";
import { sendError } from "./http/respond";
import { PROBE_HOST } from "./http/accept-delay";
import { handleHealthz, handleMetrics, handleModels, handleReadyz } from "./handlers/info-handlers";
import { handleProxy } from "./handlers/proxy-handler";
import { handleStoredResponse, storedResponsePath } from "./handlers/stored-responses";
import type { GatewayRuntime } from "./handlers/runtime";
import { logWhenDone } from "./handlers/access-log-other";
import { PROXY_ROUTES } from "./routes";
import { surfaceServes, type ListenerSurface } from "./http/listener-surface";

const MODEL_PREFIX = "/v1/models/";

function pathOf(url: string | undefined): string {
  if (url === undefined) return "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** `surface`: which endpoints this listener serves (see http/listener-surface.ts); the rest get the unknown-path 404. */
export function createRequestListener(rt: GatewayRuntime, onError: (err: unknown) => void, surface: ListenerSurface = "all") {
  const servesApi = surface !== "admin";
  const clientIpOf = surface === "admin" ? rt.adminListenerClientIp ?? rt.clientIp : rt.clientIp;
  const route = (req: IncomingMessage, res: ServerResponse): Promise<void> | void => {
    const path = pathOf(req.url);
    const proxyRoute = PROXY_ROUTES.get(path);
    // The hot path: one map look-up and one boolean before the proxy.
    if (proxyRoute !== undefined && servesApi) return handleProxy(rt, proxyRoute, req, res);
    if (surface !== "all" && !surfaceServes(surface, path)) return notFound(rt, req, res, path);
    if (path === "/v1/models") {
      logWhenDone(rt, req, res, "models");
      return handleModels(rt, req, res, null);
    }
    const stored = storedResponsePath(path);
    if (stored !== null) return handleStoredResponse(rt, req, res, stored);
    if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length && !path.includes("%2F") && !path.includes("%2f")) {
      logWhenDone(rt, req, res, "models");
      return handleModels(rt, req, res, decodeURIComponentSafe(path.slice(MODEL_PREFIX.length)));
    }
    const probe = path === "/healthz" || path === "/readyz" || path === "/metrics";
    // The accept-delay probe (ten a second) is the gateway's own, not a probe to log.
    if (probe && rt.config.logging.accessLogProbes && req.headers.host !== PROBE_HOST) logWhenDone(rt, req, res, path.slice(1));
    if (path === "/healthz") return handleHealthz(res);
    if (path === "/readyz") return handleReadyz(rt, res);
    if (path === "/metrics") return handleMetrics(rt, res);
    if (rt.admin !== null && (path === "/admin" || path.startsWith("/admin/"))) {
      logWhenDone(rt, req, res, "admin", path);
      return rt.admin(req, res, clientIpOf(req));
    }
    if (rt.console !== null && (path === "/ui" || path.startsWith("/ui/"))) {
      logWhenDone(rt, req, res, "admin", path);
      return rt.console.handleUi(req, res, clientIpOf(req));
    }
    notFound(rt, req, res, path);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const pending = route(req, res);
      if (pending) pending.catch((err) => fail(res, err, onError));
    } catch (err) {
      fail(res, err, onError);
    }
  };
}

/** The same answer for an unknown path and for an admin path on the public port: nothing tells them apart. */
function notFound(rt: GatewayRuntime, req: IncomingMessage, res: ServerResponse, path: string): void {
  logWhenDone(rt, req, res, "not_found", path);
  req.resume();
  // In the caller's dialect: Anthropic's paths, or any request an Anthropic SDK sends (it always names its version).
  const dialect = path.startsWith("/v1/messages") || req.headers["anthropic-version"] !== undefined ? "anthropic" : "openai";
  sendError(res, new GatewayError("GW_ERR_NOT_FOUND", `Unknown request URL: ${req.method} ${path.slice(0, 200)}.`), ["x-request-id", requestIdFrom(req.headers["x-request-id"])], dialect);
}

function fail(res: ServerResponse, err: unknown, onError: (err: unknown) => void): void {
  onError(err);
  sendError(res, err);
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
