/**
 * Failover: tries the model's targets, then its fallback models, until one answers, all before
 * any byte reaches the client. Connect errors, timeouts, 5xx, 429 and garbage move on to the
 * next target; other statuses pass through unchanged. A 429 cools its target down.
 */
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { GatewayConfig } from "../config/schema";
import { GatewayError } from "../errors";
import { overloadedError, type BufferBudget, type BufferHold } from "../http/buffer-budget";
import type { Logger } from "../log";
import type { GatewayMetrics } from "../metrics/registry";
import type { ProxyRoute } from "../routes";
import type { ModelPool } from "../routing/router";
import type { TargetState } from "../routing/target-state";
import { deliveredCompletionTokens } from "../budget/delivered";
import { RequestTranslators } from "../translate/registry";
import type { Translator } from "../translate/translator";
import type { Usage } from "../traffic/types";
import { SpanKind, type ActiveSpan } from "../tracing/span";
import { RequestTrace } from "../tracing/request-trace";
import type { ResponsesTurn } from "../responses/turn";
import { UpstreamAttempt, type AttemptResult } from "./attempt";
import { attemptHeaders, sentClientScope } from "./attempt-headers";
import { writeBuffered } from "./client-writer";
import { header } from "./answer-body";
import { countsTowardEjection, exhaustedError, misconfiguredError, type AttemptFailure } from "./failure";
import type { PreparedTarget } from "./prepared-target";
import { redactRaw } from "./redact";
import { upstreamRequestIdOf } from "./upstream-request-id";
import { answerFailure } from "./answer-failure";
import { dispatchBody, RELEASE_AFTER_SEND_BYTES } from "./send-once-body";
import { StreamDelivery, type StreamEndListener } from "./stream-delivery";
import { STREAM_STARTED, type ForwardOutcome } from "./forward-outcome";

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
  /** Count what reaches the client, for a charge when the upstream's usage is missing. */
  countDelivered?: boolean;
  /** The request's W3C trace (and spans when recorded); a fresh unrecorded one when absent. */
  trace?: RequestTrace;
  /**
   * The client's request headers: for translators (`anthropic-beta`…) and for those a target
   * accepts (User-Agent, its forwardHeaders); credentials are never forwarded.
   */
  clientHeaders?: IncomingHttpHeaders;
  /** `POST /v1/responses`: the turn its translators read and record the answer in. */
  responses?: ResponsesTurn;
  /** Told when a stream that forward() started (returning STREAM_STARTED) is over. */
  streamEnd: StreamEndListener;
}

const NONE_TRIED: ReadonlySet<TargetState> = new Set();

class ClientClosedError extends Error {
  readonly code = "GW_CLIENT_CLOSED";
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

