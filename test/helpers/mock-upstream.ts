/**
 * Scriptable mock LLM upstreams as real HTTP servers on 127.0.0.1: they answer like OpenAI, or
 * fail, hang, return 429/5xx, send garbage, or cut a stream, as each test tells them to.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  mockChatCompletion,
  mockChatStreamEvents,
  mockEmbeddings,
  mockImages,
  mockModelList,
  mockTextCompletion,
  mockTextStreamEvents,
  type MockRequest,
} from "../../gateway/src/upstream/mock-responses";
import { mockResponse, mockResponseStreamEvents } from "../../gateway/src/dialects/openai-responses/mock";

export type Behavior =
  | { kind: "ok"; tokens?: number; latencyMs?: number; ttftMs?: number; interTokenMs?: number }
  | { kind: "status"; status: number; body?: string | Buffer; headers?: Record<string, string> }
  /** A 200 SSE answer of exactly these chunks, each its own write; pauses before `holdAt` until releaseStreams(). */
  | { kind: "sse"; chunks: (string | Buffer)[]; holdAt?: number; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Destroy the connection as soon as the request arrives. */
  | { kind: "reset" }
  /** Answer 200 with this body and content type. */
  | { kind: "garbage"; body: string; contentType: string }
  /** Stream this many events, then destroy the socket (or hang when `hang`). */
  | { kind: "cut-stream"; afterEvents: number; hang?: boolean }
  /** A 200 body that never ends (`sse`: as a text/event-stream of content deltas). */
  | { kind: "endless"; sse?: boolean }
  /** A 200 chat completion of about `bytes` bytes, with content-length; its body waits for `gate` when given. */
  | { kind: "large"; bytes: number; gate?: Promise<unknown> };

/** Large answers by size, built once (tests send the same one many times). */
const largeBodies = new Map<number, Buffer>();

/** A chat completion JSON whose content pads it to `bytes` bytes. */
export function largeCompletion(bytes: number): Buffer {
  let body = largeBodies.get(bytes);
  if (body === undefined) {
    const head = '{"id":"chatcmpl-large","object":"chat.completion","created":0,"model":"large","choices":[{"index":0,"message":{"role":"assistant","content":"';
    const tail = '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
    body = Buffer.alloc(Math.max(bytes, head.length + tail.length), 0x61);
    body.write(head, 0);
    body.write(tail, body.length - tail.length);
    largeBodies.set(bytes, body);
  }
  return body;
}

const SSE_DELTA = 'data: {"id":"chatcmpl-endless","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"finish_reason":null}]}\n\n';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  json: MockRequest | null;
}

/**
 * A behaviour scripted one request at a time: the next request gets what `once()` set, every
 * other one `fallback`. For tests that drive one kind of answer per case through a shared upstream.
 */
export class NextBehavior {
  private next: Behavior | null = null;
  constructor(private readonly fallback: Behavior = { kind: "ok", tokens: 4 }) {}

  once(behavior: Behavior): void {
    this.next = behavior;
  }

  readonly take = (): Behavior => {
    const behavior = this.next ?? this.fallback;
    this.next = null;
    return behavior;
  };
}

