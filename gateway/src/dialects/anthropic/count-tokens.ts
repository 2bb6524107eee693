/**
 * POST /v1/messages/count_tokens for a model with no native Anthropic target: the gateway answers
 * with its own count (`{"input_tokens":N}`), as nothing upstream speaks the endpoint. A model with
 * an Anthropic target has it passed through for Anthropic's exact count.
 */
import type { ModelPool } from "../../routing/router";
import { countAnthropicPromptTokens } from "./estimate";

export function localCountTokens(body: Record<string, unknown>, chain: readonly ModelPool[]): Buffer | null {
  const native = chain[0]?.targets.some((target) => target.config.provider === "anthropic");
  return native ? null : Buffer.from(JSON.stringify({ input_tokens: countAnthropicPromptTokens(body) }));
}
