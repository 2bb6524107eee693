/**
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`:
 * what the gateway keeps of the responses it served (see responses/store.ts). The caller's key
 * must own the response: another key's id is the same 404 as an unknown one. Each request counts
 * in the metrics and the access log under its own route label.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "../errors";
import { requestIdFrom } from "../http/request-id";
import { sendError, sendJson } from "../http/respond";
import type { Item } from "../dialects/openai-responses/input-items";
import { getOwned, type StoredResponse } from "../responses/store";
import type { ClientIdentity } from "../traffic/types";
import { statusClassOf } from "./request-record";
import { ownerOf } from "./responses-turn";
import type { GatewayRuntime } from "./runtime";

const PREFIX = "/v1/responses/";
const ID = /^[A-Za-z0-9_-]{1,200}$/;

/** The stored-response route a path names, or null (then it is not one of these). */
export function storedResponsePath(path: string): { id: string; inputItems: boolean } | null {
  if (!path.startsWith(PREFIX)) return null;
  const rest = path.slice(PREFIX.length);
  const inputItems = rest.endsWith("/input_items");
  const id = inputItems ? rest.slice(0, -"/input_items".length) : rest;
  return ID.test(id) ? { id, inputItems } : null;
}

function notFound(id: string): GatewayError {
  return new GatewayError("GW_ERR_NOT_FOUND", `No response found with id '${id}'.`);
}

function queryOf(url: string | undefined): URLSearchParams {
  const at = url?.indexOf("?") ?? -1;
  return new URLSearchParams(at === -1 ? "" : url!.slice(at + 1));
}

/** One page of the response's input items, as OpenAI lists them (`limit`, `order`, `after`). */
export function inputItemsPage(record: StoredResponse, query: URLSearchParams): Record<string, unknown> {
  const limitText = query.get("limit");
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new GatewayError("GW_ERR_INVALID_REQUEST", "Invalid 'limit': expected an integer between 1 and 100.", [], "limit");
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw new GatewayError("GW_ERR_INVALID_REQUEST", "Invalid 'order': expected 'asc' or 'desc'.", [], "order");
  let items: Item[] = order === "asc" ? record.input : [...record.input].reverse();
  const after = query.get("after");
  if (after !== null) {
    const at = items.findIndex((item) => item.id === after);
    items = at === -1 ? [] : items.slice(at + 1);
  }
  const data = items.slice(0, limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: items.length > limit };
}

export async function handleStoredResponse(rt: GatewayRuntime, req: IncomingMessage, res: ServerResponse, target: { id: string; inputItems: boolean }): Promise<void> {
  const startedAt = performance.now();
  const requestId = requestIdFrom(req.headers["x-request-id"]);
  const headers = ["x-request-id", requestId];
  const route = target.inputItems ? "responses.input_items" : req.method === "DELETE" ? "responses.delete" : "responses.get";
  let status = 0;
  let identity: ClientIdentity | null = null;
  req.resume();
  try {
    const allowed = target.inputItems ? ["GET"] : ["GET", "DELETE"];
    if (!allowed.includes(req.method ?? "")) throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `Method ${req.method} is not allowed here; use ${allowed.join(" or ")}.`);
    identity = rt.traffic.passthrough ? null : await rt.traffic.authenticate(req.headers, rt.clientIp(req));
    const owner = ownerOf(identity);
    let record: StoredResponse | null;
    try {
      record = await getOwned(rt.responses, target.id, owner);
    } catch {
      throw new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The response store is unavailable; try again shortly.");
    }
    if (record === null) throw notFound(target.id);
    if (req.method === "DELETE") {
      await rt.responses.delete(target.id);
      sendJson(res, 200, JSON.stringify({ id: target.id, object: "response", deleted: true }), headers);
    } else {
      sendJson(res, 200, JSON.stringify(target.inputItems ? inputItemsPage(record, queryOf(req.url)) : record.response), headers);
    }
    status = 200;
  } catch (err) {
    status = sendError(res, err, headers);
  } finally {
    const latencyMs = performance.now() - startedAt;
    const [key, team] = rt.keyLabels.of(identity);
    rt.metrics.requestsFor(route, "", "", String(status), key, team).inc();
    rt.metrics.requestDurationFor(route, "", statusClassOf(status, false, false)).observe(latencyMs / 1000);
    rt.accessLog?.info({ reqId: requestId, route, keyName: identity?.keyName, team: identity?.team, status, latencyMs: Math.round(latencyMs * 100) / 100 }, "request");
  }
}
