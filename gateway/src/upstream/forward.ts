/**
 * Failover: tries the model's targets, then its fallback models, until one answers, all before
 * any byte reaches the client. Connect errors, timeouts, 5xx, 429 and garbage move on to the
 * next target; other statuses pass through unchanged. A 429 cools its target down.
 */
import type { ServerResponse } from "node:http";
import type { GatewayConfig } from "../config/schema";
import { overloadedError, type BufferBudget } from "../http/buffer-budget";
import type { Logger } from "../log";
import type { GatewayMetrics } from "../metrics/registry";
import type { ProxyRoute } from "../routes";
import type { ModelPool } from "../routing/router";
import { parseRetryAfterMs, type TargetState } from "../routing/target-state";
import { usageFromObject } from "../stream/usage";
import type { Usage } from "../traffic/types";
import { UpstreamAttempt, type AttemptResult } from "./attempt";
import { pipeStream, writeBuffered } from "./client-writer";
import { exhaustedError, isRetryableStatus, type AttemptFailure } from "./failure";
import type { PreparedTarget } from "./prepared-target";
import { spliceIncludeUsage } from "./splice-usage";

export interface ForwardRequest {
  chain: readonly ModelPool[];
  route: ProxyRoute;
  body: Record<string, unknown>;
  rawBody: Buffer;
  stream: boolean;
  requestId: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Response headers the pipeline adds (request id, rate limits, cache), flat. */
  headers: string[];
}

export interface ForwardOutcome {
  status: number;
  target: string | null;
  /** The model pool that answered (differs from the request's after a fallback). */
  servedModel: string;
  upstreamModel: string;
  attempts: number;
  usage: Usage | null;
  ttftMs: number | null;
  /** A non-streaming 2xx answer, for the response cache. */
  cacheable: { body: Buffer; contentType: string } | null;
  interrupted: boolean;
  clientClosed: boolean;
}

class ClientClosedError extends Error {
  readonly code = "GW_CLIENT_CLOSED";
}

function deadlineError(): Error {
  return Object.assign(new Error("the request deadline passed"), { code: "GW_DEADLINE" });
}

export class Forwarder {
  constructor(
    private readonly targets: ReadonlyMap<TargetState, PreparedTarget>,
    private readonly defaults: GatewayConfig["upstreamDefaults"],
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly client: {
      /** Non-streaming answers hold their bytes here until they are written to the client. */
      buffers: BufferBudget | null;
      /** How long a write may stay unread by the client before it is cut. */
      writeTimeoutMs: number;
    },
  ) {}

