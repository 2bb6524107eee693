/**
 * The end of one proxied request, run once whichever way it ends: it leaves the overload and
 * in-flight counts, releases the body's share of the buffer budget, settles the admission (usage,
 * budget, concurrency) and counts and logs the request (request-record.ts). The handler runs it
 * when it is done; a stream that started runs it from a callback when it is over
 * (StreamEndListener), so no suspended handler frame waits out a stream that lasts minutes. It
 * keeps only what the end needs.
 */
import type { BufferHold } from "../http/buffer-budget";
import type { ProxyRoute } from "../routes";
import type { RequestTrace } from "../tracing/request-trace";
import type { Admission } from "../traffic/types";
import type { ForwardOutcome } from "../upstream/forward-outcome";
import type { StreamEndListener } from "../upstream/stream-delivery";
import { applyCharge, finishRecord, newRecord, type RequestRecord } from "./request-record";
import type { GatewayRuntime } from "./runtime";

export class RequestEnd implements StreamEndListener {
  readonly record: RequestRecord;
  /** The admission's settle() (all a stream needs to keep of it); null when traffic control is off. */
  settle: Admission["settle"] | null = null;
  /** Completion tokens counted in what was delivered (see ForwardOutcome.deliveredTokens). */
  private deliveredTokens: number | null = null;
  private ended = false;

  constructor(
    private readonly rt: GatewayRuntime,
    private readonly route: ProxyRoute,
    readonly requestId: string,
    /** performance.now() when the request arrived. */
    private readonly startedAt: number,
    clientIp: string,
    readonly trace: RequestTrace,
    /** This request's body in the buffer budget, released when the request is over. */
    readonly bodyHold: BufferHold,
  ) {
    this.record = newRecord(clientIp);
  }

  /** Takes what the forwarder reports about the answer into the record. */
  took(outcome: ForwardOutcome): void {
    const record = this.record;
    record.upstreamRequestId = outcome.upstreamRequestId;
    record.target = outcome.target;
    record.status = outcome.status;
    record.attempts = outcome.attempts;
    record.usage = outcome.usage;
    record.ttftMs = outcome.ttftMs;
    record.upstreamModel = outcome.upstreamModel;
    record.servedModel = outcome.servedModel;
    record.interrupted = outcome.interrupted;
    this.deliveredTokens = outcome.deliveredTokens;
  }

  /** A stream the handler started is over (ended, cut, or left by the client). */
  streamEnded(outcome: ForwardOutcome): void {
    // Called from the stream's I/O callbacks: a failure here is logged, never thrown into undici.
    try {
      this.took(outcome);
      this.finish();
    } catch (err) {
      this.rt.logger.error({ reqId: this.requestId, err }, "request completion failed");
    }
  }

  /** Settles, counts and logs the request; only the first call does anything. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    const { rt, record } = this;
    rt.overload.leave();
    rt.metrics.inflight.dec();
    this.bodyHold.release();
    const charged = this.settle?.(record.usage, record.upstreamModel || record.model, { servedModel: record.servedModel || record.model, deliveredTokens: this.deliveredTokens });
    applyCharge(rt, record, charged);
    finishRecord(rt, this.route, this.requestId, this.startedAt, record, this.trace);
  }
}
