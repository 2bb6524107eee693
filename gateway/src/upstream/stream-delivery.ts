/**
 * A committed stream, from its first byte to its end: relays the upstream's events to the client
 * through the translator (usage filter, dialect) and the key redactor, with backpressure, a
 * maximum duration, a stall cut for a client that stops reading, and a clear error event when the
 * upstream breaks off. One object per open stream, driven by callbacks (the attempt's sink, the
 * response's close, one timer): no async function waits for the stream, so a stream held open for
 * minutes keeps this object, not three suspended frames and the promises between them. When the
 * stream ends, errs or the client leaves, it reports once to its listener (the request's end).
 */
import type { ServerResponse } from "node:http";
import type { Logger } from "../log";
import type { GatewayMetrics } from "../metrics/registry";
import type { TargetState } from "../routing/target-state";
import type { ActiveSpan } from "../tracing/span";
import type { Translator } from "../translate/translator";
import type { Usage } from "../traffic/types";
import type { StreamSink, UpstreamAttempt } from "./attempt";
import { awaitDrain, flattenHead } from "./client-writer";
import type { ForwardOutcome } from "./forward-outcome";
import { StreamRedactor, type TargetSecret } from "./redact";

const STREAM_HEADERS = ["content-type", "text/event-stream; charset=utf-8", "cache-control", "no-cache", "x-accel-buffering", "no"];

const EMPTY = Buffer.alloc(0);

/**
 * Past this much relayed while the stream starts, the start is written at once (the client's
 * backpressure then applies): well under the response's 16 KiB high-water mark with the head.
 */
const START_BATCH_BYTES = 8 * 1024;

/** Told once when a committed stream is over (ended, cut by the upstream or a timer, or left by the client). */
export interface StreamEndListener {
  streamEnded(outcome: ForwardOutcome): void;
}

export interface StreamDeliveryOptions {
  /** Turns each upstream chunk into the client's bytes and reads the usage (the pass-through only filters). */
  translator: Translator;
  maxStreamMs: number;
  /** How long the client may leave the stream unread before it is cut (the upstream waits paused meanwhile). */
  stallMs: number;
  /** The target's key and credentials, never passed on even when the upstream echoes them. */
  secrets: readonly TargetSecret[];
  /** The target serving the stream: its in-flight count is held until the stream ends. */
  state: TargetState;
  /** The outcome so far (status 200, target, models, attempts, ttft); the end fills in the rest. */
  outcome: ForwardOutcome;
  /** The stream's span, when the trace is recorded. */
  span: ActiveSpan | null;
  requestId: string;
  metrics: GatewayMetrics;
  logger: Logger;
  listener: StreamEndListener;
}

export class StreamDelivery implements StreamSink {
  private usage: Usage | null = null;
  private done = false;
  /** The gateway failed to relay a chunk (see relayFailed): the client was cut, it did not leave. */
  private relayBroke = false;
  private readonly redactor: StreamRedactor;
  /**
   * What was relayed from the first chunk until attach() is done (the rest of the upstream's
   * first read, often a short answer's every event), written with one `res.write` or `res.end`:
   * node:http frames and queues every write (four buffers, a chunk-size string), so a burst of
   * events as one write allocates a third of what one write each does. Null once written.
   */
  private startBatch: Buffer[] | null = [];
  private startBatchBytes = 0;
  /** Set only for a stream still open after its start (one that ended there needs neither). */
  private maxTimer: NodeJS.Timeout | undefined;
  /** The response's close: a client that leaves aborts the upstream (one closure a stream). */
  private onClientClose: (() => void) | null = null;

  /** Writes the head and the first chunk, then hands the rest of the upstream's answer to this object. */
  static start(res: ServerResponse, attempt: UpstreamAttempt, first: Buffer, headers: string[], options: StreamDeliveryOptions): void {
    new StreamDelivery(res, attempt, first, headers, options);
  }

  private constructor(
    private readonly res: ServerResponse,
    private readonly attempt: UpstreamAttempt,
    first: Buffer,
    headers: string[],
    private readonly options: StreamDeliveryOptions,
  ) {
    // What may throw comes first: until attach() below nothing refers to this object, and the
    // forwarder gives the target's count back and aborts the upstream itself. From attach() on
    // (which relays what came before it) this object ends the stream, also when that throws.
    this.redactor = new StreamRedactor(options.secrets);
    for (const value of STREAM_HEADERS) headers.push(value);
    res.writeHead(200, headers);
    flattenHead(res);
    this.batch(this.relay(first));
    try {
      attempt.attach(this);
    } catch (err) {
      this.relayFailed(err as Error);
    }
    // Nothing runs between here and attach(): a client that left, or a timer, is seen from now.
    if (this.done) return;
    this.flush();
    // The timer's argument is this object: no closure for it.
    this.maxTimer = setTimeout(maxDurationPassed, options.maxStreamMs, this);
    this.maxTimer.unref();
    this.onClientClose = () => {
      if (!res.writableFinished) attempt.abort(Object.assign(new Error("client closed the connection"), { code: "GW_CLIENT_CLOSED" }));
    };
    res.on("close", this.onClientClose);
  }

  write(chunk: Buffer): boolean {
    const out = this.relay(chunk);
    if (this.startBatch !== null) return this.batch(out);
    const res = this.res;
    return out.length === 0 || res.destroyed || res.write(out);
  }

  /** Writes the stream's start (see startBatch); later calls do nothing. */
  flush(): boolean {
    const out = this.takeStartBatch(EMPTY);
    const res = this.res;
    return out.length === 0 || res.destroyed || res.write(out);
  }

