/**
 * The built-in `mock://` upstream, answering in-process through the same dispatch interface as
 * an undici Pool, with configurable latency, time to first token and inter-token delay.
 *
 * Lean for long streams (thousands held open, thousands of tokens each): a stream's events are
 * made one at a time as they are due (a generator per dialect), it has one timer at a time
 * (re-armed, not re-created), and nothing of the request outlives the start of the answer.
 */
import type { Dispatcher } from "undici";
import type { TargetConfig } from "../config/schema";
import { mockAnthropicCountTokens, mockAnthropicMessage, mockAnthropicModelList, mockAnthropicStream } from "../dialects/anthropic/mock";
import { mockChatCompletion, mockChatStream, mockEmbeddings, mockImages, mockModelList, mockTextCompletion, mockTextStream, type MockRequest } from "./mock-responses";
import { mockResponse, mockResponseStream } from "../dialects/openai-responses/mock";
import { dispatchedBytes } from "./send-once-body";

type Handler = Dispatcher.DispatchHandler;

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/**
 * One mock exchange: the controller undici's handlers expect (pause, resume and abort honoured
 * as undici's are) and the state of its answer, with at most one pending timer.
 */
class MockExchange implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  /** What the timer (or the microtask standing for a zero delay) runs when it fires. */
  private due: (() => void) | null = null;
  /** The stream's remaining events; null once it ended or was aborted. */
  private events: Iterator<string> | null = null;
  private interTokenMs = 0;
  /** An event came due while paused: sent on resume. */
  private waiting = false;

  constructor(readonly handler: Handler) {}

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.release();
    this.handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (!this.waiting) return;
    this.waiting = false;
    // As undici does, the data comes later, not inside the caller's resume().
    this.after(0, this.next);
  }

  /** Runs `fn` in `ms` (a zero delay: in a microtask), on this exchange's one timer. */
  after(ms: number, fn: () => void): void {
    this.due = fn;
    if (ms <= 0) return queueMicrotask(this.fire);
    if (this.timer !== null && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(this.fire, ms);
  }

  /** Answers with an SSE stream of `events`: the first after `ttftMs`, then one every `interTokenMs`. */
  stream(events: Iterator<string>, ttftMs: number, interTokenMs: number): void {
    this.events = events;
    this.interTokenMs = interTokenMs;
    this.handler.onResponseStart?.(this, 200, SSE_HEADERS, "OK");
    if (!this.aborted) this.after(ttftMs, this.next);
  }

  /** Answers with one JSON body. */
  json(status: number, body: unknown): void {
    if (this.aborted) return;
    const payload = Buffer.from(JSON.stringify(body));
    this.handler.onResponseStart?.(this, status, { "content-type": "application/json", "content-length": String(payload.length) }, "");
    if (this.aborted) return;
    this.handler.onResponseData?.(this, payload);
    if (!this.aborted) this.handler.onResponseEnd?.(this, {});
    this.release();
  }

  /** Ends the exchange with an error the mock itself raised. */
  fail(err: Error): void {
    if (this.aborted) return;
    this.release();
    this.handler.onResponseError?.(this, err);
  }

  private readonly fire = (): void => {
    const fn = this.due;
    this.due = null;
    if (fn === null || this.aborted) return;
    try {
      fn();
    } catch (err) {
      this.fail(err as Error);
    }
  };

  private readonly next = (): void => {
    if (this.aborted || this.events === null) return;
    if (this.paused) {
      this.waiting = true;
      return;
    }
    const step = this.events.next();
    if (step.done) {
      this.release();
      this.handler.onResponseEnd?.(this, {});
      return;
    }
    this.handler.onResponseData?.(this, Buffer.from(step.value));
    if (!this.aborted) this.after(this.interTokenMs, this.next);
  };

  /** Drops the timer and the rest of the stream: a finished exchange holds nothing. */
  private release(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.due = null;
    this.events = null;
  }
}

export class MockDispatcher {
  constructor(private readonly target: TargetConfig) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    const exchange = new MockExchange(handler);
    handler.onRequestStart?.(exchange, {});
    if (!exchange.aborted) exchange.after(this.target.mock.latencyMs, () => this.respond(options, exchange));
    return true;
  }

  private respond(options: Dispatcher.DispatchOptions, exchange: MockExchange): void {
    const mock = this.target.mock;
    const path = String(options.path);
    const anthropic = this.target.provider === "anthropic";
    if (options.method === "GET") {
      const names = [this.target.model ?? this.target.name];
      return exchange.json(200, path.endsWith("/models") ? (anthropic ? mockAnthropicModelList(names) : mockModelList(names)) : { ok: true });
    }
    let request: MockRequest;
    try {
      const bytes = dispatchedBytes(options.body);
      request = JSON.parse(bytes !== null ? bytes.toString("utf8") : String(options.body ?? "{}"));
    } catch {
      return exchange.json(400, { error: { message: "mock upstream: invalid JSON", type: "invalid_request_error", code: null } });
    }
    const from = `mock:${this.target.name}`;
    if (path.endsWith("/embeddings")) return exchange.json(200, mockEmbeddings(request));
    if (path.endsWith("/images/generations")) return exchange.json(200, mockImages(request));
    if (path.endsWith("/v1/messages/count_tokens")) return exchange.json(200, mockAnthropicCountTokens(request as Record<string, unknown>));
    const messages = path.endsWith("/v1/messages");
    const chat = path.endsWith("/chat/completions");
    const responses = path.endsWith("/responses");
    if (messages && request.stream !== true) return exchange.json(200, mockAnthropicMessage(request as Record<string, unknown>, mock.tokens));
    if (request.stream !== true) {
      if (responses) return exchange.json(200, mockResponse(request as Record<string, unknown>, mock.tokens));
      return exchange.json(200, chat ? mockChatCompletion(request, mock.tokens, from) : mockTextCompletion(request, mock.tokens, from));
    }
    const events = responses
      ? mockResponseStream(request as Record<string, unknown>, mock.tokens)
      : messages
        ? mockAnthropicStream(request as Record<string, unknown>, mock.tokens)
        : chat
          ? mockChatStream(request, mock.tokens)
          : mockTextStream(request, mock.tokens);
    exchange.stream(events, mock.ttftMs, mock.interTokenMs);
  }

  async close(): Promise<void> {}
}