  /**
   * Answers the client, or throws the GatewayError to answer with when nothing worked. A stream
   * returns STREAM_STARTED once its first byte is written; its outcome goes to `req.streamEnd`.
   */
  async forward(req: ForwardRequest, res: ServerResponse): Promise<ForwardOutcome | typeof STREAM_STARTED> {
    const deadline = req.startedAt + this.defaults.deadlineMs;
    const trace = req.trace ?? RequestTrace.from({}, null, "");
    /** Targets already tried: the first alone, until a second pick needs a Set (most requests make one attempt). */
    let firstTried: TargetState | null = null;
    let tried: Set<TargetState> | null = null;
    const translators = new RequestTranslators({
      route: req.route.name,
      body: req.body,
      rawBody: req.rawBody,
      stream: req.stream,
      headers: req.clientHeaders ?? {},
      countDelivered: req.countDelivered === true,
      responses: req.responses,
    });
    /** Targets skipped because nothing translates this route to their provider. */
    let unservable = 0;
    let current: UpstreamAttempt | null = null;
    let clientClosed = false;
    const onClose = () => {
      if (res.writableFinished) return;
      clientClosed = true;
      current?.abort(new ClientClosedError("client closed the connection"));
    };
    res.on("close", onClose); // removed below; `on` needs no once-wrapper per request
    let attempts = 0;
    let last: AttemptFailure | null = null;
    let pending: { pool: string; target: string; reason: string } | null = null;
    /** The target whose last attempt met a stale keep-alive connection: tried again, on a new one. */
    let staleOn: TargetState | null = null;

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
          const state: TargetState | null = staleOn ?? pool.pick(Date.now(), tried ?? (firstTried === null ? NONE_TRIED : (tried = new Set([firstTried]))));
          const retryingStale = staleOn !== null;
          staleOn = null;
          if (state === null) break;
          if (tried !== null) tried.add(state);
          else firstTried = state;
          const target = this.targets.get(state)!;
          const translator = translators.for(target.provider);
          let upstream = translator?.request(target);
          const path = upstream && target.paths[upstream.operation];
          if (translator === null || upstream === undefined || path === undefined) {
            // Not an attempt: this target cannot serve the route at all (e.g. embeddings on Anthropic).
            unservable++;
            n--;
            continue;
          }
          if (pending) this.metrics.retriesFor(pending.pool, pending.target, pending.reason).inc();
          attempts++;
          const attempt = new UpstreamAttempt(req.stream, this.defaults.maxResponseBytes, this.client.buffers?.hold() ?? null);
          current = attempt;
          state.inflight++;
          const sentAt = performance.now();
          const span = trace.child("upstream attempt", SpanKind.client);
          span?.set("aigw.model", pool.name).set("aigw.target", state.name).set("gen_ai.request.model", target.upstreamModel).set("server.address", target.endpoint.origin).set("aigw.attempt", attempts);
          (retryingStale ? target.endpoint.fresh : target.endpoint.dispatcher).dispatch(
            {
              method: "POST",
              path,
              headers: withContentLength(attemptHeaders(target, req.requestId, trace.traceparentFor(span), trace.context.tracestate, req.clientHeaders, upstream.headers), upstream.body),
              // A large body as a one-shot iterable, so undici does not hold it until the answer ends
              // (undici takes iterables, as documented; its DispatchOptions type does not list them).
              body: dispatchBody(upstream.body) as Buffer,
              // Our own timers below decide; undici's coarse one (see armHeadersTimeout) would fire first.
              headersTimeout: 0,
              bodyTimeout: target.timeoutMs,
            },
            attempt,
          );
          // The target's wait for headers, and the deadline (which also covers a buffered answer's body).
          attempt.armTimeouts(target.timeoutMs, deadline);
          // A buffered answer's bytes stay held until deliver() has written it; every other exit frees them.
          let handedOver = false;
          try {
            const result = await attempt.result;
            if (span !== null) recordAttemptResult(span, result);
            if (attempt.overloaded) {
              state.inflight--;
              throw Object.assign(overloadedError("this answer"), { attempts });
            }
            if (clientClosed) {
              state.inflight--;
              attempt.abort(new ClientClosedError("client closed the connection"));
              return { ...this.outcome(499, state, pool, target, attempts, null, null, null, false, true), deliveredTokens: req.countDelivered ? 0 : null };
            }
            if (result.kind !== "failed") this.metrics.upstreamDurationFor(pool.name, state.name).observe((attempt.headersAt - sentAt) / 1000);
            // A stale connection is not the target's fault: not judged, and tried once more within this attempt's count.
            const stale = !retryingStale && result.kind === "failed" && result.failure.staleConnection === true;
            const failure = stale ? result.failure : this.judge(result, state, target, req, translator);
            if (failure || result.kind === "failed") {
              state.inflight--;
              // A stream refused at its start (an error event first) is still open upstream.
              if (result.kind === "stream") attempt.abort(new Error("stream refused at its start"));
              const why: AttemptFailure = failure ?? { reason: "network", detail: "unknown" };
              last = why;
              pending = { pool: pool.name, target: state.name, reason: stale ? "stale_connection" : why.reason };
              span?.set("aigw.failure", why.reason).fail(why.detail);
              this.logger.debug({ reqId: req.requestId, model: pool.name, target: state.name, reason: pending.reason, detail: why.detail, upstreamRequestId: why.upstreamRequestId ?? undefined }, "upstream attempt failed");
              if (why.reason === "deadline") break;
              if (stale) {
                staleOn = state;
                n--;
              }
              continue;
            }
            state.recordSuccess(attempt.headersAt - sentAt);
            handedOver = result.kind === "buffered";
            span?.end();
            if (result.kind === "stream") {
              // Committed: nothing is retried after the first byte, so a stream (minutes long) keeps
              // none of its request's bytes, nor its parsed body where the translator needs it no more.
              translators.committed(translator);
              req.body = translators.request.body;
              req.rawBody = translators.request.rawBody;
              upstream = undefined;
              // From here the stream holds the target's in-flight count, until it ends.
              try {
                this.startStream(req, res, result, attempt, state, pool, target, attempts, translator);
              } catch (err) {
                // Thrown before the hand-over (head, first chunk): no end will run, so undo here.
                state.inflight--;
                attempt.abort(err as Error);
                throw err;
              }
              return STREAM_STARTED;
            }
            try {
              return this.deliver(req, res, result, attempt, state, pool, target, attempts, translator);
            } finally {
              state.inflight--;
            }
          } finally {
            span?.end();
            if (!handedOver) attempt.hold?.release();
          }
        }
        if (last?.reason === "deadline") break;
      }
    } finally {
      res.off("close", onClose);
    }
    if (attempts === 0 && unservable > 0) {
      throw new GatewayError("GW_ERR_INVALID_REQUEST", `The model \`${String(req.body.model).slice(0, 200)}\` is not served on ${req.route.name} by this gateway: its targets speak another API.`, [], "model");
    }
    if (attempts === 0) {
      // Nothing was tried: say so plainly when it is because every target refused its credentials.
      const status = misconfiguredStatus(req.chain, Date.now());
      if (status !== null) throw misconfiguredError(req.chain[0]?.name ?? "", status);
    }
    throw exhaustedError(last, attempts);
  }

  /** Returns why this answer cannot be used, recording it on the target; null when usable. */
  private judge(result: AttemptResult, state: TargetState, target: PreparedTarget, req: ForwardRequest, translator: Translator): AttemptFailure | null {
    const now = Date.now();
    const failure = answerFailure(result, now, target, translator, this.defaults.maxResponseBytes);
    if (failure === null) return null;
    if (result.kind !== "failed") failure.upstreamRequestId = upstreamRequestIdOf(result.headers);
    if (failure.reason === "status_429") failure.retryAfterMs = state.recordRateLimited(now, failure.retryAfterMs ?? null);
    else if (failure.reason === "upstream_auth") this.recordAuthFailure(failure, state, target, req, now);
    else if (countsTowardEjection(failure) && state.recordFailure(now, failure.reason)) {
      this.logger.warn({ model: state.model, target: state.name, reason: failure.reason, status: failure.status, detail: failure.detail }, "target ejected after consecutive failures");
    }
    return failure;
  }

  /**
   * An upstream 401/403: the target's key (or its org, project, permissions) is wrong, which is
   * the operator's to fix. The target leaves rotation and the failure is logged and counted,
   * unless the client's own organization or project header may be the cause: then only the
   * client's request fails over, and one client cannot take the target out for everyone.
   */
  private recordAuthFailure(failure: AttemptFailure, state: TargetState, target: PreparedTarget, req: ForwardRequest, now: number): void {
    const status = failure.status ?? 0;
    failure.clientScoped = sentClientScope(target, req.clientHeaders);
    this.metrics.upstreamAuthFailuresFor(state.model, state.name, String(status)).inc();
    const fields = { reqId: req.requestId, model: state.model, target: state.name, status, upstreamRequestId: failure.upstreamRequestId ?? undefined };
    if (failure.clientScoped) {
      this.logger.warn({ ...fields, clientScoped: true }, "upstream refused the client's organization or project");
      return;
    }
    const fresh = state.recordAuthFailure(now, status);
    this.logger.warn({ ...fields, baseUrl: target.state.config.baseUrl, fresh }, "target misconfigured: the upstream refused its credentials");
  }

  /** Writes a buffered answer, synchronously (no promise, no microtask hop). */
  private deliver(
    req: ForwardRequest,
    res: ServerResponse,
    result: Extract<AttemptResult, { kind: "buffered" }>,
    attempt: UpstreamAttempt,
    state: TargetState,
    pool: ModelPool,
    target: PreparedTarget,
    attempts: number,
    translator: Translator,
  ): ForwardOutcome {
    // Added to the request's own list (no copy) just before the head is written from it.
    const headers = req.headers;
    const upstreamRequestId = upstreamRequestIdOf(result.headers);
    const contentType = translator.contentType(header(result.headers["content-type"]));
    const ok = result.status >= 200 && result.status < 300;
    const translated = ok ? result.translated : undefined;
    const usage = translated ? translated.usage : null;
    // Error bodies were redacted (every encoding) when judged; a success is scanned for the raw key.
    const body = translated ? redactRaw(translated.body, target.secrets) : result.body;
    addAnswerHeaders(headers, attempts, state.name, pool.name, upstreamRequestId);
    writeBuffered(res, result.status, contentType, body, headers, this.client.writeTimeoutMs);
    const hold = attempt.hold;
    if (hold) releaseOnceWritten(res, hold);
    const outcome = this.outcome(result.status, state, pool, target, attempts, usage, null, ok ? { body, contentType } : null, false, false);
    outcome.upstreamRequestId = upstreamRequestId;
    if (usage === null && req.countDelivered && result.json) outcome.deliveredTokens = ok ? translator.deliveredTokens() : deliveredCompletionTokens(req.route.name, result.json);
    return outcome;
  }

  /**
   * Writes a committed stream's head and first chunk and hands the rest to a StreamDelivery,
   * which reports to `req.streamEnd` when the stream is over. Nothing here waits for it.
   */
  private startStream(
    req: ForwardRequest,
    res: ServerResponse,
    result: Extract<AttemptResult, { kind: "stream" }>,
    attempt: UpstreamAttempt,
    state: TargetState,
    pool: ModelPool,
    target: PreparedTarget,
    attempts: number,
    translator: Translator,
  ): void {
    const upstreamRequestId = upstreamRequestIdOf(result.headers);
    const ttftMs = performance.now() - req.startedAt;
    this.metrics.ttftFor(pool.name).observe(ttftMs / 1000);
    const span = req.trace?.child("stream") ?? null;
    span?.set("aigw.model", pool.name).set("aigw.target", state.name);
    addAnswerHeaders(req.headers, attempts, state.name, pool.name, upstreamRequestId);
    const outcome = this.outcome(200, state, pool, target, attempts, null, ttftMs, null, false, false);
    outcome.upstreamRequestId = upstreamRequestId;
    const first = result.first;
    // The attempt's settled result is not read again: a long stream need not keep it.
    attempt.committed();
    StreamDelivery.start(res, attempt, first, req.headers, {
      translator,
      maxStreamMs: this.defaults.maxStreamMs,
      stallMs: Math.min(this.client.writeTimeoutMs, target.timeoutMs),
      secrets: target.secrets,
      state,
      outcome,
      span,
      requestId: req.requestId,
      metrics: this.metrics,
      logger: this.logger,
      listener: req.streamEnd,
    });
  }

  private outcome(status: number, state: TargetState, pool: ModelPool, target: PreparedTarget, attempts: number, usage: Usage | null, ttftMs: number | null, cacheable: ForwardOutcome["cacheable"], interrupted: boolean, clientClosed: boolean): ForwardOutcome {
    return { status, target: state.name, servedModel: pool.name, upstreamModel: target.upstreamModel, attempts, usage, deliveredTokens: null, ttftMs, cacheable, interrupted, clientClosed, upstreamRequestId: null };
  }
}

