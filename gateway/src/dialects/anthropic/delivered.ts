/**
 * The gateway's own count of what an Anthropic answer delivered, for when its usage never came:
 * the text, thinking and tool-input of the content blocks (a buffered message), or the delta
 * fields as they stream past (text_delta, thinking_delta, input_json_delta).
 */
import { countTextTokens } from "../../limits/tokens";
import { fieldKeys } from "../../stream/delta-count";

export const ANTHROPIC_DELTA_FIELDS = fieldKeys(["text", "thinking", "partial_json"]);

/** Completion tokens of a buffered message's content blocks. */
export function deliveredAnthropicTokens(json: Record<string, unknown>): number {
  const texts: string[] = [];
  for (const block of Array.isArray(json.content) ? json.content : []) {
    if (block === null || typeof block !== "object") continue;
    const b = block as Record<string, unknown>;
    if (typeof b.text === "string") texts.push(b.text);
    if (typeof b.thinking === "string") texts.push(b.thinking);
    if (b.type === "tool_use" && b.input !== undefined) texts.push(JSON.stringify(b.input));
  }
  return countTextTokens(texts.join("\n"));
}
