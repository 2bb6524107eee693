/**
 * A mock Anthropic Messages API as a real HTTP server on 127.0.0.1: it answers POST /v1/messages
 * (JSON or the event stream), /v1/messages/count_tokens and GET /v1/models as Anthropic does, or
 * fails (status with Anthropic's error body, a stream cut after some events, a scripted answer),
 * as each test tells it to. Every request is recorded with its headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { mockAnthropicCountTokens, mockAnthropicMessage, mockAnthropicModelList, mockAnthropicStreamEvents } from "../../gateway/src/dialects/anthropic/mock";

type Json = Record<string, unknown>;

export type AnthropicBehavior =
  | { kind: "ok"; tokens?: number }
  /** An error status with Anthropic's error body (`type` defaults from the status), plus headers. */
  | { kind: "error"; status: number; type?: string; message?: string; headers?: Record<string, string> }
  /** This message, whatever was asked (non-streaming), or these events (streaming). */
  | { kind: "message"; message: Json }
  | { kind: "events"; events: string[] }
  /** Stream this many events of the normal answer, then destroy the socket. */
  | { kind: "cut-stream"; afterEvents: number };

export interface AnthropicRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  json: Json | null;
}

const TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error" };

export class MockAnthropic {
  readonly requests: AnthropicRequest[] = [];
  behavior: AnthropicBehavior | ((request: AnthropicRequest, index: number) => AnthropicBehavior) = { kind: "ok" };
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(behavior?: MockAnthropic["behavior"]): Promise<MockAnthropic> {
    let mock: MockAnthropic | null = null;
    const server = createServer((req, res) => mock!.handle(req, res));
    mock = new MockAnthropic(server);
    if (behavior) mock.behavior = behavior;
    server.on("connection", (socket) => {
      mock!.sockets.add(socket);
      socket.on("close", () => mock!.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return mock;
  }

  /** The base URL of a `provider: anthropic` target (the API's origin, no /v1). */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get messages(): AnthropicRequest[] {
    return this.requests.filter((r) => r.method === "POST");
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let json: Json | null = null;
      try {
        json = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json) : null;
      } catch {
        json = null;
      }
      const request: AnthropicRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, json };
      this.requests.push(request);
      if (req.method === "GET") return this.send(res, 200, mockAnthropicModelList(["claude-mock"]));
      if (request.path === "/v1/messages/count_tokens") return this.send(res, 200, mockAnthropicCountTokens(json ?? {}));
      const behavior = typeof this.behavior === "function" ? this.behavior(request, this.messages.length - 1) : this.behavior;
      this.respond(behavior, json ?? {}, res);
    });
  }

  private respond(behavior: AnthropicBehavior, json: Json, res: ServerResponse): void {
    const stream = json.stream === true;
    switch (behavior.kind) {
      case "error":
        return this.send(res, behavior.status, { type: "error", error: { type: behavior.type ?? TYPES[behavior.status] ?? "api_error", message: behavior.message ?? `mock ${behavior.status}` } }, behavior.headers);
      case "message":
        return this.send(res, 200, behavior.message);
      case "events":
        return this.events(res, behavior.events, null);
      case "cut-stream":
        return this.events(res, mockAnthropicStreamEvents(json, 16), behavior.afterEvents);
      case "ok":
        if (stream) return this.events(res, mockAnthropicStreamEvents(json, behavior.tokens ?? 8), null);
        return this.send(res, 200, mockAnthropicMessage(json, behavior.tokens ?? 8));
    }
  }

  private send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)), "request-id": "req_mock", ...headers });
    res.end(payload);
  }

  private events(res: ServerResponse, events: string[], cutAfter: number | null): void {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (cutAfter !== null && i === cutAfter) return void res.socket?.destroy();
      if (i === events.length) return void res.end();
      res.write(events[i++]);
      setImmediate(next);
    };
    next();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
