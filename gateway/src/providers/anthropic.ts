/**
 * Anthropic's native Messages API: the base URL is the API's origin (`https://api.anthropic.com`),
 * requests go to `/v1/messages`, the key in `x-api-key` with an `anthropic-version` header, and
 * `GET /v1/models` (same headers) says whether the target is up.
 */
import type { Provider } from "./provider";

/** The API version the gateway speaks to Anthropic unless the target's headers or the client set another. */
export const ANTHROPIC_VERSION = "2023-06-01";

export const anthropicProvider: Provider = {
  name: "anthropic",
  dialect: "anthropic",
  paths: {
    messages: "/v1/messages",
    "messages.count_tokens": "/v1/messages/count_tokens",
  },
  authHeaders(apiKey, configured) {
    const headers = apiKey ? ["x-api-key", apiKey] : [];
    if (!configured.has("anthropic-version")) headers.push("anthropic-version", ANTHROPIC_VERSION);
    return headers;
  },
  healthProbe: { method: "GET", path: "/v1/models", headers: [["anthropic-version", ANTHROPIC_VERSION]], okMin: 200, okMax: 299 },
  forwardHeaders: [],
};
