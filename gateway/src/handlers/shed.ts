/**
 * The answer to a proxied request shed by the overload guard (http/overload-guard.ts): 503
 * `server_overloaded` in the route's dialect with Retry-After, written before authentication and
 * before the body is read, so refusing costs almost nothing. Counted and logged like any request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "../errors";
import { lingerOnClose } from "../http/lingering-close";
import type { ShedReason } from "../http/overload";
import { requestIdFrom } from "../http/request-id";
import { sendError } from "../http/respond";
import type { ProxyRoute } from "../routes";
import { finishRecord, newRecord } from "./request-record";
import type { GatewayRuntime } from "./runtime";

/** A body up to this size is read and dropped so the connection stays open for the retry; a larger one closes it. */
export const SHED_KEEP_ALIVE_BODY_BYTES = 64 * 1024;

const MESSAGES: Record<ShedReason, string> = {
  in_flight: "The gateway is serving as many requests as it is configured to hold; retry after the Retry-After interval.",
  open_connections: "The gateway holds as many connections as it can; retry after the Retry-After interval.",
  event_loop_lag: "The gateway is saturated and cannot take new requests now; retry after the Retry-After interval.",
  event_loop_utilization: "The gateway is saturated and cannot take new requests now; retry after the Retry-After interval.",
  accept_delay: "The gateway is saturated: new connections wait too long before it can take them; retry after the Retry-After interval.",
};

export function shedRequest(rt: GatewayRuntime, route: ProxyRoute, req: IncomingMessage, res: ServerResponse, reason: ShedReason, startedAt: number): void {
  const requestId = requestIdFrom(req.headers["x-request-id"]);
  const headers = ["x-request-id", requestId];
  // Past the connection ceiling, closing is the point: the descriptor goes back. Shed on accept
  // delay, the connection was new: the retry comes on a new one, through the queue it measures.
  if (rt.draining || !smallBody(req) || reason === "open_connections" || reason === "accept_delay") {
    // node:http closes after this answer; linger so a client still sending its body reads the 503.
    headers.push("connection", "close");
    lingerOnClose(req.socket);
  }
  const record = newRecord(rt.clientIp(req));
  const error = new GatewayError("GW_ERR_SERVER_OVERLOADED", MESSAGES[reason], [["retry-after", String(rt.overload.retryAfterSeconds)]]);
  record.status = sendError(res, error, headers, route.dialect);
  record.errorCode = "server_overloaded";
  record.refusal = reason;
  finishRecord(rt, route, requestId, startedAt, record);
}

/** A body declared small (or none), which node:http drains cheaply after the answer to keep the connection. */
function smallBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return false;
  const declared = req.headers["content-length"];
  return declared === undefined || Number(declared) <= SHED_KEEP_ALIVE_BODY_BYTES;
}
