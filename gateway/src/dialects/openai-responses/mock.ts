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

/** The Chat message and finish reason the mock's answer amounts to. */
function chatAnswer(request: Record<string, unknown>, tokens: number): { message: Record<string, unknown>; finish: string; outputTokens: number } {
  const tool = toolToCall(request);
  if (tool !== null) return { message: { role: "assistant", content: null, tool_calls: [{ id: `call_${contextOf(request).id.slice(5, 21)}`, type: "function", function: { name: tool, arguments: "{}" } }] }, finish: "tool_calls", outputTokens: 1 };
  const count = words(request, tokens);
  return { message: { role: "assistant", content: Array.from({ length: count }, (_, i) => mockToken(i)).join("").trimEnd() }, finish: count < tokens ? "length" : "stop", outputTokens: count };
}

export function mockResponse(request: Record<string, unknown>, tokens: number): Record<string, unknown> {
  const { message, finish, outputTokens } = chatAnswer(request, tokens);
  const usage = { prompt_tokens: inputTokens(request), completion_tokens: outputTokens };
  return chatCompletionToResponse({ choices: [{ index: 0, message, finish_reason: finish }], usage }, contextOf(request))!.response;
}

/** The SSE events of a streamed mock response, `event: …\ndata: …\n\n` each. */
export function mockResponseStreamEvents(request: Record<string, unknown>, tokens: number): string[] {
  const machine = new ChatStreamToResponses(contextOf(request));
  const { message, finish, outputTokens } = chatAnswer(request, tokens);
  const events = machine.start();
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => machine.chunk({ choices: [{ index: 0, delta, finish_reason: finishReason }] });
  if (Array.isArray(message.tool_calls)) {
    events.push(...chunk({ tool_calls: (message.tool_calls as Record<string, unknown>[]).map((call, index) => ({ index, ...call })) }));
  } else {
    for (let i = 0; i < outputTokens; i++) events.push(...chunk({ content: mockToken(i) }));
  }
  events.push(...chunk({}, finish));
  events.push(...machine.chunk({ choices: [], usage: { prompt_tokens: inputTokens(request), completion_tokens: outputTokens } }));
  events.push(...machine.finish());
  return events;
}
