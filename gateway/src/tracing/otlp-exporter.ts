/**
 * A small OTLP/HTTP JSON span exporter: spans wait in a bounded queue and leave in batches (on a
 * timer, or as soon as a batch is full), one export at a time, each with a timeout. A request
 * never waits for it: when the collector is slow or down, batches fail and, once the queue is
 * full, new spans are dropped; both are counted and logged at most once a minute.
 */
import { request } from "undici";
import type { TracingConfig } from "../config/upstream-schema";
import type { Logger } from "../log";
import { otlpTraceRequest, type SpanRecord } from "./span";

export interface ExportCounts {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans refused at the door: the queue was full. */
  dropped: number;
  /** Spans lost with a batch the collector did not take (error, timeout, non-2xx). */
  failed: number;
}

const WARN_EVERY_MS = 60_000;

export class OtlpHttpExporter {
  private queue: SpanRecord[] = [];
  private exporting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When each kind of warning was last logged (by message). */
  private readonly lastWarnAt = new Map<string, number>();
  readonly counts: ExportCounts = { exported: 0, dropped: 0, failed: 0 };

  constructor(
    private readonly config: TracingConfig & { endpoint: string },
    private readonly logger: Logger,
    /** Called with each outcome's span count (metrics). */
    private readonly onCount: (result: keyof ExportCounts, spans: number) => void = () => {},
  ) {
    this.timer = setInterval(() => this.flush(), config.flushIntervalMs);
    this.timer.unref();
  }

  /** Queues a finished span; O(1), never blocks, never throws. */
  enqueue(span: SpanRecord): void {
    if (this.queue.length >= this.config.maxQueueSpans) {
      this.count("dropped", 1);
      this.warn({ queued: this.queue.length }, "tracing: span queue full, dropping spans");
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.config.maxBatchSpans && this.exporting === null) setImmediate(() => this.flush());
  }

  /** Starts exporting one batch unless one is under way; resolves when that export ends. */
  flush(): Promise<void> {
    if (this.exporting !== null || this.queue.length === 0) return this.exporting ?? Promise.resolve();
    const batch = this.queue.length <= this.config.maxBatchSpans ? this.queue : this.queue.slice(0, this.config.maxBatchSpans);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    this.exporting = this.send(batch).finally(() => {
      this.exporting = null;
      if (this.queue.length >= this.config.maxBatchSpans) void this.flush();
    });
    return this.exporting;
  }

  private async send(batch: SpanRecord[]): Promise<void> {
    try {
      const res = await request(this.config.endpoint, {
        method: "POST",
        headers: { ...this.config.headers, "content-type": "application/json" },
        body: otlpTraceRequest(this.config.serviceName, batch),
        headersTimeout: this.config.exportTimeoutMs,
        bodyTimeout: this.config.exportTimeoutMs,
        signal: AbortSignal.timeout(this.config.exportTimeoutMs),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) this.count("exported", batch.length);
      else {
        this.count("failed", batch.length);
        this.warn({ status: res.statusCode, spans: batch.length }, "tracing: the collector refused a batch");
      }
    } catch (err) {
      this.count("failed", batch.length);
      const code = (err as { code?: string; name?: string }).code ?? (err as Error).name;
      this.warn({ error: code, spans: batch.length }, "tracing: exporting a batch failed");
    }
  }

  private count(result: keyof ExportCounts, spans: number): void {
    this.counts[result] += spans;
    this.onCount(result, spans);
  }

  private warn(fields: Record<string, unknown>, msg: string): void {
    const now = performance.now();
    if (now - (this.lastWarnAt.get(msg) ?? -Infinity) < WARN_EVERY_MS) return;
    this.lastWarnAt.set(msg, now);
    this.logger.warn({ ...fields, endpoint: this.config.endpoint, ...this.counts }, msg);
  }

  /** Stops the timer and exports what is queued, giving up after `timeoutMs`. */
  async shutdown(timeoutMs = this.config.exportTimeoutMs): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = performance.now() + timeoutMs;
    while ((this.queue.length > 0 || this.exporting !== null) && performance.now() < deadline) {
      const remaining = deadline - performance.now();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.flush(), new Promise<void>((resolve) => (timeout = setTimeout(resolve, remaining)))]);
      clearTimeout(timeout);
    }
  }
}
