/**
 * Spans as the gateway records them, and their OTLP/JSON encoding (the protobuf JSON mapping of
 * opentelemetry-proto's trace.proto: ids as hex, times as decimal strings of nanoseconds).
 */
import { newSpanId } from "./trace-context";

export const SpanKind = { internal: 1, server: 2, client: 3 } as const;
export type SpanKindValue = (typeof SpanKind)[keyof typeof SpanKind];

export type AttributeValue = string | number | boolean;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKindValue;
  /** Microseconds since the epoch (exact in a bigint; nanoseconds are µs × 1000). */
  startUs: bigint;
  endUs: bigint;
  attributes: Record<string, AttributeValue>;
  /** Set when the span failed. */
  error: string | null;
}

/** Microseconds since the epoch, from the monotonic clock anchored at the process's time origin. */
export function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** A span being recorded; ended once (later ends are ignored), then handed to `onEnd`. */
export class ActiveSpan {
  readonly spanId: string;
  private readonly record: SpanRecord;
  private ended = false;

  constructor(traceId: string, parentSpanId: string | null, name: string, kind: SpanKindValue, private readonly onEnd: (span: SpanRecord) => void, spanId: string = newSpanId()) {
    this.spanId = spanId;
    this.record = { traceId, spanId, parentSpanId, name, kind, startUs: nowUs(), endUs: 0n, attributes: {}, error: null };
  }

  set(key: string, value: AttributeValue | null | undefined): this {
    if (value !== null && value !== undefined) this.record.attributes[key] = value;
    return this;
  }

  fail(message: string): this {
    this.record.error = message.slice(0, 256);
    return this;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.record.endUs = nowUs();
    this.onEnd(this.record);
  }
}

function attribute(key: string, value: AttributeValue): { key: string; value: Record<string, unknown> } {
  if (typeof value === "string") return { key, value: { stringValue: value } };
  if (typeof value === "boolean") return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}

/** One OTLP/HTTP JSON export request body for these spans. */
export function otlpTraceRequest(serviceName: string, spans: readonly SpanRecord[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [attribute("service.name", serviceName)] },
        scopeSpans: [
          {
            scope: { name: "ai-gateway" },
            spans: spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: (span.startUs * 1000n).toString(),
              endTimeUnixNano: (span.endUs * 1000n).toString(),
              attributes: Object.entries(span.attributes).map(([key, value]) => attribute(key, value)),
              // STATUS_CODE_ERROR = 2; unset (0) otherwise, as OpenTelemetry leaves successful spans.
              status: span.error === null ? {} : { code: 2, message: span.error },
            })),
          },
        ],
      },
    ],
  });
}
