/**
 * The prompt of an Anthropic Messages request, for reservations at admission and the gateway's
 * own count_tokens answer: system, message texts, tool inputs and results, tool definitions,
 * counted with the gateway's BPE counter (Anthropic's tokenizer differs; settlement uses the
 * upstream's real usage). Images count a flat amount each.
 */
import { countTextParts } from "../../limits/tokens";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

const PER_MESSAGE = 3;
/** Anthropic bills about (width × height) / 750 per image, up to ~1,600; a mid value. */
const PER_IMAGE = 800;

function collect(content: unknown, parts: string[]): number {
  if (typeof content === "string") {
    parts.push(content);
    return 0;
  }
  let images = 0;
  for (const block of Array.isArray(content) ? content : []) {
    if (!isObject(block)) continue;
    if (typeof block.text === "string") parts.push(block.text);
    else if (typeof block.thinking === "string") parts.push(block.thinking);
    else if (block.type === "image") images++;
    else if (block.type === "tool_use") parts.push(String(block.name ?? ""), JSON.stringify(block.input ?? {}));
    else if (block.type === "tool_result") images += collect(block.content, parts);
  }
  return images;
}

export function countAnthropicPromptTokens(body: Json): number {
  const parts: string[] = [];
  let overhead = collect(body.system, parts) * PER_IMAGE;
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObject(message)) continue;
    overhead += PER_MESSAGE + collect(message.content, parts) * PER_IMAGE;
  }
  if (body.tools !== undefined) parts.push(JSON.stringify(body.tools));
  return overhead + countTextParts(parts);
}
