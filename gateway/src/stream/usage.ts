/**
 * Reads OpenAI `usage` blocks (chat, completions, embeddings) into the gateway's Usage, with
 * the cached part of the prompt (`prompt_tokens_details.cached_tokens`, or DeepSeek's
 * `prompt_cache_hit_tokens`) and the reasoning part of the completion
 * (`completion_tokens_details.reasoning_tokens`).
 * An upstream's numbers are validated: a count must be a finite non-negative number (strings,
 * negatives and NaN make the block unusable, and the gateway charges its own estimate instead);
 * fractions are rounded and counts are capped, so one bad reply cannot bill an absurd amount.
 */
import type { Usage } from "../traffic/types";

/** More tokens than any model reads or writes in one request. */
export const MAX_USAGE_TOKENS = 10_000_000;

/** A valid count, rounded and capped; null when the value is not a count at all. */
function count(value: unknown): number | null {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), MAX_USAGE_TOKENS);
}

export function usageFromObject(usage: unknown): Usage | null {
  if (usage === null || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  if (u.prompt_tokens === undefined && u.completion_tokens === undefined && u.total_tokens === undefined) return null;
  const prompt = u.prompt_tokens === undefined ? 0 : count(u.prompt_tokens);
  const completion = u.completion_tokens !== undefined ? count(u.completion_tokens) : u.total_tokens !== undefined ? subtract(count(u.total_tokens), prompt) : 0;
  if (prompt === null || completion === null) return null;
  const read: Usage = { promptTokens: prompt, completionTokens: completion };
  // Subsets priced apart; an invalid one is ignored (priced at the full rate), never the block.
  const cached = subsetOf(detail(u.prompt_tokens_details, "cached_tokens") ?? u.prompt_cache_hit_tokens, prompt);
  if (cached > 0) read.cachedPromptTokens = cached;
  const reasoning = subsetOf(detail(u.completion_tokens_details, "reasoning_tokens"), completion);
  if (reasoning > 0) read.reasoningTokens = reasoning;
  return read;
}

/** `details[field]` when details is an object (OpenAI's `*_tokens_details`). */
function detail(details: unknown, field: string): unknown {
  return details !== null && typeof details === "object" ? (details as Record<string, unknown>)[field] : undefined;
}

/** A count that is part of `total`: at most `total`, 0 when missing or invalid. */
function subsetOf(value: unknown, total: number): number {
  return Math.min(count(value) ?? 0, total);
}

function subtract(total: number | null, prompt: number | null): number | null {
  return total === null || prompt === null ? null : Math.max(0, total - prompt);
}

/**
 * The usage of a generating answer (chat, completions, their streams): a block that counts the
 * prompt alone (some servers send one first) says nothing about the output, so it is not usable:
 * read as 0 completion tokens it would bill nothing for what was delivered. Embeddings have no
 * completion and read their blocks with usageFromObject.
 */
export function generationUsageFromObject(usage: unknown): Usage | null {
  if (usage === null || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  if (u.completion_tokens === undefined && u.total_tokens === undefined) return null;
  return usageFromObject(usage);
}