  /** Adds relayed bytes to the start batch; past START_BATCH_BYTES, writes it. */
  private batch(out: Buffer): boolean {
    if (out.length === 0) return true;
    this.startBatch!.push(out);
    this.startBatchBytes += out.length;
    return this.startBatchBytes < START_BATCH_BYTES || this.flush();
  }

  /** The start batch followed by `tail`, as one buffer (uncopied when it is one piece); the batch is over. */
  private takeStartBatch(tail: Buffer): Buffer {
    const batch = this.startBatch;
    if (batch === null) return tail;
    this.startBatch = null;
    if (batch.length === 0) return tail;
    if (tail.length > 0) batch.push(tail);
    return batch.length === 1 ? batch[0] : Buffer.concat(batch, this.startBatchBytes + tail.length);
  }

  onDrain(resume: () => void): void {
    // undici's body timeout does not run while the upstream is paused: without this, a client
    // that stops reading would hold the upstream connection until maxStreamMs.
    const attempt = this.attempt;
    awaitDrain(this.res, this.options.stallMs, resume, () => attempt.abort(Object.assign(new Error("client stopped reading the stream"), { code: "GW_CLIENT_STALLED" })));
  }

  end(): void {
    try {
      const piece = this.options.translator.responseBody(EMPTY, true);
      this.usage = piece.usage;
      const rest = this.redactor.push(piece.body);
      const held = this.redactor.flush();
      const out = this.takeStartBatch(held.length === 0 ? rest : Buffer.concat([rest, held]));
      if (!this.res.destroyed) this.res.end(out.length > 0 ? out : undefined);
    } catch (err) {
      this.cutAfterRelayError(err as Error);
      return;
    }
    this.finish(false);
  }

  fail(error: Error): void {
    if (!this.res.destroyed) {
      try {
        const reason = (error as { code?: string }).code === "GW_MAX_STREAM" ? "The stream exceeded the gateway's maximum duration." : "The upstream stream was interrupted.";
        const rest = this.redactor.push(this.options.translator.streamError(reason));
        const held = this.redactor.flush();
        this.res.end(this.takeStartBatch(held.length === 0 ? rest : Buffer.concat([rest, held])));
      } catch (err) {
        this.cutAfterRelayError(err as Error);
        return;
      }
    }
    this.finish(true);
  }

  /**
   * The stream's last words (its end, or its error event) could not be made: the client is cut
   * and the request still ends, once. Thrown on into undici instead, the request would never end:
   * its budget reservation and concurrency slot held until their leases run out, if they do.
   */
  private cutAfterRelayError(error: Error): void {
    const options = this.options;
    options.logger.error({ reqId: options.requestId, target: options.state.name, err: error }, "stream relay failed");
    this.cutClient();
  }

  private cutClient(): void {
    this.relayBroke = true;
    this.res.destroy();
    this.finish(true);
  }

  /**
   * attach() threw while relaying what came before it (a chunk kept from the first read): this
   * object owns the stream's end from attach on, so the stream ends here, once, as cut off. It
   * must not throw on into the forwarder, which would give the target's in-flight count back a
   * second time and answer an error on a response already begun.
   */
  private relayFailed(error: Error): void {
    const options = this.options;
    options.logger.error({ reqId: options.requestId, target: options.state.name, err: error }, "stream relay failed");
    try {
      // Aborting the upstream ends the stream through fail() (its error event, then the end); a
      // stream whose upstream had already ended is ended here.
      this.attempt.abort(error);
      if (!this.done) this.fail(error);
    } catch {
      // Not even the error event could be written (logged above): cut the client.
      this.cutClient();
    }
  }

  /** @internal the maximum-duration timer's callback */
  exceededMaxDuration(): void {
    this.attempt.abort(Object.assign(new Error("stream exceeded its maximum duration"), { code: "GW_MAX_STREAM" }));
  }

  private relay(chunk: Buffer): Buffer {
    const piece = this.options.translator.responseBody(chunk, false);
    this.usage = piece.usage;
    return this.redactor.push(piece.body);
  }

  /** Once: the stream is over; counts it, ends its span and tells the listener how it went. */
  private finish(upstreamBroke: boolean): void {
    if (this.done) return;
    this.done = true;
    this.startBatch = null;
    const { res, options } = this;
    if (this.onClientClose !== null) {
      clearTimeout(this.maxTimer);
      res.off("close", this.onClientClose);
    }
    options.state.inflight--;
    const clientClosed = !this.relayBroke && res.destroyed && !res.writableFinished;
    const interrupted = upstreamBroke && !clientClosed;
    const outcome = options.outcome;
    if (interrupted) {
      options.metrics.streamsInterrupted.labels(outcome.servedModel, options.state.name).inc();
      options.logger.warn({ reqId: options.requestId, model: outcome.servedModel, target: options.state.name }, "upstream stream interrupted after the first byte");
    }
    if (clientClosed) outcome.status = 499;
    outcome.usage = this.usage;
    outcome.deliveredTokens = options.translator.deliveredTokens();
    outcome.interrupted = interrupted;
    outcome.clientClosed = clientClosed;
    const span = options.span;
    if (span !== null) {
      span.set("aigw.client_closed", clientClosed).set("gen_ai.usage.output_tokens", this.usage?.completionTokens);
      if (interrupted) span.fail("upstream stream interrupted");
      span.end();
    }
    options.listener.streamEnded(outcome);
  }
}

function maxDurationPassed(delivery: StreamDelivery): void {
  delivery.exceededMaxDuration();
}
