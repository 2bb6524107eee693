/**
 * Which requests the response cache may answer: non-streaming, on a cacheable route, and
 * deterministic: `temperature: 0`, or the client opts in with `x-gateway-cache: on`. Responses
 * API requests only with `store: false` (a stored response is a new, continuable id each time).
 * Embeddings are deterministic by nature. `x-gateway-cache: off` and `cache-control: no-cache`
 * or `no-store` always bypass.
 */
import type { IncomingHttpHeaders } from "node:http";

const ROUTES: ReadonlySet<string> = new Set(["chat.completions", "completions", "embeddings", "messages", "responses"]);

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value ?? "").toLowerCase();
}

export type CacheDecision = "cacheable" | "bypass";

export function cacheDecision(route: string, body: Record<string, unknown>, stream: boolean, headers: IncomingHttpHeaders): CacheDecision {
  if (stream || body.stream === true || !ROUTES.has(route)) return "bypass";
  // A stored response has an id of its own that a later request continues: only `store: false` ones are cached.
  if (route === "responses" && body.store !== false) return "bypass";
  const optIn = header(headers, "x-gateway-cache");
  if (optIn === "off") return "bypass";
  const control = header(headers, "cache-control");
  if (control.includes("no-cache") || control.includes("no-store")) return "bypass";
  if (optIn === "on" || route === "embeddings") return "cacheable";
  return body.temperature === 0 ? "cacheable" : "bypass";
}
