/**
 * One upstream attempt, as an undici dispatch handler. It settles once, at the point where the
 * gateway can still choose another target: with the whole body for a non-streaming answer
 * (or any error status), or with the first chunk of a successful stream. A settled stream is then
 * attached to a sink that receives the rest with backpressure; what arrived in between (the rest
 * of the read that carried the first chunk) is kept for it rather than paused and read again. A buffered answer
 * holds its bytes in the process's buffer budget (its declared length up front, else as it
 * arrives); when they do not fit the attempt ends with `overloaded` set.
 */
import type { Dispatcher } from "undici";
import type { BufferHold } from "../http/buffer-budget";
import type { TranslatedPiece } from "../translate/translator";
import { dueQueueFor, type DueEntry, type DueQueue } from "./due-queue";
import { classifyError, type AttemptFailure } from "./failure";
import { isStaleConnectionError } from "./stale-connection";

/** Where a committed stream's chunks go (the client response). */
export interface StreamSink {
  /** Returns false when the client is slow: the attempt pauses until `onDrain`. */
  write(chunk: Buffer): boolean;
  /**
   * Called once by attach() after the chunks that came before it, unless the stream also ended
   * then: writes what `write()` held back to send as one (see StreamDelivery); false when slow.
   */
  flush(): boolean;
  onDrain(resume: () => void): void;
  end(): void;
  fail(error: Error): void;
}

export type AttemptResult =
  | { kind: "buffered"; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json?: Record<string, unknown> | null; translated?: TranslatedPiece }
  | { kind: "stream"; status: number; headers: Record<string, string | string[] | undefined>; first: Buffer }
  | { kind: "failed"; failure: AttemptFailure };

export class UpstreamAttempt implements Dispatcher.DispatchHandler, DueEntry {
  private controller: Dispatcher.DispatchController | null = null;
  private settle!: (result: AttemptResult) => void;
  private settled = false;
  private streaming = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  /** The whole answer when its length was declared: chunks are copied in, no concat copy at the end. */
  private body: Buffer | null = null;
  private bytes = 0;
  private sink: StreamSink | null = null;
  /** What happened to a settled stream before it was attached. */
  private pendingEnd: { error: Error | null } | null = null;
  /**
   * Chunks of a settled stream that came before it was attached: undici parses a read whole, so
   * the rest of the read that carried the first chunk (a short answer's every event) lands here.
   * Pausing at the first chunk instead made undici put the rest back into the socket and read it
   * again (a copy, a second parse, a second read) on every stream.
   */
  private early: Buffer[] | null = null;
  private earlyBytes = 0;
  /** Why the attempt was aborted before undici started it. */
  private abortedEarly: Error | null = null;
  /** The request's deadline timer, when it is armed rather than the wait for headers (see armTimeouts). */
  private timer: NodeJS.Timeout | null = null;
  /** The wait for response headers: this attempt's place in its duration's DueQueue (./due-queue.ts). */
  dueAt = 0;
  duePrev: DueEntry | null = null;
  dueNext: DueEntry | null = null;
  dueQueue: DueQueue | null = null;
  /** performance.now() past which the request's deadline aborts this attempt. */
  private deadlineAt = Infinity;
  /** Time the response headers arrived (performance.now()), for the upstream latency metric. */
  headersAt = 0;
  /** True when the answer did not fit in the buffer budget (the client gets 503, no failover). */
  overloaded = false;
  /** Settles once, as described above; a committed stream drops it (committed()). */
  result: Promise<AttemptResult>;

