/** The gateway's own endpoints: model list, liveness, readiness and Prometheus metrics. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "../errors";
import { requestIdFrom } from "../http/request-id";
import { sendError, sendJson } from "../http/respond";
import type { GatewayRuntime } from "./runtime";

const CREATED = Math.floor(Date.now() / 1000);

function modelObject(id: string): Record<string, unknown> {
  return { id, object: "model", created: CREATED, owned_by: "ai-gateway" };
}

/** GET /v1/models and /v1/models/{id}: the configured names a key may use, OpenAI list format. */
export async function handleModels(rt: GatewayRuntime, req: IncomingMessage, res: ServerResponse, id: string | null): Promise<void> {
  const headers = ["x-request-id", requestIdFrom(req.headers["x-request-id"])];
  try {
    if (req.method !== "GET") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `Method ${req.method} is not allowed; use GET.`);
    const identity = rt.traffic.passthrough ? null : await rt.traffic.authenticate(req.headers, rt.clientIp(req));
    const visible = [...rt.router.pools.keys()].filter((name) => identity?.allowedModels == null || identity.allowedModels.has(name));
    if (id === null) return sendJson(res, 200, JSON.stringify({ object: "list", data: visible.map(modelObject) }), headers);
    if (!visible.includes(id)) throw new GatewayError("GW_ERR_MODEL_NOT_FOUND", `The model \`${id.slice(0, 200)}\` does not exist.`, [], "model");
    sendJson(res, 200, JSON.stringify(modelObject(id)), headers);
  } catch (err) {
    sendError(res, err, headers);
  }
}

export function handleHealthz(res: ServerResponse): void {
  sendJson(res, 200, '{"status":"ok"}');
}

/** Ready unless draining, or models lack a healthy target in their fallback chain (see server.readiness). */
export function handleReadyz(rt: GatewayRuntime, res: ServerResponse): void {
  if (rt.draining) return sendJson(res, 503, '{"status":"draining"}');
  const unservable = rt.router.unservableModels(Date.now());
  const notReady = rt.config.server.readiness === "every-model" ? unservable.length > 0 : unservable.length === rt.router.pools.size;
  if (notReady) return sendJson(res, 503, JSON.stringify({ status: "unavailable", models: unservable }));
  sendJson(res, 200, '{"status":"ready"}');
}

export async function handleMetrics(rt: GatewayRuntime, res: ServerResponse): Promise<void> {
  const { contentType, body } = await rt.metrics.render();
  res.writeHead(200, ["content-type", contentType, "content-length", String(Buffer.byteLength(body))]);
  res.end(body);
}
