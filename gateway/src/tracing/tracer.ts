/**
 * The gateway's tracer: decides which new traces are recorded and starts spans whose ends go to
 * the exporter. Built only when `tracing.enabled`; without it nothing here runs per request.
 */
import type { TracingConfig } from "../config/upstream-schema";
import type { Logger } from "../log";
import { OtlpHttpExporter, type ExportCounts } from "./otlp-exporter";
import { ActiveSpan, type SpanKindValue } from "./span";
import type { TraceContext } from "./trace-context";

export class Tracer {
  readonly exporter: OtlpHttpExporter;

  constructor(private readonly config: TracingConfig & { endpoint: string }, logger: Logger, onCount?: (result: keyof ExportCounts, spans: number) => void) {
    this.exporter = new OtlpHttpExporter(config, logger, onCount);
  }

  /** Whether a trace the gateway starts is recorded (`sampleRatio`). */
  readonly sampleNew = (): boolean => this.config.sampleRatio >= 1 || Math.random() < this.config.sampleRatio;

  start(trace: TraceContext, parentSpanId: string | null, name: string, kind: SpanKindValue): ActiveSpan {
    return new ActiveSpan(trace.traceId, parentSpanId, name, kind, (span) => this.exporter.enqueue(span));
  }

  shutdown(timeoutMs?: number): Promise<void> {
    return this.exporter.shutdown(timeoutMs);
  }
}

/** Builds the tracer the config asks for, or null (tracing off: the default). */
export function createTracer(config: TracingConfig, logger: Logger, onCount?: (result: keyof ExportCounts, spans: number) => void): Tracer | null {
  if (!config.enabled || config.endpoint === undefined) return null;
  return new Tracer({ ...config, endpoint: config.endpoint }, logger, onCount);
}
