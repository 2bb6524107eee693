/**
 * The proxied request's access-log fields, serialised by hand: the record's shape is fixed, so
 * each field is one append with its key written in the source, not a generic walk over an
 * object built for the purpose (AccessLog.info: ~2.2 µs and ~1 KB of garbage a line, this: about
 * half). The output is byte for byte what AccessLog.info writes for the same fields (a test
 * checks them against each other): same order, undefined fields left out, strings escaped by
 * JSON.stringify, non-finite numbers as null.
 */
import type { RequestRecord } from "./request-record";

const str = JSON.stringify;
const num = (value: number): string => (Number.isFinite(value) ? String(value) : "null");

/** Distinct values a field's piece cache holds before it starts over (names come from config and upstreams: few). */
const MAX_PIECES = 1024;

/**
 * `,"key":"value"` for a field whose values repeat from request to request (route, model, target,
 * key and team names, client addresses), escaped once per distinct value rather than per line.
 * The same text as `,"key":${JSON.stringify(value)}`. Bounded: cleared when full.
 */
class FieldPieces {
  private readonly made = new Map<string, string>();
  constructor(private readonly key: string) {}

  of(value: string): string {
    let piece = this.made.get(value);
    if (piece === undefined) {
      piece = `,"${this.key}":${str(value)}`;
      if (this.made.size >= MAX_PIECES) this.made.clear();
      this.made.set(value, piece);
    }
    return piece;
  }
}

const ROUTE = new FieldPieces("route");
const MODEL = new FieldPieces("model");
const SERVED_MODEL = new FieldPieces("servedModel");
const UPSTREAM_MODEL = new FieldPieces("upstreamModel");
const KEY_NAME = new FieldPieces("keyName");
const TEAM = new FieldPieces("team");
const CLIENT_IP = new FieldPieces("clientIp");
const TARGET = new FieldPieces("target");

/**
 * `num(Math.round(ms * 100) / 100)`, written from the integer count of hundredths: the same digits
 * (a double n/100 below 2^53/100 prints as its two-decimal form, trailing zeros dropped) without
 * V8's shortest-double conversion, which costs about 0.2 µs a call. Anything else takes num().
 */
export function hundredths(ms: number): string {
  const n = Math.round(ms * 100);
  if (!(n >= 0 && n < 1e15)) return num(n / 100);
  const whole = Math.floor(n / 100);
  const frac = n - whole * 100;
  if (frac === 0) return String(whole);
  if (frac % 10 === 0) return `${whole}.${frac / 10}`;
  return frac < 10 ? `${whole}.0${frac}` : `${whole}.${frac}`;
}

/**
 * A proxied request's fields as `,"key":value` pieces (AccessLog adds the level, time and msg):
 * `model` is the requested model when a pool serves it (else ""), `served` the pool that answered.
 */
export function requestLineFields(requestId: string, route: string, model: string, served: string, r: RequestRecord, latencyMs: number, traceId: string | undefined): string {
  let s = `,"reqId":${str(requestId)}${ROUTE.of(route)}`;
  if (model) s += MODEL.of(model);
  if (served && served !== model) s += SERVED_MODEL.of(served);
  if (r.upstreamModel) s += UPSTREAM_MODEL.of(r.upstreamModel);
  s += r.stream ? `,"stream":true` : `,"stream":false`;
  const identity = r.identity;
  if (identity?.keyName !== undefined) s += KEY_NAME.of(identity.keyName);
  if (identity?.team !== undefined) s += TEAM.of(identity.team);
  s += CLIENT_IP.of(r.clientIp);
  if (r.target !== null) s += TARGET.of(r.target);
  s += `,"status":${num(r.status)}`;
  if (r.errorCode !== undefined) s += `,"errorCode":${str(r.errorCode)}`;
  if (r.refusal !== undefined) s += `,"refusal":${str(r.refusal)}`;
  if (r.interrupted) s += `,"interrupted":true`;
  s += `,"attempts":${num(r.attempts)}`;
  if (r.upstreamRequestId !== null) s += `,"upstreamRequestId":${str(r.upstreamRequestId)}`;
  if (traceId !== undefined) s += `,"traceId":${str(traceId)}`;
  s += `,"latencyMs":${hundredths(latencyMs)}`;
  if (r.ttftMs !== null) s += `,"ttftMs":${hundredths(r.ttftMs)}`;
  const usage = r.usage;
  if (usage !== null) {
    s += `,"promptTokens":${num(usage.promptTokens)},"completionTokens":${num(usage.completionTokens)}`;
    if (usage.cachedPromptTokens !== undefined) s += `,"cachedTokens":${num(usage.cachedPromptTokens)}`;
    if (usage.cacheWriteTokens !== undefined) s += `,"cacheWriteTokens":${num(usage.cacheWriteTokens)}`;
    if (usage.reasoningTokens !== undefined) s += `,"reasoningTokens":${num(usage.reasoningTokens)}`;
  }
  if (r.usageEstimated) s += `,"usageEstimated":true`;
  if (r.costNano !== null) s += `,"costUsd":${num(Number((r.costNano / 1e9).toFixed(9)))},"costEstimated":${r.usageEstimated}`;
  if (r.cache !== null) s += `,"cache":${str(r.cache)}`;
  return s;
}
