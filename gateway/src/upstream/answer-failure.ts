/**
 * Whether an upstream's answer is a failure to fail over from, and why: connect errors, 429, 5xx,
 * credentials refused, redirects, error pages and garbage are; a well-formed answer is not. On the
 * way it decodes a compressed body, redacts the target's key from API error bodies, and reads or
 * translates a buffered answer (a pass-through's usage from the body's tail).
 */
import { parseRetryAfterMs } from "../routing/target-state";
import { TranslationError, type Translator } from "../translate/translator";
import type { AttemptResult } from "./attempt";
import { header, isApiErrorBody, isJsonType, parseJsonObject } from "./answer-body";
import { isRetryableStatus, isUpstreamAuthStatus, type AttemptFailure } from "./failure";
import type { PreparedTarget } from "./prepared-target";
import { decodeContentEncoding, redactErrorBody } from "./redact";
import { streamStartFailure } from "./stream-start-error";

export function answerFailure(result: AttemptResult, now: number, target: PreparedTarget, translator: Translator, maxResponseBytes: number): AttemptFailure | null {
  if (result.kind === "failed") return result.failure;
  const status = result.status;
  if (result.kind === "buffered" && header(result.headers["content-encoding"]) !== undefined) {
    // Compressed (the gateway never asks for it): decode, so it can be checked and redacted.
    const decoded = decodeContentEncoding(result.body, header(result.headers["content-encoding"]), maxResponseBytes);
    if (decoded === null) return { reason: "invalid_response", status, detail: "undecodable content-encoding" };
    result.body = decoded;
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(header(result.headers["retry-after"]), header(result.headers["retry-after-ms"]), now);
    return { reason: "status_429", status: 429, retryAfterMs, detail: "429" };
  }
  if (isRetryableStatus(status)) return { reason: "status_5xx", status, detail: String(status) };
  // The body is never passed on: it may quote part of the key ("Incorrect API key provided: sk-ab…yz").
  if (isUpstreamAuthStatus(status)) return { reason: "upstream_auth", status, detail: `status ${status}` };
  // A redirect (undici does not follow them) or an error page that is not an API error: never the client's.
  if (status < 200 || (status >= 300 && status < 400)) return { reason: "invalid_response", status, detail: `status ${status}` };
  if (status >= 400) {
    if (result.kind !== "buffered" || !isApiErrorBody(result.headers, result.body)) return { reason: "invalid_response", status, detail: "error page, not JSON" };
    const redacted = redactErrorBody(result.body, target.secrets);
    // Still quoting the key under layers of escapes: refuse it rather than risk passing it on.
    if (redacted === null) return { reason: "invalid_response", status, detail: "error body quotes the key" };
    result.body = redacted;
  }
  // A 200 stream opening with a server-side error event: nothing reached the client yet.
  if (result.kind === "stream") return streamStartFailure(result.first);
  if (result.kind === "buffered") {
    // A pass-through's success needs only its usage: read from the tail, no full parse.
    const asIs = status < 400 && isJsonType(result.headers) ? translator.answerAsIs?.(result.body) : null;
    if (asIs) {
      result.translated = asIs;
      return null;
    }
    result.json = parseJsonObject(result.body, result.headers);
    if (result.json === null) return { reason: "invalid_response", status, detail: "not a JSON object" };
    if (status >= 400) {
      result.body = translator.errorBody(status, result.body);
      return null;
    }
    try {
      result.translated = translator.responseBody(result.body, true, result.json);
    } catch (err) {
      if (err instanceof TranslationError) return { reason: "invalid_response", status, detail: `untranslatable answer: ${err.message}` };
      throw err;
    }
  }
  return null;
}