  /** Answers the client, or throws the GatewayError to answer with when nothing worked. */
  async forward(req: ForwardRequest, res: ServerResponse): Promise<ForwardOutcome> {
    const deadline = req.startedAt + this.defaults.deadlineMs;
    const tried = new Set<TargetState>();
    const injectUsage = req.stream && !includesUsage(req.body);
    /** Rewritten bodies by upstream model, made only when a target needs one. */
    const bodies: { map: Map<string, Buffer> | null } = { map: null };
    let current: UpstreamAttempt | null = null;
    let clientClosed = false;
    const onClose = () => {
      if (res.writableFinished) return;
      clientClosed = true;
      current?.abort(new ClientClosedError("client closed the connection"));
    };
    res.once("close", onClose);
    let attempts = 0;
    let last: AttemptFailure | null = null;
    let pending: { pool: string; target: string; reason: string } | null = null;

    try {
      for (const pool of req.chain) {
        for (let n = 0; n < this.defaults.maxAttempts; n++) {
          // The client may have left during admission or a failed attempt: call no upstream for nobody.
          if (clientClosed || res.destroyed) throw new ClientClosedError("client closed the connection");
          const remaining = deadline - performance.now();
          if (remaining <= 0) {
            last = { reason: "deadline", detail: "deadline passed" };
            break;
          }
          const state = pool.pick(Date.now(), tried);
          if (state === null) break;
          tried.add(state);
          const target = this.targets.get(state)!;
          if (pending) this.metrics.retriesFor(pending.pool, pending.target, pending.reason).inc();
          attempts++;
          const attempt = new UpstreamAttempt(req.stream, this.defaults.maxResponseBytes, this.client.buffers?.hold() ?? null);
          current = attempt;
          state.inflight++;
          const sentAt = performance.now();
          target.endpoint.dispatcher.dispatch(
            {
              method: "POST",
              path: target.endpoint.pathPrefix + req.route.upstreamPath,
              headers: [...target.baseHeaders, "x-request-id", req.requestId],
              body: this.bodyFor(req, target, injectUsage, bodies),
              headersTimeout: Math.min(target.timeoutMs, Math.ceil(remaining)),
              bodyTimeout: target.timeoutMs,
            },
            attempt,
          );
          // undici's header/body timeouts tick at about 1 s: the deadline gets a timer of its own.
          const deadlineTimer = setTimeout(() => attempt.abort(deadlineError()), Math.ceil(remaining));
          // A buffered answer's bytes stay held until deliver() has written it; every other exit frees them.
          let handedOver = false;
          try {
            const result = await attempt.result;
            clearTimeout(deadlineTimer);
            if (attempt.overloaded) {
              state.inflight--;
              throw Object.assign(overloadedError("this answer"), { attempts });
            }
            if (clientClosed) {
              state.inflight--;
              attempt.abort(new ClientClosedError("client closed the connection"));
              return this.outcome(499, state, pool, target, attempts, null, null, null, false, true);
            }
            if (result.kind !== "failed") this.metrics.upstreamDurationFor(pool.name, state.name).observe((attempt.headersAt - sentAt) / 1000);
            const failure = this.judge(result, state);
            if (failure || result.kind === "failed") {
              state.inflight--;
              const why: AttemptFailure = failure ?? { reason: "network", detail: "unknown" };
              last = why;
              pending = { pool: pool.name, target: state.name, reason: why.reason };
              this.logger.debug({ reqId: req.requestId, model: pool.name, target: state.name, reason: why.reason, detail: why.detail }, "upstream attempt failed");
              if (why.reason === "deadline") break;
              continue;
            }
            state.recordSuccess(attempt.headersAt - sentAt);
            handedOver = result.kind === "buffered";
            try {
              return await this.deliver(req, res, result, attempt, state, pool, target, attempts, injectUsage);
            } finally {
              state.inflight--;
            }
          } finally {
            if (!handedOver) attempt.hold?.release();
          }
        }
        if (last?.reason === "deadline") break;
      }
    } finally {
      res.off("close", onClose);
    }
    throw exhaustedError(last, attempts);
  }

  /** Returns why this answer cannot be used, recording it on the target; null when usable. */
  private judge(result: AttemptResult, state: TargetState): AttemptFailure | null {
    const now = Date.now();
    if (result.kind === "failed") {
      if (result.failure.reason !== "deadline") this.recordFailure(state, now, result.failure.reason);
      return result.failure;
    }
    if (result.status === 429) {
      const retryAfterMs = parseRetryAfterMs(header(result.headers["retry-after"]), header(result.headers["retry-after-ms"]), now);
      state.recordRateLimited(now, retryAfterMs);
      return { reason: "status_429", status: 429, retryAfterMs, detail: "429" };
    }
    if (isRetryableStatus(result.status)) {
      this.recordFailure(state, now, "status_5xx");
      return { reason: "status_5xx", status: result.status, detail: String(result.status) };
    }
    if (result.kind === "buffered" && result.status >= 200 && result.status < 300) {
      result.json = parseJsonObject(result.body, result.headers);
      if (result.json === null) {
        this.recordFailure(state, now, "invalid_response");
        return { reason: "invalid_response", status: result.status, detail: "not a JSON object" };
      }
    }
    return null;
  }

  /** Counts a failure against the target, logging when it gets ejected. */
  private recordFailure(state: TargetState, now: number, reason: string): void {
    if (state.recordFailure(now)) this.logger.warn({ model: state.model, target: state.name, reason }, "target ejected after consecutive failures");
  }

