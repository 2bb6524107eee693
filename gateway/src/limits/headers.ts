/**
 * OpenAI's rate-limit response headers. Reset times use Go's duration format, as OpenAI sends
 * them: `20ms`, `1s`, `8.64s`, `6m0s`, `1h2m3.5s`.
 */

/** Formats milliseconds like Go's time.Duration.String(), to millisecond precision. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const seconds = millis % 1000 === 0 ? String(millis / 1000) : (millis / 1000).toFixed(3).replace(/0+$/, "");
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

export interface LimitSnapshot {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** The x-ratelimit-* triples for the limits that apply (either may be absent). */
export function rateLimitHeaders(requests: LimitSnapshot | null, tokens: LimitSnapshot | null): [string, string][] {
  const headers: [string, string][] = [];
  if (requests) {
    headers.push(
      ["x-ratelimit-limit-requests", String(requests.limit)],
      ["x-ratelimit-remaining-requests", String(requests.remaining)],
      ["x-ratelimit-reset-requests", formatDuration(requests.resetMs)],
    );
  }
  if (tokens) {
    headers.push(
      ["x-ratelimit-limit-tokens", String(tokens.limit)],
      ["x-ratelimit-remaining-tokens", String(tokens.remaining)],
      ["x-ratelimit-reset-tokens", formatDuration(tokens.resetMs)],
    );
  }
  return headers;
}

/** The header names of one limit's triple (limit, remaining, reset). */
export type LimitHeaderNames = readonly [string, string, string];
export const REQUEST_HEADER_NAMES: LimitHeaderNames = ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"];
export const TOKEN_HEADER_NAMES: LimitHeaderNames = ["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"];

/**
 * One limit's triple as rateLimitHeaders() writes it, appended flat (name, value, …) to a
 * response's header list: an admitted request's path, with the limit's text made once per key.
 */
export function appendRateLimitHeaders(out: string[], names: LimitHeaderNames, limitText: string, status: { remaining: number; resetMs: number }): void {
  out.push(names[0], limitText, names[1], String(status.remaining), names[2], formatDuration(status.resetMs));
}

/** Retry-After (whole seconds, at least 1) and retry-after-ms, which the OpenAI SDKs honour. */
export function retryAfterHeaders(retryAfterMs: number): [string, string][] {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return [
    ["retry-after", String(Math.max(1, Math.ceil(ms / 1000)))],
    ["retry-after-ms", String(ms)],
  ];
}
