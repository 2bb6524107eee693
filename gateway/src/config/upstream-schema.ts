/**
 * Config pieces for talking to upstreams (issue 12, items 7 and 8): a target's own health
 * check, which client headers it may receive, and the optional OTLP tracing section. Kept apart from schema.ts so that file only wires them in.
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

/** An expected probe status: a code (`200`) or a class (`"2xx"`). */
const expectedStatus = z.union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/, 'a status code or a class such as "2xx"')]);

/** Names a header may not be given in health-check or forwarding config (the gateway owns them, or they are hop-by-hop). */
export const GATEWAY_OWNED_HEADERS: ReadonlySet<string> = new Set([
  "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
  "proxy-authorization", "proxy-connection", "authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie",
  "content-type", "x-request-id", "traceparent", "tracestate",
]);

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "not a valid header name").transform((name) => name.toLowerCase());

/**
 * A target's own active check. Every field falls back to the provider's default probe (path,
 * method, headers), then to the global `healthCheck` section (enabled, timing, thresholds).
 */
export const targetHealthCheckSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** Relative to the target's baseUrl, e.g. `/models`. */
    path: z.string().startsWith("/").optional(),
    method: z.enum(["GET", "HEAD", "POST"]).optional(),
    /** Extra probe headers (merged over the target's `headers` and the provider's auth headers). */
    headers: z.record(z.string()).optional(),
    /** JSON body for a POST probe. */
    body: z.string().max(64 * 1024).optional(),
    /** Statuses that pass; default any 2xx. */
    expectedStatuses: z.array(expectedStatus).min(1).optional(),
    intervalMs: positiveInt.optional(),
    timeoutMs: positiveInt.optional(),
    rise: positiveInt.optional(),
    fall: positiveInt.optional(),
  })
  .strict();

export type TargetHealthCheck = z.output<typeof targetHealthCheckSchema>;

/**
 * Client request headers a target receives (case-insensitive names). Default: the provider's
 * safe list (OpenAI: `openai-beta`, `idempotency-key`). `openai-organization` and
 * `openai-project` choose what the target's key bills, so they are sent only when listed here.
 */
export const forwardHeadersSchema = z.array(headerName).superRefine((names, ctx) => {
  names.forEach((name, i) => {
    if (GATEWAY_OWNED_HEADERS.has(name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: `"${name}" is set by the gateway and cannot be forwarded` });
  });
});

/** Optional OpenTelemetry tracing: spans exported as OTLP/HTTP JSON. Off by default. */
export const tracingSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The collector's traces URL, e.g. `http://otel-collector:4318/v1/traces`. */
    endpoint: z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http(s):// URL").optional(),
    /** Extra export headers (a collector's auth token). */
    headers: z.record(z.string()).default({}),
    serviceName: z.string().min(1).default("ai-gateway"),
    /** Share of new traces recorded; a caller's `traceparent` sampled flag decides for its own. */
    sampleRatio: z.number().min(0).max(1).default(1),
    /** Spans held waiting for export; past it new spans are dropped (counted), never blocking a request. */
    maxQueueSpans: positiveInt.default(4096),
    maxBatchSpans: positiveInt.default(512),
    flushIntervalMs: positiveInt.default(1_000),
    exportTimeoutMs: positiveInt.default(5_000),
  })
  .strict()
  .refine((t) => !t.enabled || t.endpoint !== undefined, { message: "tracing.enabled needs tracing.endpoint", path: ["endpoint"] });

export type TracingConfig = z.output<typeof tracingSchema>;