  private async deliver(
    req: ForwardRequest,
    res: ServerResponse,
    result: Exclude<AttemptResult, { kind: "failed" }>,
    attempt: UpstreamAttempt,
    state: TargetState,
    pool: ModelPool,
    target: PreparedTarget,
    attempts: number,
    injectUsage: boolean,
  ): Promise<ForwardOutcome> {
    const headers = [...req.headers, "x-gateway-attempts", String(attempts), "x-gateway-target", state.name, "x-gateway-model", pool.name];
    if (result.kind === "buffered") {
      const contentType = header(result.headers["content-type"]) ?? "application/json";
      const ok = result.status >= 200 && result.status < 300;
      const usage = result.json ? usageFromObject(result.json.usage) : null;
      const hold = attempt.hold;
      if (hold) {
        if (res.destroyed) hold.release();
        else res.once("close", () => hold.release());
      }
      writeBuffered(res, result.status, contentType, ok ? result.body : redactSecrets(result.body, target.secrets), headers, this.client.writeTimeoutMs);
      return this.outcome(result.status, state, pool, target, attempts, usage, null, ok ? { body: result.body, contentType } : null, false, false);
    }
    const ttftMs = performance.now() - req.startedAt;
    this.metrics.ttftFor(pool.name).observe(ttftMs / 1000);
    const streamed = await pipeStream(res, attempt, result.first, headers, { dropInjectedUsage: injectUsage, maxStreamMs: this.defaults.maxStreamMs, stallMs: Math.min(this.client.writeTimeoutMs, target.timeoutMs) });
    if (streamed.interrupted && !streamed.clientClosed) {
      this.metrics.streamsInterrupted.labels(pool.name, state.name).inc();
      this.logger.warn({ reqId: req.requestId, model: pool.name, target: state.name }, "upstream stream interrupted after the first byte");
    }
    return this.outcome(streamed.clientClosed ? 499 : 200, state, pool, target, attempts, streamed.usage, ttftMs, null, streamed.interrupted && !streamed.clientClosed, streamed.clientClosed);
  }

  private outcome(status: number, state: TargetState, pool: ModelPool, target: PreparedTarget, attempts: number, usage: Usage | null, ttftMs: number | null, cacheable: ForwardOutcome["cacheable"], interrupted: boolean, clientClosed: boolean): ForwardOutcome {
    return { status, target: state.name, servedModel: pool.name, upstreamModel: target.upstreamModel, attempts, usage, ttftMs, cacheable, interrupted, clientClosed };
  }

  /** The client's body as is, unless the target renames the model or usage must be asked for. */
  private bodyFor(req: ForwardRequest, target: PreparedTarget, injectUsage: boolean, bodies: { map: Map<string, Buffer> | null }): Buffer {
    if (!injectUsage && target.upstreamModel === req.body.model) return req.rawBody;
    const cache = (bodies.map ??= new Map<string, Buffer>());
    let body = cache.get(target.upstreamModel);
    if (body === undefined && injectUsage && target.upstreamModel === req.body.model && !("stream_options" in req.body)) {
      body = spliceIncludeUsage(req.rawBody) ?? undefined;
      if (body !== undefined) cache.set(target.upstreamModel, body);
    }
    if (body === undefined) {
      const rewritten: Record<string, unknown> = { ...req.body, model: target.upstreamModel };
      if (injectUsage) rewritten.stream_options = { ...(req.body.stream_options as object | undefined), include_usage: true };
      body = Buffer.from(JSON.stringify(rewritten));
      cache.set(target.upstreamModel, body);
    }
    return body;
  }
}

/** A passed-through error body that quotes the target's key (some upstreams echo the request) must not show it. */
function redactSecrets(body: Buffer, secrets: readonly string[]): Buffer {
  let text: string | null = null;
  for (const secret of secrets) {
    if (body.indexOf(secret) === -1) continue;
    text = (text ?? body.toString("utf8")).split(secret).join("[redacted]");
  }
  return text === null ? body : Buffer.from(text);
}

function includesUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return options?.include_usage === true;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A JSON object body is the only good non-streaming answer; null for anything else. */
function parseJsonObject(body: Buffer, headers: Record<string, string | string[] | undefined>): Record<string, unknown> | null {
  const type = header(headers["content-type"]);
  if (type !== undefined && !type.includes("json")) return null;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
