/**
 * Usage in the Responses dialect (`input_tokens`, `output_tokens`, `input_tokens_details
 * .cached_tokens`, `output_tokens_details.reasoning_tokens`): read into the gateway's Usage (for
 * limits, budgets and metrics), and made from a Chat Completions usage block when translating.
 * Counts are validated as stream/usage.ts does: a bad number makes the block unusable.
 */
import { MAX_USAGE_TOKENS } from "../../stream/usage";
import type { Usage } from "../../traffic/types";
import { isObject } from "./input-items";

function count(value: unknown): number | null {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), MAX_USAGE_TOKENS);
}

/** An optional detail count: absent or invalid is undefined, capped at its total. */
function detail(holder: unknown, field: string, total: number): number | undefined {
  if (!isObject(holder)) return undefined;
  const value = count(holder[field]);
  return value === null ? undefined : Math.min(value, total);
}

function withDetails(usage: Usage, cached: number | undefined, reasoning: number | undefined): Usage {
  if (cached !== undefined && cached > 0) usage.cachedPromptTokens = cached;
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/** A Responses `usage` object as the gateway's Usage; null when absent or invalid. */
export function usageFromResponses(usage: unknown): Usage | null {
  if (!isObject(usage)) return null;
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  if (input === null || output === null) return null;
  return withDetails({ promptTokens: input, completionTokens: output }, detail(usage.input_tokens_details, "cached_tokens", input), detail(usage.output_tokens_details, "reasoning_tokens", output));
}

/** A Chat Completions `usage` block, details included, as the gateway's Usage; null when unusable. */
export function usageFromChat(usage: unknown): Usage | null {
  if (!isObject(usage)) return null;
  const prompt = count(usage.prompt_tokens ?? 0);
  const completion = usage.completion_tokens !== undefined ? count(usage.completion_tokens) : usage.total_tokens !== undefined && prompt !== null ? Math.max(0, (count(usage.total_tokens) ?? -1) - prompt) : 0;
  if (prompt === null || completion === null || completion < 0) return null;
  // DeepSeek reports cache hits as prompt_cache_hit_tokens rather than in the details.
  const cached = detail(usage.prompt_tokens_details, "cached_tokens", prompt) ?? detail(usage, "prompt_cache_hit_tokens", prompt);
  return withDetails({ promptTokens: prompt, completionTokens: completion }, cached, detail(usage.completion_tokens_details, "reasoning_tokens", completion));
}

/** The gateway's Usage in the Responses shape, as clients read it. */
export function responsesUsage(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}