  constructor(
    private readonly wantStream: boolean,
    private readonly maxBufferedBytes: number,
    /** The buffered answer's share of the budget; the forwarder releases it once the answer is written. */
    public hold: BufferHold | null = null,
  ) {
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  /** Aborts the upstream request (client gone, deadline passed). */
  abort(reason: Error): void {
    this.early = null;
    if (this.controller) return this.controller.abort(reason);
    // Not started yet (still connecting): settle now, and abort as soon as it starts.
    this.abortedEarly = reason;
    this.onResponseError(null, reason);
  }

  /**
   * Aborts the attempt when no response headers arrived within `headersMs` (GW_ATTEMPT_TIMEOUT),
   * and when it has not settled by `deadlineAt` (performance.now(); GW_DEADLINE: a buffered
   * answer's body counts, a stream's first chunk settles it). One wait does both: the sooner of
   * the two, and when the headers wait ends with headers in, a timer for what remains of the
   * deadline (rarely: most answers settle first). The headers wait has one duration per target,
   * so it is a place in that duration's DueQueue (no Node Timeout per attempt); a deadline
   * sooner than it is a timer of its own. Not undici's headersTimeout: that runs on a 499 ms
   * tick that counts a timer's first partial tick as whole, so it fires up to half a second early
   * (an 800 ms deadline answered at 583 ms) or late (a 400 ms timeout at up to 998 ms, leaving no
   * time for a second attempt).
   */
  armTimeouts(headersMs: number, deadlineAt: number): void {
    if (this.settled) return;
    this.deadlineAt = deadlineAt;
    const remaining = deadlineAt - performance.now();
    if (headersMs < remaining && this.headersAt === 0) dueQueueFor(headersMs).add(this);
    else this.armDeadline();
  }

  /** @internal the headers wait ended (DueQueue) */
  onDue(): void {
    if (this.settled) return;
    if (this.headersAt === 0) this.abort(Object.assign(new Error("no response headers within the attempt timeout"), { code: "GW_ATTEMPT_TIMEOUT" }));
    else this.armDeadline();
  }

  /** @internal */
  armDeadline(): void {
    // The attempt rides as the timer's argument: no closure per attempt.
    this.timer = setTimeout(deadlinePassed, Math.max(1, Math.ceil(this.deadlineAt - performance.now())), this);
  }

  /** @internal */
  timerFired(): boolean {
    this.timer = null;
    return !this.settled;
  }

  /**
   * The stream's first byte went to the client: its settled result (headers, first chunk) is read
   * no more, and its share of the buffer budget (a stream buffers nothing) goes back. The attempt
   * lives as long as the stream, minutes maybe, so it keeps only what relaying needs.
   */
  committed(): void {
    this.result = COMMITTED;
    this.hold?.release();
    this.hold = null;
  }

  /** Hands the rest of a settled stream to `sink`: first what came before this call, then the rest. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    const early = this.early;
    this.early = null;
    // Written whole even when the client is slow: bounded by MAX_EARLY_BYTES and one read.
    let drained = true;
    if (early !== null) for (const chunk of early) drained = sink.write(chunk) && drained;
    if (this.pendingEnd) {
      if (this.pendingEnd.error) sink.fail(this.pendingEnd.error);
      else sink.end();
      return;
    }
    drained = sink.flush() && drained;
    const controller = this.controller;
    if (controller === null) return;
    if (drained) controller.resume();
    else {
      controller.pause();
      sink.onDrain(() => controller.resume());
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortedEarly) controller.abort(this.abortedEarly);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.headersAt = performance.now();
    this.status = statusCode;
    this.headers = headers;
    // undici's controller keeps the raw header Buffers (a dozen or more) for the whole answer;
    // `headers` has what the gateway reads, so a long stream need not hold both.
    (controller as { rawHeaders?: unknown }).rawHeaders = null;
    const type = headers["content-type"];
    // A compressed stream cannot be read (or redacted) event by event: it is buffered and refused.
    const encoding = headers["content-encoding"];
    const plain = encoding === undefined || encoding === "identity";
    this.streaming = this.wantStream && plain && statusCode >= 200 && statusCode < 300 && typeof type === "string" && type.startsWith("text/event-stream");
    if (this.streaming) return;
    const declared = Number(headers["content-length"]);
    if (!(declared > 0)) return;
    if (declared > this.maxBufferedBytes) controller.abort(tooLarge());
    else if (this.hold && !this.hold.growTo(declared)) controller.abort(overloaded());
    else if (declared > PREALLOCATE_FROM) this.body = Buffer.allocUnsafe(declared);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.streaming) {
      if (!this.settled) {
        // First bytes of a good stream: the gateway commits to it (or not) once this read is parsed.
        this.finish({ kind: "stream", status: this.status, headers: this.headers, first: chunk });
        return;
      }
      const sink = this.sink;
      if (sink === null) {
        // Not attached yet: kept for attach(); a gateway slow to commit pauses the upstream.
        (this.early ??= []).push(chunk);
        this.earlyBytes += chunk.length;
        if (this.earlyBytes > MAX_EARLY_BYTES) controller.pause();
        return;
      }
      if (!sink.write(chunk)) {
        controller.pause();
        sink.onDrain(() => controller.resume());
      }
      return;
    }
    this.bytes += chunk.length;
    if (this.bytes > this.maxBufferedBytes) {
      controller.abort(tooLarge());
      return;
    }
    if (this.hold && !this.hold.growTo(this.bytes)) {
      controller.abort(overloaded());
      return;
    }
    if (this.body === null) this.chunks.push(chunk);
    else if (this.bytes <= this.body.length) chunk.copy(this.body, this.bytes - chunk.length);
    else controller.abort(Object.assign(new Error("upstream sent more than its content-length"), { code: "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" }));
  }

  onResponseEnd(): void {
    if (this.streaming) {
      if (this.settled) {
        if (this.sink) this.sink.end();
        else this.pendingEnd = { error: null };
      }
      // A stream that ended before any byte: nothing reached the client, so another target may try.
      else this.finish({ kind: "failed", failure: { reason: "invalid_response", detail: "empty stream" } });
      return;
    }
    // undici ends a response only once it got its declared length, so a preallocated body is full.
    const body = this.body !== null ? this.body.subarray(0, this.bytes) : this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.body = null;
    this.finish({ kind: "buffered", status: this.status, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.settled) {
      if (this.sink) this.sink.fail(error);
      else this.pendingEnd = { error };
      return;
    }
    const code = (error as { code?: string }).code;
    this.chunks = [];
    this.body = null;
    if (code === "GW_OVERLOADED") this.overloaded = true;
    const failure = code === "GW_RESPONSE_TOO_LARGE" ? { reason: "invalid_response" as const, detail: "response too large" } : classifyError(error);
    if (code === "GW_DEADLINE") failure.reason = "deadline";
    else if (this.headersAt === 0 && isStaleConnectionError(error)) failure.staleConnection = true;
    this.finish({ kind: "failed", failure });
  }

  private clearTimer(): void {
    this.dueQueue?.remove(this);
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private finish(result: AttemptResult): void {
    this.clearTimer();
    if (this.settled) return;
    this.settled = true;
    this.settle(result);
    // A settled attempt reads neither again; a stream keeps this object for minutes.
    this.settle = settledAlready;
    this.headers = NO_HEADERS;
  }
}

const settledAlready = (): void => {};
/** What a committed attempt's `result` reads (never awaited again). */
const COMMITTED: Promise<AttemptResult> = Promise.resolve({ kind: "failed", failure: { reason: "invalid_response", detail: "the stream was committed" } });
const NO_HEADERS: Record<string, string | string[] | undefined> = Object.freeze({});

function deadlinePassed(attempt: UpstreamAttempt): void {
  if (attempt.timerFired()) attempt.abort(Object.assign(new Error("the request deadline passed"), { code: "GW_DEADLINE" }));
}

/** Past this much of a settled stream kept before attach(), the upstream is paused until then. */
const MAX_EARLY_BYTES = 64 * 1024;

/** Small answers (most of them) keep the chunk list: one chunk needs no copy at all. */
const PREALLOCATE_FROM = 64 * 1024;

function tooLarge(): Error {
  return Object.assign(new Error("upstream response too large"), { code: "GW_RESPONSE_TOO_LARGE" });
}

function overloaded(): Error {
  return Object.assign(new Error("the buffer budget is full"), { code: "GW_OVERLOADED" });
}