/** Status of a credential refusal holding out a target of the chain (every other one being unavailable too), else null. */
function misconfiguredStatus(chain: readonly ModelPool[], now: number): number | null {
  for (const pool of chain) for (const target of pool.targets) if (target.misconfiguredStatus !== null && target.healthInfo(now).state === "misconfigured") return target.misconfiguredStatus;
  return null;
}

/** The response headers that say which attempt, target and model answered. */
function addAnswerHeaders(headers: string[], attempts: number, target: string, model: string, upstreamRequestId: string | null): void {
  headers.push("x-gateway-attempts", String(attempts), "x-gateway-target", target, "x-gateway-model", model);
  if (upstreamRequestId !== null) headers.push("x-upstream-request-id", upstreamRequestId);
}

/**
 * A buffered answer's share of the buffer budget goes back once the socket has taken all of it:
 * at once when the kernel accepted the whole write (the usual small answer: no listener, no
 * closure a request), else when the response closes.
 */
function releaseOnceWritten(res: ServerResponse, hold: BufferHold): void {
  if (res.destroyed || (res.writableEnded && res.writableLength === 0)) hold.release();
  else res.once("close", () => hold.release());
}

/** undici cannot size an iterable body: a SendOnceBody states its length, so it is not sent chunked. */
function withContentLength(headers: string[], body: Buffer): string[] {
  if (body.length >= RELEASE_AFTER_SEND_BYTES) headers.push("content-length", String(body.length));
  return headers;
}

/** Records what an attempt's answer was on its span (before the forwarder judges it). */
function recordAttemptResult(span: ActiveSpan, result: AttemptResult): void {
  if (result.kind === "failed") span.set("aigw.failure", result.failure.reason).fail(result.failure.detail);
  else span.set("http.response.status_code", result.status).set("aigw.upstream_request_id", upstreamRequestIdOf(result.headers));
}
