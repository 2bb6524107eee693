/**
 * A Chat Completions answer as a Responses `response` object: the first choice's reasoning,
 * text (or refusal) and tool calls become output items in that order, `finish_reason: length`
 * makes the response `incomplete`, and the usage (with cached and reasoning details) is carried
 * over. Pure.
 */
import type { Usage } from "../../traffic/types";
import { itemId } from "./ids";
import { isObject, type Item } from "./input-items";
import { endOfFinish, functionCallItem, messageItem, outputTextPart, reasoningItem, refusalPart, responseObject, type ResponseContext } from "./response-object";
import { usageFromChat } from "./usage";

/** The output items of one Chat message. */
export function outputOfChatMessage(message: Record<string, unknown>, responseId: string, status: "completed" | "incomplete"): Item[] {
  const output: Item[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning.length > 0) output.push(reasoningItem(itemId("rs", responseId, output.length), reasoning));
  const content: Item[] = [];
  if (typeof message.content === "string" && message.content.length > 0) content.push(outputTextPart(message.content));
  if (typeof message.refusal === "string" && message.refusal.length > 0) content.push(refusalPart(message.refusal));
  if (content.length > 0) output.push(messageItem(itemId("msg", responseId, output.length), status, content));
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const call of calls) {
    if (!isObject(call) || !isObject(call.function)) continue;
    const fn = call.function;
    const callId = typeof call.id === "string" ? call.id : `call_${itemId("fc", responseId, output.length).slice(3)}`;
    output.push(functionCallItem(itemId("fc", responseId, output.length), "completed", callId, String(fn.name ?? ""), typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments ?? {})));
  }
  return output;
}

export interface TranslatedResponse {
  response: Record<string, unknown>;
  usage: Usage | null;
}

/** The Responses object for a Chat completion; `null` when the answer has no choice to read. */
export function chatCompletionToResponse(chat: Record<string, unknown>, ctx: ResponseContext): TranslatedResponse | null {
  const choice = Array.isArray(chat.choices) ? chat.choices.find(isObject) : undefined;
  if (choice === undefined || !isObject(choice.message)) return null;
  const end = endOfFinish(choice.finish_reason);
  const usage = usageFromChat(chat.usage);
  const output = outputOfChatMessage(choice.message, ctx.id, end.status === "completed" ? "completed" : "incomplete");
  return { response: responseObject(ctx, { ...end, output, usage }), usage };
}
