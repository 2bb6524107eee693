/**
 * OpenAI-compatible upstreams (OpenAI, Azure's v1 endpoint, DeepSeek, Gemini's compat endpoint,
 * vLLM, resellers): the base URL ends in `/v1` (or the provider's equivalent), the key goes in
 * `Authorization: Bearer`, and `GET {baseUrl}/models` says whether the target is up.
 */
import type { Provider } from "./provider";

export const openaiProvider: Provider = {
  name: "openai",
  dialect: "openai",
  paths: {
    "chat.completions": "/chat/completions",
    completions: "/completions",
    embeddings: "/embeddings",
    "images.generations": "/images/generations",
    responses: "/responses",
  },
  authHeaders(apiKey) {
    return apiKey ? ["authorization", `Bearer ${apiKey}`] : [];
  },
  healthProbe: { method: "GET", path: "/models", headers: [], okMin: 200, okMax: 299 },
  forwardHeaders: ["openai-beta", "idempotency-key"],
};

/**
 * The same provider for a target set `responsesApi: native` (OpenAI, Azure OpenAI): it serves
 * `POST {baseUrl}/responses` itself, so Responses requests pass through instead of being translated.
 */
export const openaiNativeResponsesProvider: Provider = { ...openaiProvider, nativeDialects: ["openai-responses"] };
