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

/** The answer's tokens, cut at the first stop sequence they contain. */
function answerTokens(request: Json, tokens: number): { pieces: string[]; stopSequence: string | null } {
  const pieces = Array.from({ length: tokens }, (_, i) => mockToken(i));
  const stops = Array.isArray(request.stop_sequences) ? request.stop_sequences.filter((s): s is string => typeof s === "string" && s.length > 0) : [];
  let text = "";
  for (let i = 0; i < pieces.length; i++) {
    const next = text + pieces[i];
    const hit = stops.find((stop) => next.includes(stop));
    if (hit !== undefined) {
      const cut = next.indexOf(hit) - text.length;
      const kept = pieces.slice(0, i);
      if (cut > 0) kept.push(pieces[i].slice(0, cut));
      return { pieces: kept, stopSequence: hit };
    }
    text = next;
  }
  return { pieces, stopSequence: null };
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
    const answer = answerTokens(request, tokens);
    content.push({ type: "text", text: answer.pieces.join("").trimEnd() });
    output = answer.pieces.length;
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

/** The events of a streamed answer, one SSE event a string, as Anthropic sends them. */
export function mockAnthropicStreamEvents(request: Json, tokens: number): string[] {
  const full = mockAnthropicMessage(request, tokens);
  const usage = full.usage as Json;
  const events = [event("message_start", { message: { ...full, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }), event("ping", {})];
  const blocks = full.content as Json[];
  blocks.forEach((block, index) => {
    if (block.type === "thinking") {
      events.push(event("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }));
      events.push(event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: block.thinking } }));
      events.push(event("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } }));
    } else if (block.type === "tool_use") {
      events.push(event("content_block_start", { index, content_block: { ...block, input: {} } }));
      const json = JSON.stringify(block.input);
      events.push(event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: json.slice(0, 5) } }));
      events.push(event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: json.slice(5) } }));
    } else {
      events.push(event("content_block_start", { index, content_block: { type: "text", text: "" } }));
      const text = String(block.text);
      // One delta per word, as the OpenAI mock streams one token per chunk.
      for (const piece of text.match(/\S+\s*/g) ?? []) events.push(event("content_block_delta", { index, delta: { type: "text_delta", text: piece } }));
    }
    events.push(event("content_block_stop", { index }));
  });
  events.push(event("message_delta", { delta: { stop_reason: full.stop_reason, stop_sequence: full.stop_sequence }, usage: { output_tokens: usage.output_tokens } }));
  events.push(event("message_stop", {}));
  return events;
}

export function mockAnthropicCountTokens(request: Json): Json {
  return { input_tokens: mockAnthropicInputTokens(request) };
}

export function mockAnthropicModelList(names: string[]): Json {
  const data = names.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