export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Every response stream the server closed early or that was aborted by the gateway. */
  abortedByPeer = 0;
  /** SSE events written so far, over every stream. */
  eventsSent = 0;
  /** Streams that sent their last event and ended. */
  streamsCompleted = 0;
  behavior: Behavior | ((request: RecordedRequest, index: number) => Behavior) = { kind: "ok" };
  healthStatus = 200;
  private released = false;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: Server, readonly name: string) {}

  static async start(name = "upstream", behavior?: MockUpstream["behavior"], port = 0): Promise<MockUpstream> {
    let upstream: MockUpstream | null = null;
    const server = createServer((req, res) => upstream!.handle(req, res));
    upstream = new MockUpstream(server, name);
    if (behavior) upstream.behavior = behavior;
    server.on("connection", (socket) => {
      upstream!.sockets.add(socket);
      socket.on("close", () => upstream!.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return upstream;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The OpenAI-style base URL (`…/v1`). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  get completions(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === "POST");
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: MockRequest | null = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {
        json = null;
      }
      const recorded: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, json };
      if (req.method === "GET") {
        this.requests.push(recorded);
        res.writeHead(this.healthStatus, { "content-type": "application/json" });
        res.end(JSON.stringify(mockModelList([this.name])));
        return;
      }
      this.requests.push(recorded);
      const index = this.completions.length - 1;
      const behavior = typeof this.behavior === "function" ? this.behavior(recorded, index) : this.behavior;
      res.on("close", () => {
        if (!res.writableFinished) this.abortedByPeer++;
      });
      this.respond(behavior, recorded, req, res);
    });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private respond(behavior: Behavior, request: RecordedRequest, req: IncomingMessage, res: ServerResponse): void {
    switch (behavior.kind) {
      case "hang":
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "status":
        res.writeHead(behavior.status, { "content-type": "application/json", ...behavior.headers });
        res.end(behavior.body ?? JSON.stringify({ error: { message: `mock ${behavior.status}`, type: "upstream_error", code: null } }));
        return;
      case "garbage":
        res.writeHead(200, { "content-type": behavior.contentType });
        res.end(behavior.body);
        return;
      case "endless": {
        res.writeHead(200, { "content-type": behavior.sse ? "text/event-stream" : "application/json" });
        const chunk = behavior.sse ? Buffer.from(SSE_DELTA.repeat(Math.ceil((64 * 1024) / SSE_DELTA.length))) : Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          if (res.destroyed) return;
          while (res.write(chunk));
          res.once("drain", pump);
        };
        pump();
        return;
      }
      case "large": {
        const body = largeCompletion(behavior.bytes);
        res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
        res.flushHeaders();
        void Promise.resolve(behavior.gate).then(() => {
          if (!res.destroyed) res.end(body);
        });
        return;
      }
      case "cut-stream":
        return this.stream(request, res, 16, 0, 5, behavior);
      case "sse":
        return this.writeChunks(res, behavior.chunks, behavior.holdAt ?? -1, behavior.headers);
      case "ok":
        this.later(behavior.latencyMs ?? 0, () => {
          if (res.destroyed) return;
          const json = request.json ?? {};
          const tokens = behavior.tokens ?? 8;
          if (json.stream === true) return this.stream(request, res, tokens, behavior.ttftMs ?? 0, behavior.interTokenMs ?? 0, null);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(this.answer(request.path, json, tokens)));
        });
        return;
    }
  }

  private answer(path: string, json: MockRequest, tokens: number): Record<string, unknown> {
    if (path.endsWith("/embeddings")) return mockEmbeddings(json);
    if (path.endsWith("/images/generations")) return mockImages(json);
    if (path.endsWith("/chat/completions")) return mockChatCompletion(json, tokens, this.name);
    if (path.endsWith("/responses")) return mockResponse(json as Record<string, unknown>, tokens);
    return mockTextCompletion(json, tokens, this.name);
  }

  private stream(request: RecordedRequest, res: ServerResponse, tokens: number, ttftMs: number, interTokenMs: number, cut: { afterEvents: number; hang?: boolean } | null): void {
    const json = request.json ?? {};
    const events = request.path.endsWith("/chat/completions") ? mockChatStreamEvents(json, tokens) : request.path.endsWith("/responses") ? mockResponseStreamEvents(json as Record<string, unknown>, tokens) : mockTextStreamEvents(json, tokens);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (cut && i === cut.afterEvents) {
        if (!cut.hang) res.socket?.destroy();
        return;
      }
      if (i === events.length) {
        this.streamsCompleted++;
        return void res.end();
      }
      res.write(events[i++]);
      this.eventsSent++;
      this.later(interTokenMs, next);
    };
    this.later(ttftMs, next);
  }

  /** Lets every `sse` answer held at its `holdAt` go on (and later ones not stop). */
  releaseStreams(): void {
    this.released = true;
    for (const go of this.waiting.splice(0)) go();
  }

  private writeChunks(res: ServerResponse, chunks: (string | Buffer)[], holdAt: number, headers: Record<string, string> = {}): void {
    res.writeHead(200, { "content-type": "text/event-stream", ...headers });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === chunks.length) return void res.end();
      if (i === holdAt && !this.released) {
        holdAt = -1;
        this.waiting.push(next);
        return;
      }
      res.write(chunks[i++]);
      this.eventsSent++;
      this.later(0, next);
    };
    next();
  }

  /** Simulates the process dying: every open connection is cut and the port closes. */
  async kill(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
