/**
 * The headers of one upstream attempt: the target's own (key included), the request id, the W3C
 * trace context, and the client headers the target accepts (its `forwardHeaders`, and
 * `User-Agent`). Header work happens only for headers the client actually sent.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { PreparedTarget } from "./prepared-target";

export interface ClientPassthrough {
  /** Lower-case client header names this target receives, minus those its config sets itself. */
  forwardHeaders: readonly string[];
  /** Whether the client's User-Agent goes upstream (not when the target's config sets one). */
  userAgent: boolean;
}

/** Which client headers a target receives, from its config (computed once at start). */
export function clientPassthroughFor(configuredHeaders: Record<string, string>, forwardHeaders: readonly string[]): ClientPassthrough {
  const configured = new Set(Object.keys(configuredHeaders).map((name) => name.toLowerCase()));
  return { forwardHeaders: [...new Set(forwardHeaders)].filter((name) => !configured.has(name)), userAgent: !configured.has("user-agent") };
}

export function attemptHeaders(
  target: PreparedTarget,
  requestId: string,
  traceparent: string,
  tracestate: string | null,
  client: IncomingHttpHeaders | undefined,
  /** Headers the translator adds for this attempt (flat; e.g. `anthropic-beta`). */
  translated: readonly string[] = [],
): string[] {
  // Copied by index, not spread (an iterator walk per request on the hot path).
  const base = target.baseHeaders;
  const headers: string[] = [];
  for (let i = 0; i < base.length; i++) headers.push(base[i]);
  headers.push("x-request-id", requestId, "traceparent", traceparent);
  if (tracestate !== null) headers.push("tracestate", tracestate);
  for (let i = 0; i < translated.length; i++) headers.push(translated[i]);
  if (client === undefined) return headers;
  const passthrough = target.passthrough;
  if (passthrough.userAgent) {
    const userAgent = client["user-agent"];
    if (userAgent !== undefined) headers.push("user-agent", userAgent);
  }
  for (const name of passthrough.forwardHeaders) {
    const value = client[name];
    if (typeof value === "string") headers.push(name, value);
  }
  return headers;
}

/** Headers that say the client chose what the target's key acts for: a 401/403 may be its doing. */
const ORG_SCOPE_HEADERS = ["openai-organization", "openai-project"];

/** Whether this attempt sent a client's organization or project (see failure.ts, upstream_auth). */
export function sentClientScope(target: PreparedTarget, client: IncomingHttpHeaders | undefined): boolean {
  if (client === undefined) return false;
  for (const name of ORG_SCOPE_HEADERS) if (target.passthrough.forwardHeaders.includes(name) && typeof client[name] === "string") return true;
  return false;
}
