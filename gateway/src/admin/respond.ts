/** JSON responses and small body reads for the admin API, errors in OpenAI's shape. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody, GatewayError } from "../errors";

export const ADMIN_BODY_LIMIT = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body, headers } = errorBody(err);
  res.writeHead(status, { ...Object.fromEntries(headers), "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Statuses the gateway's error codes have no entry for (501, 409), in the same JSON shape. */
export function sendAdminError(res: ServerResponse, status: 409 | 412 | 501, code: string, message: string, param: string | null = null): void {
  sendJson(res, status, { error: { message, type: "invalid_request_error", param, code } });
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > ADMIN_BODY_LIMIT) throw new GatewayError("GW_ERR_BODY_TOO_LARGE", `Admin request bodies are limited to ${ADMIN_BODY_LIMIT} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError("GW_ERR_INVALID_JSON", "The request body is not valid JSON.");
  }
}
