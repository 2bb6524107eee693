/**
 * A Responses request as a Chat Completions request, for targets that speak only Chat
 * Completions (DeepSeek, vLLM, Gemini's compat endpoint, resellers, the mock): `instructions`
 * and the conversation (earlier turns from the store, then this request's items) become
 * messages; function tools, tool choice, `text.format`, `max_output_tokens`, sampling and
 * reasoning effort map to their Chat fields. What has no Chat equivalent (built-in tools,
 * background mode, prompt templates) is a clear 400 rather than silently dropped. Pure.
 */
import { invalid, isObject, type Item } from "./input-items";

export type ChatMessage = Record<string, unknown>;

/** `text`, `input_text`, `output_text`: a text part's text; `refusal`: the refusal. */
function partText(part: Item): string | null {
  if (typeof part.text === "string" && (part.type === "input_text" || part.type === "output_text" || part.type === "text")) return part.text;
  if (part.type === "refusal" && typeof part.refusal === "string") return part.refusal;
  return null;
}

/** A user content part as a Chat part; a 400 for kinds Chat cannot carry. */
function chatPart(part: Item, param: string): Item {
  const text = partText(part);
  if (text !== null) return { type: "text", text };
  if (part.type === "input_image") {
    if (typeof part.image_url !== "string") throw invalid(`'${param}': images by file_id are not supported by this model's target; send image_url (a URL or data URL).`, param);
    return { type: "image_url", image_url: { url: part.image_url, ...(typeof part.detail === "string" && part.detail !== "auto" ? { detail: part.detail } : {}) } };
  }
  if (part.type === "input_file") {
    const file: Item = {};
    if (typeof part.file_data === "string") file.file_data = part.file_data;
    else if (typeof part.file_id === "string") file.file_id = part.file_id;
    else throw invalid(`'${param}': files by URL are not supported by this model's target; send file_data or file_id.`, param);
    if (typeof part.filename === "string") file.filename = part.filename;
    return { type: "file", file };
  }
  if (part.type === "input_audio" && isObject(part.input_audio)) return { type: "input_audio", input_audio: part.input_audio };
  throw invalid(`'${param}': content parts of type '${String(part.type)}' are not supported by this model's target.`, param);
}

/** Text-only content as one string (what every Chat-compatible server accepts); else Chat parts. */
function chatContent(parts: Item[], role: string, param: string): string | Item[] {
  const texts = parts.map(partText);
  if (texts.every((t) => t !== null)) return texts.join("\n");
  if (role !== "user") throw invalid(`'${param}.content': only text is supported in ${role} messages.`, `${param}.content`);
  return parts.map((part, i) => chatPart(part, `${param}.content[${i}]`));
}

/** A function call output (a string, or content parts) as a tool message's content. */
function toolOutput(output: unknown, param: string): string | Item[] {
  if (typeof output === "string") return output;
  const parts = (output as unknown[]).filter(isObject);
  const texts = parts.map(partText);
  if (texts.every((t) => t !== null)) return texts.join("\n");
  return parts.map((part, i) => chatPart(part, `${param}.output[${i}]`));
}

/**
 * The conversation as Chat messages. `developer` becomes `system` (most Chat-compatible servers
 * reject `developer`); consecutive function calls join one assistant message, as Chat wants;
 * reasoning items are dropped (Chat has no way to send them back).
 */
export function itemsToMessages(items: readonly Item[], instructions: string | null): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions !== null && instructions.length > 0) messages.push({ role: "system", content: instructions });
  items.forEach((item, i) => {
    const param = `input[${i}]`;
    switch (item.type) {
      case "message": {
        const role = item.role === "developer" ? "system" : (item.role as string);
        messages.push({ role, content: chatContent(item.content as Item[], role, param) });
        return;
      }
      case "function_call": {
        const call = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
        const last = messages[messages.length - 1];
        if (last !== undefined && last.role === "assistant" && (last.tool_calls !== undefined || i > 0 && items[i - 1].type === "message")) {
          ((last.tool_calls ??= []) as unknown[]).push(call);
        } else {
          messages.push({ role: "assistant", content: null, tool_calls: [call] });
        }
        return;
      }
      case "function_call_output":
        messages.push({ role: "tool", tool_call_id: item.call_id, content: toolOutput(item.output, param) });
        return;
      case "reasoning":
        return;
      case "item_reference":
        throw invalid(`Item with id '${String(item.id)}' not found.`, `${param}.id`);
      default:
        throw invalid(`Input items of type '${String(item.type)}' are not supported by this model's target (it speaks Chat Completions).`, `${param}.type`);
    }
  });
  return messages;
}

