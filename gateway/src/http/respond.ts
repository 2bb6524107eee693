/** Small response writers shared by every handler. */
import type { ServerResponse } from "node:http";
import { errorBody, type ErrorDialect } from "../errors";

/** Sends an error as the dialect's error JSON (OpenAI's by default); `headers` are the flat extra headers (request id…). */
export function sendError(res: ServerResponse, err: unknown, headers: string[] = [], dialect: ErrorDialect = "openai"): number {
  const { status, body, headers: errorHeaders } = errorBody(err, dialect);
  if (res.headersSent || res.destroyed) {
    if (!res.destroyed) res.destroy();
    return status;
  }
  for (const [name, value] of errorHeaders) headers.push(name, value);
  headers.push("content-type", "application/json", "content-length", String(Buffer.byteLength(body)));
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

export function sendJson(res: ServerResponse, status: number, body: string | Buffer, headers: string[] = []): void {
  headers.push("content-type", "application/json", "content-length", String(Buffer.byteLength(body)));
  res.writeHead(status, headers);
  res.end(body);
}
