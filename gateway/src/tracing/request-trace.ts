/**
 * One request's trace: its W3C context, and, when the trace is recorded, the gateway's server
 * span with the children the pipeline hangs under it (admission, each upstream attempt, the stream).
 */
import { ActiveSpan, SpanKind, type SpanKindValue } from "./span";
import { formatTraceparent, newSpanId, traceContextFrom, type TraceContext } from "./trace-context";
import type { Tracer } from "./tracer";

export class RequestTrace {
  /** The gateway's span for the whole request; null when not recorded. */
  readonly server: ActiveSpan | null;

  private constructor(readonly context: TraceContext, private readonly tracer: Tracer | null, serverName: string) {
    this.server = tracer !== null && context.sampled ? tracer.start(context, context.parentSpanId, serverName, SpanKind.server) : null;
  }

  static from(headers: Readonly<Record<string, string | string[] | undefined>>, tracer: Tracer | null, serverName: string): RequestTrace {
    const context = traceContextFrom(headers.traceparent, headers.tracestate, tracer === null ? notSampled : tracer.sampleNew);
    return new RequestTrace(context, tracer, serverName);
  }

  /** A child of the server span, or null when the trace is not recorded. */
  child(name: string, kind: SpanKindValue = SpanKind.internal): ActiveSpan | null {
    if (this.server === null) return null;
    return this.tracer!.start(this.context, this.server.spanId, name, kind);
  }

  /** The traceparent for an upstream call made under `span` (a fresh span id when not recorded). */
  traceparentFor(span: ActiveSpan | null): string {
    return formatTraceparent(this.context.traceId, span?.spanId ?? newSpanId(), this.context.sampled);
  }
}

/** Without a tracer the gateway records nothing, so the traces it starts say so downstream. */
const notSampled = (): boolean => false;
