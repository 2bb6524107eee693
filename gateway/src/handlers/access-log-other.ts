/**
 * Access-log lines for the requests that are not proxied (the model list, admin calls, unknown
 * paths, and probes when `logging.accessLogProbes` is on): one line each, written when the
 * response closes, so every request the gateway answers leaves a trace.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { requestIdFrom } from "../http/request-id";
import type { GatewayRuntime } from "./runtime";

/** Logs the request once its response is done; `path` is logged for admin calls and unknown paths only. */
export function logWhenDone(rt: GatewayRuntime, req: IncomingMessage, res: ServerResponse, route: string, path?: string): void {
  const accessLog = rt.accessLog;
  if (accessLog === null) return;
  const startedAt = performance.now();
  res.once("close", () => {
    accessLog.info({
      reqId: requestIdFrom(req.headers["x-request-id"]),
      route,
      method: req.method,
      path: path === undefined ? undefined : path.slice(0, 200),
      clientIp: rt.clientIp(req),
      status: res.writableFinished ? res.statusCode : 499,
      latencyMs: Math.round((performance.now() - startedAt) * 100) / 100,
    }, "request");
  });
}
