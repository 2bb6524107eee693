/**
 * Non-streaming answers between Chat Completions and Anthropic Messages: content (text, tool
 * calls, reasoning as thinking), stop reasons and usage. The client sees the model name it asked for.
 */
import { anthropicUsageOf } from "../../dialects/anthropic/usage";
import { generationUsageFromObject } from "../../stream/usage";
import type { Usage } from "../../traffic/types";
import { TranslationError } from "../translator";
import { parseArguments } from "./tools";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

export const STOP_TO_ANTHROPIC: Readonly<Record<string, string>> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", function_call: "tool_use", content_filter: "refusal" };
export const STOP_TO_OPENAI: Readonly<Record<string, string>> = { end_turn: "stop", stop_sequence: "stop", max_tokens: "length", tool_use: "tool_calls", refusal: "content_filter", pause_turn: "stop" };

/** OpenAI usage in the gateway's shape, with cached prompt tokens when the upstream said. */
export function usageFromOpenai(raw: unknown): Usage | null {
  const usage = generationUsageFromObject(raw);
  if (usage === null || !isObject(raw)) return usage;
  const cached = isObject(raw.prompt_tokens_details) ? raw.prompt_tokens_details.cached_tokens : undefined;
  if (typeof cached === "number" && cached > 0 && cached <= usage.promptTokens) usage.cachedPromptTokens = Math.round(cached);
  const reasoning = isObject(raw.completion_tokens_details) ? raw.completion_tokens_details.reasoning_tokens : undefined;
  if (typeof reasoning === "number" && reasoning > 0 && reasoning <= usage.completionTokens) usage.reasoningTokens = Math.round(reasoning);
  return usage;
}

/** The gateway's Usage as OpenAI's usage block. */
export function openaiUsageOf(usage: Usage): Json {
  const out: Json = { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
  if (usage.cachedPromptTokens !== undefined) out.prompt_tokens_details = { cached_tokens: usage.cachedPromptTokens };
  if (usage.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}

/** A chat completion as an Anthropic message. */
export function openaiResponseToAnthropic(json: Json, model: string): { message: Json; usage: Usage | null } {
  const choice = Array.isArray(json.choices) && isObject(json.choices[0]) ? json.choices[0] : null;
  const message = choice && isObject(choice.message) ? choice.message : null;
  if (message === null) throw new TranslationError("the answer has no choices[0].message");
  const content: Json[] = [];
  if (typeof message.reasoning_content === "string" && message.reasoning_content.length > 0) content.push({ type: "thinking", thinking: message.reasoning_content, signature: "" });
  if (typeof message.content === "string" && message.content.length > 0) content.push({ type: "text", text: message.content });
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : []) {
    const fn = isObject(call.function) ? call.function : {};
    content.push({ type: "tool_use", id: String(call.id ?? ""), name: String(fn.name ?? ""), input: parseArguments(fn.arguments) });
  }
  const usage = usageFromOpenai(json.usage);
  const finish = typeof choice?.finish_reason === "string" ? choice.finish_reason : "stop";
  return {
    message: {
      id: `msg_${String(json.id ?? "gateway").replace(/^chatcmpl-/, "")}`,
      type: "message",
      role: "assistant",
      model,
      content,
      stop_reason: STOP_TO_ANTHROPIC[finish] ?? "end_turn",
      stop_sequence: null,
      usage: anthropicUsageOf(usage ?? { promptTokens: 0, completionTokens: 0 }),
    },
    usage,
  };
}

/** An Anthropic message as a chat completion. */
export function anthropicResponseToOpenai(json: Json, model: string, usage: Usage | null): Json {
  if (!Array.isArray(json.content)) throw new TranslationError("the answer has no content array");
  let text = "";
  let reasoning = "";
  const calls: Json[] = [];
  for (const block of json.content.filter(isObject)) {
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "thinking" && typeof block.thinking === "string") reasoning += block.thinking;
    else if (block.type === "tool_use") calls.push({ id: String(block.id ?? ""), type: "function", function: { name: String(block.name ?? ""), arguments: JSON.stringify(block.input ?? {}) } });
  }
  const message: Json = { role: "assistant", content: text.length > 0 || calls.length === 0 ? text : null, refusal: null };
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  const stop = typeof json.stop_reason === "string" ? json.stop_reason : "end_turn";
  return {
    id: `chatcmpl-${String(json.id ?? "gateway").replace(/^msg_/, "")}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: STOP_TO_OPENAI[stop] ?? "stop" }],
    usage: openaiUsageOf(usage ?? { promptTokens: 0, completionTokens: 0 }),
  };
}
