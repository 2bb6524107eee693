/**
 * The Responses `response` object the gateway answers with when it translates: the request's
 * settings echoed as OpenAI does, plus status, output items and usage. Also builds the output
 * items themselves (message, function call, reasoning) so the non-streaming and streaming
 * translations produce identical objects. Pure.
 */
import type { Usage } from "../../traffic/types";
import { isObject, type Item } from "./input-items";
import { responsesUsage } from "./usage";

/** What stays the same for every event and object of one response. */
export interface ResponseContext {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The client-facing model name. */
  model: string;
  /** The client's Responses request body. */
  request: Record<string, unknown>;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export interface ResponseEnd {
  status: ResponseStatus;
  output: Item[];
  usage: Usage | null;
  /** For `incomplete`: why (`max_output_tokens`, `content_filter`). */
  incompleteReason?: string;
  /** For `failed`. */
  error?: { code: string; message: string };
}

function orNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

export function responseObject(ctx: ResponseContext, end: ResponseEnd): Record<string, unknown> {
  const req = ctx.request;
  const reasoning = isObject(req.reasoning) ? req.reasoning : {};
  const text = isObject(req.text) ? req.text : {};
  return {
    id: ctx.id,
    object: "response",
    created_at: ctx.createdAt,
    status: end.status,
    ...(end.status === "completed" ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    background: false,
    error: end.error ? { code: end.error.code, message: end.error.message } : null,
    incomplete_details: end.incompleteReason ? { reason: end.incompleteReason } : null,
    instructions: orNull(req.instructions),
    max_output_tokens: orNull(req.max_output_tokens),
    max_tool_calls: null,
    model: ctx.model,
    output: end.output,
    parallel_tool_calls: typeof req.parallel_tool_calls === "boolean" ? req.parallel_tool_calls : true,
    previous_response_id: typeof req.previous_response_id === "string" ? req.previous_response_id : null,
    reasoning: { effort: orNull(reasoning.effort), summary: orNull(reasoning.summary) },
    service_tier: "default",
    store: req.store !== false,
    temperature: typeof req.temperature === "number" ? req.temperature : 1,
    text: { format: isObject(text.format) ? text.format : { type: "text" } },
    tool_choice: req.tool_choice ?? "auto",
    tools: Array.isArray(req.tools) ? req.tools : [],
    top_logprobs: typeof req.top_logprobs === "number" ? req.top_logprobs : 0,
    top_p: typeof req.top_p === "number" ? req.top_p : 1,
    truncation: typeof req.truncation === "string" ? req.truncation : "disabled",
    usage: end.usage ? responsesUsage(end.usage) : null,
    user: typeof req.user === "string" ? req.user : null,
    metadata: isObject(req.metadata) ? req.metadata : {},
  };
}

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export function messageItem(id: string, status: ItemStatus, content: Item[]): Item {
  return { id, type: "message", status, role: "assistant", content };
}

export function outputTextPart(text: string): Item {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function refusalPart(refusal: string): Item {
  return { type: "refusal", refusal };
}

export function functionCallItem(id: string, status: ItemStatus, callId: string, name: string, args: string): Item {
  return { id, type: "function_call", status, call_id: callId, name, arguments: args };
}

/** Reasoning a Chat-compatible server returned (`reasoning_content`, DeepSeek-style) as raw reasoning text. */
export function reasoningItem(id: string, text: string): Item {
  return { id, type: "reasoning", summary: [], content: [{ type: "reasoning_text", text }] };
}

/** How a Chat `finish_reason` ends a response. */
export function endOfFinish(finishReason: unknown): Pick<ResponseEnd, "status" | "incompleteReason"> {
  if (finishReason === "length") return { status: "incomplete", incompleteReason: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", incompleteReason: "content_filter" };
  return { status: "completed" };
}
