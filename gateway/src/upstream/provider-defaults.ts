/**
 * What each provider expects of the gateway by default, as data: the headers that carry the
 * target's key, the probe that says the target is healthy, and the client headers that are safe
 * to pass on. DeepSeek and Gemini's compat endpoint are OpenAI-compatible (`provider: openai`):
 * `GET {baseUrl}/models` with a Bearer key answers on both.
 */
import type { Provider } from "../config/upstream-schema";

export interface ProviderProbe {
  method: "GET" | "HEAD" | "POST";
  /** Relative to the target's baseUrl; null: the global `healthCheck.path` (backward compatible). */
  path: string | null;
  headers: Record<string, string>;
}

export interface ProviderDefaults {
  /** Flat header list carrying the key. */
  authHeaders(apiKey: string): string[];
  probe(baseUrl: string): ProviderProbe;
  /** Client headers passed on unless the target lists its own (never org or project: they pick what the key bills). */
  forwardHeaders: readonly string[];
}

/** Anthropic's API version the probe asks for (any supported one answers GET /v1/models). */
export const ANTHROPIC_VERSION = "2023-06-01";

export const PROVIDER_DEFAULTS: Record<Provider, ProviderDefaults> = {
  openai: {
    authHeaders: (apiKey) => ["authorization", `Bearer ${apiKey}`],
    probe: () => ({ method: "GET", path: null, headers: {} }),
    forwardHeaders: ["openai-beta", "idempotency-key"],
  },
  anthropic: {
    authHeaders: (apiKey) => ["x-api-key", apiKey],
    // Anthropic's own base URL has no /v1 (the SDK's convention); accept either spelling.
    probe: (baseUrl) => ({ method: "GET", path: /\/v1$/.test(baseUrl) ? "/models" : "/v1/models", headers: { "anthropic-version": ANTHROPIC_VERSION } }),
    forwardHeaders: [],
  },
};
