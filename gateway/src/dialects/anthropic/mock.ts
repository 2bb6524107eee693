/**
 * Deterministic Anthropic Messages answers, as pure builders: the built-in mock:// target with
 * `provider: anthropic` and the tests' mock Anthropic upstream use them. They honour
 * `stop_sequences` (the answer stops at the first one it contains), a forced tool choice (a
 * tool_use block), and `thinking` (a thinking block first).
 */
import { createHash } from "node:crypto";
import { mockToken } from "../../upstream/mock-responses";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

export const MOCK_THINKING = "The mock considers the request before answering.";

/** A rough input token count (4 characters a token), as the OpenAI mock's. */
export function mockAnthropicInputTokens(request: Json): number {
  return Math.max(1, Math.ceil(JSON.stringify([request.system ?? "", request.messages ?? [], request.tools ?? []]).length / 4));
}

function idFor(request: Json): string {
  return `msg_mock${createHash("sha1").update(JSON.stringify(request)).digest("hex").slice(0, 16)}`;
}

function stopSequencesOf(request: Json): string[] {
  return Array.isArray(request.stop_sequences) ? request.stop_sequences.filter((s): s is string => typeof s === "string" && s.length > 0) : [];
}

/**
 * The answer's tokens one at a time, cut at the first stop sequence the text contains (the last
 * piece may be part of a token); returns the stop sequence hit, or null. Only the text's last
 * characters are kept: a stop sequence first found with a new piece overlaps it.
 */
function* answerPieces(stops: readonly string[], tokens: number): Generator<string, string | null, undefined> {
  const keep = Math.max(0, ...stops.map((stop) => stop.length - 1));
  let tail = "";
  for (let i = 0; i < tokens; i++) {
    const piece = mockToken(i);
    const next = tail + piece;
    const hit = stops.find((stop) => next.includes(stop));
    if (hit !== undefined) {
      const cut = next.indexOf(hit) - tail.length;
      if (cut > 0) yield piece.slice(0, cut);
      return hit;
    }
    yield piece;
    if (keep > 0) tail = next.slice(-keep);
  }
  return null;
}

/** The whole answer text (trailing space trimmed), its piece count and the stop sequence hit. */
function answerText(stops: readonly string[], tokens: number): { text: string; count: number; stopSequence: string | null } {
  const pieces = answerPieces(stops, tokens);
  let text = "";
  let count = 0;
  for (let step = pieces.next(); ; step = pieces.next()) {
    if (step.done) return { text: text.trimEnd(), count, stopSequence: step.value };
    text += step.value;
    count++;
  }
}

/** The tool a forced tool_choice names (`any`: the first tool), or null. */
function forcedTool(request: Json): string | null {
  const choice = request.tool_choice;
  const tools = Array.isArray(request.tools) ? request.tools.filter(isObject) : [];
  if (!isObject(choice) || tools.length === 0) return null;
  if (choice.type === "tool" && typeof choice.name === "string") return choice.name;
  if (choice.type === "any") return String(tools[0].name ?? "tool");
  return null;
}

function thinkingOn(request: Json): boolean {
  return isObject(request.thinking) && request.thinking.type === "enabled";
}

export function mockAnthropicMessage(request: Json, tokens: number): Json {
  const content: Json[] = [];
  if (thinkingOn(request)) content.push({ type: "thinking", thinking: MOCK_THINKING, signature: "mock-signature" });
  const tool = forcedTool(request);
  let stopReason = "end_turn";
  let stopSequence: string | null = null;
  let output = tokens;
  if (tool !== null) {
    content.push({ type: "tool_use", id: `toolu_mock${idFor(request).slice(8, 20)}`, name: tool, input: { query: "mock" } });
    stopReason = "tool_use";
  } else {
    const answer = answerText(stopSequencesOf(request), tokens);
    content.push({ type: "text", text: answer.text });
    output = answer.count;
    if (answer.stopSequence !== null) {
      stopReason = "stop_sequence";
      stopSequence = answer.stopSequence;
    }
  }
  return {
    id: idFor(request),
    type: "message",
    role: "assistant",
    model: String(request.model ?? "mock"),
    content,
    stop_reason: stopReason,
    stop_sequence: stopSequence,
    usage: { input_tokens: mockAnthropicInputTokens(request), output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

const event = (name: string, data: Json) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;

/**
 * The events of a streamed answer, one SSE event a string, as Anthropic sends them, made one at
 * a time as they are sent: a long stream holds neither its events nor the request.
 */
export function mockAnthropicStream(request: Json, tokens: number): Generator<string, void, undefined> {
  const id = idFor(request);
  const tool = forcedTool(request);
  const answer: StreamedAnswer = {
    message: { id, type: "message", role: "assistant", model: String(request.model ?? "mock"), content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: mockAnthropicInputTokens(request), output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
    thinking: thinkingOn(request),
    tool: tool === null ? null : { type: "tool_use", id: `toolu_mock${id.slice(8, 20)}`, name: tool, input: { query: "mock" } },
    stops: stopSequencesOf(request),
  };
  return anthropicStream(answer, tokens);
}

interface StreamedAnswer {
  /** message_start's message. */
  message: Json;
  thinking: boolean;
  /** The tool_use block of a forced tool choice, else null (a text answer). */
  tool: Json | null;
  stops: string[];
}

function* anthropicStream(answer: StreamedAnswer, tokens: number): Generator<string, void, undefined> {
  yield event("message_start", { message: answer.message });
  yield event("ping", {});
  let index = 0;
  if (answer.thinking) {
    yield event("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
    yield event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: MOCK_THINKING } });
    yield event("content_block_delta", { index, delta: { type: "signature_delta", signature: "mock-signature" } });
    yield event("content_block_stop", { index });
    index++;
  }
  let stopReason = "end_turn";
  let stopSequence: string | null = null;
  let output = tokens;
  if (answer.tool !== null) {
    yield event("content_block_start", { index, content_block: { ...answer.tool, input: {} } });
    const json = JSON.stringify(answer.tool.input);
    yield event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: json.slice(0, 5) } });
    yield event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: json.slice(5) } });
    stopReason = "tool_use";
  } else {
    yield event("content_block_start", { index, content_block: { type: "text", text: "" } });
    // One delta per token, as the OpenAI mock streams one token per chunk; the answer's trailing space is trimmed.
    const pieces = answerPieces(answer.stops, tokens);
    output = 0;
    let step = pieces.next();
    while (!step.done) {
      const piece = step.value;
      output++;
      step = pieces.next();
      const text = step.done ? piece.trimEnd() : piece;
      if (text.length > 0) yield event("content_block_delta", { index, delta: { type: "text_delta", text } });
    }
    if (step.value !== null) {
      stopReason = "stop_sequence";
      stopSequence = step.value;
    }
  }
  yield event("content_block_stop", { index });
  yield event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: output } });
  yield event("message_stop", {});
}

/** Every event of mockAnthropicStream at once (tests, translation fixtures). */
export function mockAnthropicStreamEvents(request: Json, tokens: number): string[] {
  return [...mockAnthropicStream(request, tokens)];
}

export function mockAnthropicCountTokens(request: Json): Json {
  return { input_tokens: mockAnthropicInputTokens(request) };
}

export function mockAnthropicModelList(names: string[]): Json {
  const data = names.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
