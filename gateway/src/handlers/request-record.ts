/**
 * The end of a proxied request: what it cost (the price table's rates on the usage charged, the
 * same figure the budget settled), and where that goes: the request, latency, token and spend
 * metrics (by bounded key and team labels), the daily spend rollups, and one access-log line.
 */
import { dayOf, requestCounters } from "../budget/rollup";
import { STATUS_CLASSES, TOKEN_KINDS } from "../metrics/names";
import type { ProxyRoute } from "../routes";
import type { Charged, ClientIdentity, Usage } from "../traffic/types";
import type { RequestTrace } from "../tracing/request-trace";
import type { GatewayRuntime } from "./runtime";
import { requestLineFields } from "./access-line";

/** What the access log and metrics need to know about one request. */
export interface RequestRecord {
  /** The model the client asked for. */
  model: string;
  target: string | null;
  status: number;
  attempts: number;
  usage: Usage | null;
  /** The usage was the gateway's own count (the upstream's was missing or invalid). */
  usageEstimated: boolean;
  ttftMs: number | null;
  cache: "HIT" | "MISS" | null;
  identity: ClientIdentity | null;
  /** The model pool that answered (a fallback's after failover), and the name its target billed. */
  servedModel: string;
  upstreamModel: string;
  stream: boolean;
  clientIp: string;
  /** A stream the upstream cut after its first byte. */
  interrupted: boolean;
  /** OpenAI `error.code` of the answer, when it was an error the gateway wrote. */
  errorCode?: string;
  /** Why traffic control refused it (`aigw_rejections_total{reason}`'s values). */
  refusal?: string;
  /** The cost in nano-USD; null when nothing was charged (refused, failed, a cache hit). */
  costNano: number | null;
  /** The provider's id for the answer (x-upstream-request-id). */
  upstreamRequestId: string | null;
}

export function newRecord(clientIp: string): RequestRecord {
  return { model: "", target: null, status: 0, attempts: 0, usage: null, usageEstimated: false, ttftMs: null, cache: null, identity: null, servedModel: "", upstreamModel: "", stream: false, clientIp, interrupted: false, costNano: null, upstreamRequestId: null };
}

/** `aigw_request_duration_seconds{status}`: refusals apart, so a flood of fast 429s cannot pull served latency down. */
export function statusClassOf(status: number, refused: boolean, interrupted: boolean): string {
  if (refused && status < 500) return STATUS_CLASSES.refused;
  if (interrupted || status >= 500) return STATUS_CLASSES.serverError;
  if (status >= 400) return STATUS_CLASSES.clientError;
  return STATUS_CLASSES.ok;
}

/**
 * Takes what settlement charged into the record and prices it: the admitter's figure when it
 * priced the usage (the amount added to budgets), else the price table's (keys without limits,
 * no keys at all).
 */
export function applyCharge(rt: GatewayRuntime, record: RequestRecord, charged: Charged | void | undefined): void {
  if (charged && charged.estimated && charged.usage) {
    record.usage = charged.usage;
    record.usageEstimated = true;
  } else if (charged && charged.usage) record.usage = charged.usage;
  if (record.cache === "HIT" || record.usage === null || !rt.spend) return;
  const served = record.servedModel || record.model;
  const billed = record.upstreamModel || served;
  // An unpriced model has no cost to report (not $0): the log leaves costUsd out.
  if (!rt.spend.prices.isPriced(billed, served)) return;
  record.costNano = charged && charged.costNano !== undefined && charged.usage ? charged.costNano : rt.spend.prices.usageCostNano(record.usage, billed, served);
}

export function finishRecord(rt: GatewayRuntime, route: ProxyRoute, requestId: string, startedAt: number, record: RequestRecord, trace: RequestTrace | null = null): void {
  const latencyMs = performance.now() - startedAt;
  const model = rt.router.resolve(record.model) ? record.model : "";
  const span = trace?.server ?? null;
  if (span !== null) {
    span.set("http.request.method", "POST").set("url.path", route.name).set("http.response.status_code", record.status).set("gen_ai.request.model", model || undefined);
    span.set("aigw.target", record.target).set("aigw.attempts", record.attempts).set("aigw.key", record.identity?.keyName).set("aigw.upstream_request_id", record.upstreamRequestId);
    span.set("gen_ai.usage.input_tokens", record.usage?.promptTokens).set("gen_ai.usage.output_tokens", record.usage?.completionTokens);
    if (record.status >= 500) span.fail(`status ${record.status}`);
    span.end();
  }
  const served = record.servedModel && rt.router.resolve(record.servedModel) ? record.servedModel : model;
  const [key, team] = rt.keyLabels.of(record.identity);
  const metrics = rt.metrics;
  metrics.requestsFor(route.name, model, record.target ?? "", String(record.status), key, team).inc();
  metrics.requestDurationFor(route.name, model, statusClassOf(record.status, record.refusal !== undefined, record.interrupted)).observe(latencyMs / 1000);
  const usage = record.usage;
  if (usage && record.cache !== "HIT") {
    metrics.tokensFor(served, TOKEN_KINDS.prompt, key, team).inc(usage.promptTokens);
    metrics.tokensFor(served, TOKEN_KINDS.completion, key, team).inc(usage.completionTokens);
    if (usage.cachedPromptTokens) metrics.tokensFor(served, TOKEN_KINDS.cachedPrompt, key, team).inc(usage.cachedPromptTokens);
    if (usage.cacheWriteTokens) metrics.tokensFor(served, TOKEN_KINDS.cacheWrite, key, team).inc(usage.cacheWriteTokens);
    if (usage.reasoningTokens) metrics.tokensFor(served, TOKEN_KINDS.reasoning, key, team).inc(usage.reasoningTokens);
  }
  if (record.usageEstimated) metrics.usageEstimatedFor(served).inc();
  const costNano = record.costNano;
  if (costNano !== null) metrics.spendFor(key, team, served).inc(costNano / 1e9);
  // Rollups: every request a model pool answered (or tried to), with what it cost.
  if (rt.spend && served !== "" && record.refusal === undefined && (record.target !== null || record.cache === "HIT")) {
    rt.spend.rollups.add(dayOf(Date.now()), { key: record.identity?.keyName ?? "", team: record.identity?.team ?? "", model: served }, requestCounters(record.cache === "HIT" ? null : usage, costNano ?? 0, record.usageEstimated));
  }
  rt.recorder?.record({
    requestId, route: route.name, model, servedModel: served, target: record.target, status: record.status, latencyMs, ttftMs: record.ttftMs,
    keyName: record.identity?.keyName ?? null, team: record.identity?.team ?? null, promptTokens: usage?.promptTokens ?? null, completionTokens: usage?.completionTokens ?? null,
    costUsd: costNano === null ? null : costNano / 1e9, refusal: record.refusal ?? null, errorCode: record.errorCode ?? null, stream: record.stream, cache: record.cache,
  });
  const accessLog = rt.accessLog;
  if (accessLog === null || !accessLog.on) return;
  accessLog.writeFields(requestLineFields(requestId, route.name, model, served, record, latencyMs, trace?.context.traceId), "request");
}
