/**
 * The built-in `mock://` upstream, answering in-process through the same dispatch interface as
 * an undici Pool, with configurable latency, time to first token and inter-token delay.
 */
import type { Dispatcher } from "undici";
import type { TargetConfig } from "../config/schema";
import { mockAnthropicCountTokens, mockAnthropicMessage, mockAnthropicModelList, mockAnthropicStreamEvents } from "../dialects/anthropic/mock";
import {
  mockChatCompletion,
  mockChatStreamEvents,
  mockEmbeddings,
  mockImages,
  mockModelList,
  mockTextCompletion,
  mockTextStreamEvents,
  type MockRequest,
} from "./mock-responses";
import { mockResponse, mockResponseStreamEvents } from "../dialects/openai-responses/mock";

type Handler = Dispatcher.DispatchHandler;

/** A controller honouring pause, resume and abort, as undici's is. */
class MockController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  private resumeWaiter: (() => void) | null = null;
  constructor(private readonly onAbort: (reason: Error) => void) {}
  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.onAbort(reason);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const waiter = this.resumeWaiter;
    this.resumeWaiter = null;
    waiter?.();
  }
  whenResumed(): Promise<void> {
    return this.paused ? new Promise((resolve) => (this.resumeWaiter = resolve)) : Promise.resolve();
  }
}

export class MockDispatcher {
  constructor(private readonly target: TargetConfig) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    const timers = new Set<NodeJS.Timeout>();
    const controller = new MockController((reason) => {
      for (const timer of timers) clearTimeout(timer);
      handler.onResponseError?.(controller, reason);
    });
    const sleep = (ms: number) =>
      ms <= 0 ? Promise.resolve() : new Promise<void>((resolve) => timers.add(setTimeout(resolve, ms)));
    handler.onRequestStart?.(controller, {});
    void this.respond(options, handler, controller, sleep).catch((err: Error) => {
      if (!controller.aborted) handler.onResponseError?.(controller, err);
    });
    return true;
  }

  private async respond(options: Dispatcher.DispatchOptions, handler: Handler, controller: MockController, sleep: (ms: number) => Promise<void>): Promise<void> {
    const mock = this.target.mock;
    await sleep(mock.latencyMs);
    if (controller.aborted) return;
    const path = String(options.path);
    const anthropic = this.target.provider === "anthropic";
    if (options.method === "GET") {
      const names = [this.target.model ?? this.target.name];
      return this.sendJson(handler, controller, 200, path.endsWith("/models") ? (anthropic ? mockAnthropicModelList(names) : mockModelList(names)) : { ok: true });
    }
    let request: MockRequest;
    try {
      request = JSON.parse(Buffer.isBuffer(options.body) ? options.body.toString("utf8") : String(options.body ?? "{}"));
    } catch {
      return this.sendJson(handler, controller, 400, { error: { message: "mock upstream: invalid JSON", type: "invalid_request_error", code: null } });
    }
    const from = `mock:${this.target.name}`;
    if (path.endsWith("/embeddings")) return this.sendJson(handler, controller, 200, mockEmbeddings(request));
    if (path.endsWith("/images/generations")) return this.sendJson(handler, controller, 200, mockImages(request));
    if (path.endsWith("/v1/messages/count_tokens")) return this.sendJson(handler, controller, 200, mockAnthropicCountTokens(request as Record<string, unknown>));
    const messages = path.endsWith("/v1/messages");
    const chat = path.endsWith("/chat/completions");
    const responses = path.endsWith("/responses");
    if (messages && request.stream !== true) return this.sendJson(handler, controller, 200, mockAnthropicMessage(request as Record<string, unknown>, mock.tokens));
    if (request.stream !== true) {
      if (responses) return this.sendJson(handler, controller, 200, mockResponse(request as Record<string, unknown>, mock.tokens));
      return this.sendJson(handler, controller, 200, chat ? mockChatCompletion(request, mock.tokens, from) : mockTextCompletion(request, mock.tokens, from));
    }
    const events = responses ? mockResponseStreamEvents(request as Record<string, unknown>, mock.tokens) : messages ? mockAnthropicStreamEvents(request as Record<string, unknown>, mock.tokens) : chat ? mockChatStreamEvents(request, mock.tokens) : mockTextStreamEvents(request, mock.tokens);
    handler.onResponseStart?.(controller, 200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" }, "OK");
    await sleep(mock.ttftMs);
    for (let i = 0; i < events.length; i++) {
      if (i > 0) await sleep(mock.interTokenMs);
      await controller.whenResumed();
      if (controller.aborted) return;
      handler.onResponseData?.(controller, Buffer.from(events[i]));
    }
    if (!controller.aborted) handler.onResponseEnd?.(controller, {});
  }

  private sendJson(handler: Handler, controller: MockController, status: number, body: unknown): void {
    if (controller.aborted) return;
    const payload = Buffer.from(JSON.stringify(body));
    handler.onResponseStart?.(controller, status, { "content-type": "application/json", "content-length": String(payload.length) }, "");
    if (controller.aborted) return;
    handler.onResponseData?.(controller, payload);
    if (!controller.aborted) handler.onResponseEnd?.(controller, {});
  }

  async close(): Promise<void> {}
}
