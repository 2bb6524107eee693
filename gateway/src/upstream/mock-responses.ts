/**
 * Deterministic OpenAI-shaped answers (chat, completions, embeddings, images, model list), as
 * pure builders. The built-in mock:// target and the test and benchmark upstreams all use them.
 */
import { createHash } from "node:crypto";

const WORDS = ["The", "gateway", "answered", "this", "request", "from", "a", "mock", "upstream", "so", "demos", "and", "tests", "need", "no", "keys"];

export interface MockRequest {
  model?: unknown;
  messages?: unknown;
  prompt?: unknown;
  input?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  dimensions?: unknown;
  encoding_format?: unknown;
  n?: unknown;
}

/** A rough prompt token count (4 characters a token), good enough for a mock. */
export function mockPromptTokens(request: MockRequest): number {
  const text = JSON.stringify(request.messages ?? request.prompt ?? request.input ?? "");
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The `index`-th token of a mock answer (a word plus a space). */
export function mockToken(index: number): string {
  return `${WORDS[index % WORDS.length]} `;
}

function idFor(kind: string, request: MockRequest): string {
  return `${kind}-mock-${createHash("sha1").update(JSON.stringify(request)).digest("hex").slice(0, 12)}`;
}

/** A non-streaming answer of `tokens` tokens; chat and text completions differ only in their choice. */
function mockCompletion(kind: "chatcmpl" | "cmpl", object: string, choice: (answer: string) => Record<string, unknown>, request: MockRequest, tokens: number, from: string): Record<string, unknown> {
  const answer = Array.from({ length: tokens }, (_, i) => mockToken(i)).join("").trimEnd();
  const promptTokens = mockPromptTokens(request);
  return {
    id: idFor(kind, request),
    object,
    created: 1_700_000_000,
    model: String(request.model ?? "mock"),
    system_fingerprint: from,
    choices: [{ index: 0, ...choice(answer), logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens },
  };
}

export function mockChatCompletion(request: MockRequest, tokens: number, from: string): Record<string, unknown> {
  return mockCompletion("chatcmpl", "chat.completion", (content) => ({ message: { role: "assistant", content } }), request, tokens, from);
}

export function mockTextCompletion(request: MockRequest, tokens: number, from: string): Record<string, unknown> {
  return mockCompletion("cmpl", "text_completion", (text) => ({ text }), request, tokens, from);
}

/**
 * The SSE events of a streamed chat completion (`data: …\n\n` each, ending with [DONE]), made
 * one at a time as they are sent: a long stream holds one event, not all of them, and not the
 * request (only the few values its events need).
 */
export function mockChatStream(request: MockRequest, tokens: number): Generator<string, void, undefined> {
  const includeUsage = request.stream_options?.include_usage === true;
  return chatStream(idFor("chatcmpl", request), String(request.model ?? "mock"), tokens, includeUsage ? mockPromptTokens(request) : null);
}

function* chatStream(id: string, model: string, tokens: number, promptTokens: number | null): Generator<string, void, undefined> {
  const usageField = promptTokens !== null ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField })}\n\n`;
  yield chunk({ role: "assistant", content: "" }, null);
  for (let i = 0; i < tokens; i++) yield chunk({ content: mockToken(i) }, null);
  yield chunk({}, "stop");
  if (promptTokens !== null) {
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens };
    yield `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [], usage })}\n\n`;
  }
  yield "data: [DONE]\n\n";
}

/** Every event of mockChatStream at once (tests, translation fixtures). */
export function mockChatStreamEvents(request: MockRequest, tokens: number): string[] {
  return [...mockChatStream(request, tokens)];
}

/** Streamed text completion events, one at a time (as mockChatStream). */
export function mockTextStream(request: MockRequest, tokens: number): Generator<string, void, undefined> {
  const includeUsage = request.stream_options?.include_usage === true;
  return textStream(idFor("cmpl", request), String(request.model ?? "mock"), tokens, includeUsage ? mockPromptTokens(request) : null);
}

function* textStream(id: string, model: string, tokens: number, promptTokens: number | null): Generator<string, void, undefined> {
  for (let i = 0; i < tokens; i++) {
    yield `data: ${JSON.stringify({ id, object: "text_completion", created: 1_700_000_000, model, choices: [{ index: 0, text: mockToken(i), logprobs: null, finish_reason: i === tokens - 1 ? "stop" : null }] })}\n\n`;
  }
  if (promptTokens !== null) {
    yield `data: ${JSON.stringify({ id, object: "text_completion", created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens } })}\n\n`;
  }
  yield "data: [DONE]\n\n";
}

/** Every event of mockTextStream at once. */
export function mockTextStreamEvents(request: MockRequest, tokens: number): string[] {
  return [...mockTextStream(request, tokens)];
}

/** Deterministic unit vectors derived from each input's hash. */
export function mockEmbeddings(request: MockRequest): Record<string, unknown> {
  const inputs = Array.isArray(request.input) ? request.input : [request.input ?? ""];
  const dimensions = typeof request.dimensions === "number" && request.dimensions > 0 ? Math.min(request.dimensions, 4096) : 8;
  const data = inputs.map((input, index) => {
    const digest = createHash("sha256").update(JSON.stringify(input)).digest();
    const raw = Array.from({ length: dimensions }, (_, i) => digest[i % digest.length] / 255 - 0.5);
    const norm = Math.hypot(...raw) || 1;
    const vector = raw.map((v) => Number((v / norm).toFixed(6)));
    // The OpenAI SDKs ask for base64 by default: little-endian float32s, as OpenAI sends them.
    const embedding = request.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
    return { object: "embedding", index, embedding };
  });
  const promptTokens = mockPromptTokens(request);
  return { object: "list", data, model: String(request.model ?? "mock"), usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

/** A 1×1 PNG per requested image. */
export function mockImages(request: MockRequest): Record<string, unknown> {
  const n = typeof request.n === "number" && request.n > 0 ? Math.min(request.n, 10) : 1;
  const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  return { created: 1_700_000_000, data: Array.from({ length: n }, () => ({ b64_json: pixel, revised_prompt: null })) };
}

export function mockModelList(names: string[]): Record<string, unknown> {
  return { object: "list", data: names.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "mock" })) };
}
