/**
 * Deterministic native Responses API answers for the built-in `mock://` target and the test
 * upstreams: the same words as the Chat mock, as a `response` object or its typed event stream.
 * When the request offers function tools and its input carries no tool output yet, the mock
 * calls the first tool (arguments `{}`), so tool loops can be exercised without a real model.
 */
import { createHash } from "node:crypto";
import { mockToken } from "../../upstream/mock-responses";
import { ChatStreamToResponses } from "./chat-stream-to-events";
import { chatCompletionToResponse } from "./chat-to-response";
import { isObject } from "./input-items";
import type { ResponseContext } from "./response-object";

function contextOf(request: Record<string, unknown>): ResponseContext {
  const digest = createHash("sha1").update(JSON.stringify(request)).digest("hex");
  // 40 hex digits: not the shape of the gateway's own ids (32), as a real upstream's are not.
  return { id: `resp_${digest}`, createdAt: 1_700_000_000, model: String(request.model ?? "mock"), request };
}

function inputTokens(request: Record<string, unknown>): number {
  return Math.max(1, Math.ceil(JSON.stringify(request.input ?? "").length / 4) + Math.ceil(String(request.instructions ?? "").length / 4));
}

/** The first function tool, when the mock should call it now. */
function toolToCall(request: Record<string, unknown>): string | null {
  const tools = Array.isArray(request.tools) ? request.tools.filter(isObject) : [];
  const fn = tools.find((tool) => tool.type === "function" && typeof tool.name === "string");
  if (fn === undefined || request.tool_choice === "none") return null;
  const input = Array.isArray(request.input) ? request.input : [];
  if (input.some((item) => isObject(item) && item.type === "function_call_output")) return null;
  return fn.name as string;
}

function words(request: Record<string, unknown>, tokens: number): number {
  const max = typeof request.max_output_tokens === "number" && request.max_output_tokens > 0 ? request.max_output_tokens : Infinity;
  return Math.min(tokens, max);
}

/** What the mock answers: a call of `tool`, or `count` words; the Chat finish reason and output tokens. */
function plan(request: Record<string, unknown>, tokens: number): { tool: string | null; count: number; finish: string; outputTokens: number } {
  const tool = toolToCall(request);
  if (tool !== null) return { tool, count: 0, finish: "tool_calls", outputTokens: 1 };
  const count = words(request, tokens);
  return { tool: null, count, finish: count < tokens ? "length" : "stop", outputTokens: count };
}

/** The Chat message the mock's answer amounts to. */
function chatMessage(context: ResponseContext, answer: ReturnType<typeof plan>): Record<string, unknown> {
  if (answer.tool !== null) return { role: "assistant", content: null, tool_calls: [{ id: `call_${context.id.slice(5, 21)}`, type: "function", function: { name: answer.tool, arguments: "{}" } }] };
  return { role: "assistant", content: Array.from({ length: answer.count }, (_, i) => mockToken(i)).join("").trimEnd() };
}

export function mockResponse(request: Record<string, unknown>, tokens: number): Record<string, unknown> {
  const context = contextOf(request);
  const answer = plan(request, tokens);
  const usage = { prompt_tokens: inputTokens(request), completion_tokens: answer.outputTokens };
  return chatCompletionToResponse({ choices: [{ index: 0, message: chatMessage(context, answer), finish_reason: answer.finish }], usage }, context)!.response;
}

/**
 * The SSE events of a streamed mock response, `event: …\ndata: …\n\n` each, made one Chat
 * chunk at a time as they are sent (the event machine keeps what the final response needs).
 */
export function* mockResponseStream(request: Record<string, unknown>, tokens: number): Generator<string, void, undefined> {
  const context = contextOf(request);
  const machine = new ChatStreamToResponses(context);
  const answer = plan(request, tokens);
  const promptTokens = inputTokens(request);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => machine.chunk({ choices: [{ index: 0, delta, finish_reason: finishReason }] });
  yield* machine.start();
  if (answer.tool !== null) {
    const calls = chatMessage(context, answer).tool_calls as Record<string, unknown>[];
    yield* chunk({ tool_calls: calls.map((call, index) => ({ index, ...call })) });
  } else {
    for (let i = 0; i < answer.count; i++) yield* chunk({ content: mockToken(i) });
  }
  yield* chunk({}, answer.finish);
  yield* machine.chunk({ choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: answer.outputTokens } });
  yield* machine.finish();
}

/** Every event of mockResponseStream at once (tests). */
export function mockResponseStreamEvents(request: Record<string, unknown>, tokens: number): string[] {
  return [...mockResponseStream(request, tokens)];
}
