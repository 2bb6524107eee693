/**
 * Request bodies between Anthropic's Messages API and OpenAI's Chat Completions: system prompts,
 * turns, tool calls and results, images, stop sequences and sampling. What has no counterpart is
 * dropped (Anthropic `top_k`, `thinking` and earlier thinking blocks towards OpenAI-compatible
 * targets; OpenAI `response_format`, penalties and logprobs towards Anthropic) or refused with a
 * 400 when dropping it would change the answer's meaning (server tools, documents, n > 1).
 */
import { GatewayError } from "../../errors";
import { imageToOpenai, textOf, userBlocksToOpenai, userContentToAnthropic } from "./content";
import { parseArguments, toolChoiceToAnthropic, toolChoiceToOpenai, toolsToAnthropic, toolsToOpenai } from "./tools";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/** Completion tokens asked of Anthropic when an OpenAI client set none (Anthropic requires max_tokens). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

function blocksOf(content: unknown): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content.filter(isObject) : [];
}

/** One Anthropic turn as OpenAI messages (a user turn's tool results become `tool` messages, first). */
function turnToOpenai(message: Json, i: number, out: Json[]): void {
  const where = `messages.${i}.content`;
  if (message.role === "assistant") {
    const blocks = blocksOf(message.content);
    const text = blocks.filter((b) => b.type === "text").map((b) => String(b.text ?? "")).join("");
    const calls = blocks
      .filter((b) => b.type === "tool_use")
      .map((b) => ({ id: String(b.id ?? ""), type: "function", function: { name: String(b.name ?? ""), arguments: JSON.stringify(b.input ?? {}) } }));
    const assistant: Json = { role: "assistant", content: text.length > 0 ? text : null };
    if (calls.length > 0) assistant.tool_calls = calls;
    if (text.length > 0 || calls.length > 0) out.push(assistant);
    return;
  }
  if (typeof message.content === "string") {
    out.push({ role: "user", content: message.content });
    return;
  }
  const blocks = blocksOf(message.content);
  const rest: Json[] = [];
  for (const block of blocks) {
    if (block.type !== "tool_result") {
      rest.push(block);
      continue;
    }
    const content = Array.isArray(block.content) ? block.content.filter(isObject) : block.content;
    const images = Array.isArray(content) ? content.filter((b) => b.type === "image") : [];
    const text = textOf(content);
    out.push({ role: "tool", tool_call_id: String(block.tool_use_id ?? ""), content: block.is_error === true ? `Error: ${text}` : text });
    // OpenAI tool messages carry text only: images a tool returned follow as a user turn.
    if (images.length > 0) out.push({ role: "user", content: images.map((image, k) => imageToOpenai(image, `${where}.tool_result.${k}`)) });
  }
  if (rest.length > 0) {
    const parts = userBlocksToOpenai(rest, where);
    out.push({ role: "user", content: parts.every((p) => p.type === "text") ? parts.map((p) => p.text).join("\n") : parts });
  }
}

/** An Anthropic Messages request as a Chat Completions request for `model`. */
export function anthropicRequestToOpenai(body: Json, model: string, stream: boolean): Json {
  const messages: Json[] = [];
  const system = textOf(body.system);
  if (system.length > 0) messages.push({ role: "system", content: system });
  (Array.isArray(body.messages) ? body.messages : []).forEach((message, i) => {
    if (isObject(message)) turnToOpenai(message, i, messages);
  });
  const out: Json = { model, messages };
  if (typeof body.max_tokens === "number") out.max_tokens = body.max_tokens;
  if (typeof body.temperature === "number") out.temperature = body.temperature;
  if (typeof body.top_p === "number") out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) out.stop = body.stop_sequences;
  const tools = toolsToOpenai(body.tools);
  if (tools && tools.length > 0) {
    out.tools = tools;
    Object.assign(out, toolChoiceToOpenai(body.tool_choice));
  }
  const userId = isObject(body.metadata) ? body.metadata.user_id : undefined;
  if (typeof userId === "string") out.user = userId;
  if (stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

/** OpenAI messages as Anthropic's system prompt and alternating turns (same-role neighbours merged). */
function messagesToAnthropic(messages: unknown[]): { system: string | undefined; turns: Json[] } {
  const system: string[] = [];
  const turns: { role: string; content: Json[] }[] = [];
  const push = (role: string, blocks: Json[]) => {
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  messages.forEach((message, i) => {
    if (!isObject(message)) throw new GatewayError("GW_ERR_INVALID_REQUEST", `messages[${i}] must be an object.`, [], "messages");
    const where = `messages[${i}].content`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(textOf(message.content));
        return;
      case "user": {
        const content = userContentToAnthropic(message.content, where);
        push("user", typeof content === "string" ? [{ type: "text", text: content }] : content);
        return;
      }
      case "assistant": {
        const blocks: Json[] = [];
        const text = textOf(message.content);
        if (text.length > 0) blocks.push({ type: "text", text });
        for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : []) {
          const fn = isObject(call.function) ? call.function : {};
          blocks.push({ type: "tool_use", id: String(call.id ?? ""), name: String(fn.name ?? ""), input: parseArguments(fn.arguments) });
        }
        if (blocks.length > 0) push("assistant", blocks);
        return;
      }
      case "tool":
        push("user", [{ type: "tool_result", tool_use_id: String(message.tool_call_id ?? ""), content: textOf(message.content) }]);
        return;
      default:
        throw new GatewayError("GW_ERR_INVALID_REQUEST", `messages[${i}].role '${String(message.role)}' cannot be sent to this model.`, [], "messages");
    }
  });
  // Plain-text-only turns are sent as strings, as most clients write them.
  const out = turns.map((turn) => ({ role: turn.role, content: turn.content.length === 1 && turn.content[0].type === "text" ? turn.content[0].text : turn.content }));
  return { system: system.length > 0 ? system.join("\n\n") : undefined, turns: out };
}

/** A Chat Completions request as an Anthropic Messages request for `model`. */
export function openaiRequestToAnthropic(body: Json, model: string, stream: boolean): Json {
  if (typeof body.n === "number" && body.n > 1) throw new GatewayError("GW_ERR_INVALID_REQUEST", "n > 1 cannot be served by this model (its API returns one choice).", [], "n");
  const { system, turns } = messagesToAnthropic(Array.isArray(body.messages) ? body.messages : []);
  const out: Json = { model, max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS, messages: turns };
  if (system !== undefined) out.system = system;
  // OpenAI's temperature runs to 2, Anthropic's to 1.
  if (typeof body.temperature === "number") out.temperature = Math.min(1, body.temperature);
  if (typeof body.top_p === "number") out.top_p = body.top_p;
  const stop = typeof body.stop === "string" ? [body.stop] : Array.isArray(body.stop) ? body.stop : [];
  if (stop.length > 0) out.stop_sequences = stop;
  const tools = toolsToAnthropic(body.tools);
  if (tools && tools.length > 0) {
    out.tools = tools;
    const choice = toolChoiceToAnthropic(body.tool_choice, body.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  if (typeof body.user === "string") out.metadata = { user_id: body.user };
  if (stream) out.stream = true;
  return out;
}