function chatTools(tools: unknown): Item[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalid("Invalid 'tools': expected an array.", "tools");
  return tools.map((tool, i) => {
    if (!isObject(tool) || tool.type !== "function") {
      const type = isObject(tool) ? String(tool.type) : typeof tool;
      throw invalid(`Tools of type '${type}' are not supported by this model's target; only function tools are.`, `tools[${i}].type`);
    }
    if (typeof tool.name !== "string") throw invalid(`Missing required parameter: 'tools[${i}].name'.`, `tools[${i}].name`);
    const fn: Item = { name: tool.name };
    if (typeof tool.description === "string") fn.description = tool.description;
    if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = tool.parameters;
    if (typeof tool.strict === "boolean") fn.strict = tool.strict;
    return { type: "function", function: fn };
  });
}

/** Chat's tool_choice; `allowed_tools` narrows the tool list instead (Chat-compatible servers rarely know it). */
function chatToolChoice(choice: unknown, tools: Item[] | undefined): { toolChoice?: unknown; tools?: Item[] } {
  if (choice === undefined || choice === null) return { tools };
  if (choice === "auto" || choice === "none" || choice === "required") return { toolChoice: choice, tools };
  if (isObject(choice) && choice.type === "function" && typeof choice.name === "string") return { toolChoice: { type: "function", function: { name: choice.name } }, tools };
  if (isObject(choice) && choice.type === "allowed_tools" && Array.isArray(choice.tools)) {
    const names = new Set(choice.tools.filter(isObject).map((t) => t.name));
    return { toolChoice: choice.mode === "required" ? "required" : "auto", tools: tools?.filter((t) => names.has((t.function as Item).name)) };
  }
  throw invalid("Invalid 'tool_choice': only auto, none, required, a function or allowed_tools are supported by this model's target.", "tool_choice");
}

function responseFormat(text: unknown): Item | undefined {
  if (!isObject(text) || !isObject(text.format)) return undefined;
  const format = text.format;
  switch (format.type) {
    case "text":
      return undefined;
    case "json_object":
      return { type: "json_object" };
    case "json_schema": {
      if (typeof format.name !== "string") throw invalid("Missing required parameter: 'text.format.name'.", "text.format.name");
      const schema: Item = { name: format.name, schema: format.schema };
      if (typeof format.description === "string") schema.description = format.description;
      if (typeof format.strict === "boolean") schema.strict = format.strict;
      return { type: "json_schema", json_schema: schema };
    }
    default:
      throw invalid(`Invalid 'text.format.type': '${String(format.type)}' is not supported.`, "text.format.type");
  }
}

/** Request fields with no Chat equivalent, refused rather than ignored. */
const UNSUPPORTED: readonly [string, (value: unknown) => boolean][] = [
  ["background", (v) => v === true],
  ["conversation", (v) => v !== undefined && v !== null],
  ["prompt", (v) => v !== undefined && v !== null],
];

/**
 * The Chat Completions body for a Responses request. `items` is the whole conversation, earlier
 * turns first, item references already resolved; `upstreamModel` is the target's model name.
 */
export function responsesToChatRequest(body: Record<string, unknown>, items: readonly Item[], upstreamModel: string): Record<string, unknown> {
  for (const [field, refused] of UNSUPPORTED) {
    if (refused(body[field])) throw invalid(`'${field}' is not supported by this model's target (it speaks Chat Completions).`, field);
  }
  const instructions = body.instructions;
  if (instructions !== undefined && instructions !== null && typeof instructions !== "string") throw invalid("Invalid 'instructions': expected a string.", "instructions");
  const messages = itemsToMessages(items, (instructions as string | null | undefined) ?? null);
  if (messages.length === 0) throw invalid("Missing required parameter: 'input'.", "input");
  const chat: Record<string, unknown> = { model: upstreamModel, messages };
  const { toolChoice, tools } = chatToolChoice(body.tool_choice, chatTools(body.tools));
  if (tools !== undefined && tools.length > 0) chat.tools = tools;
  if (toolChoice !== undefined && chat.tools !== undefined) chat.tool_choice = toolChoice;
  if (typeof body.parallel_tool_calls === "boolean" && chat.tools !== undefined) chat.parallel_tool_calls = body.parallel_tool_calls;
  const format = responseFormat(body.text);
  if (format !== undefined) chat.response_format = format;
  if (typeof body.max_output_tokens === "number") chat.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === "number") chat.temperature = body.temperature;
  if (typeof body.top_p === "number") chat.top_p = body.top_p;
  if (typeof body.top_logprobs === "number") {
    chat.logprobs = true;
    chat.top_logprobs = body.top_logprobs;
  }
  if (isObject(body.reasoning) && typeof body.reasoning.effort === "string") chat.reasoning_effort = body.reasoning.effort;
  const user = typeof body.safety_identifier === "string" ? body.safety_identifier : body.user;
  if (typeof user === "string") chat.user = user;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
