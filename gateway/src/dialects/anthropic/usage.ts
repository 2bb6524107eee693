/**
 * Anthropic's `usage` blocks in the gateway's Usage: input tokens exclude cache reads and writes
 * there, so the prompt is all three (cache reads → cachedPromptTokens, cache writes →
 * cacheWriteTokens). Counts are validated as OpenAI's are (see stream/usage.ts). In a stream,
 * message_start carries the input side and message_delta the cumulative output (and, on newer
 * API versions, input again): `mergeAnthropicUsage` keeps the latest of each field.
 */
import { MAX_USAGE_TOKENS } from "../../stream/usage";
import type { Usage } from "../../traffic/types";

/** The raw counts as Anthropic names them; undefined where absent, null where invalid. */
export interface AnthropicUsageCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

const FIELDS = ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] as const;

function count(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
  return Math.min(Math.round(value), MAX_USAGE_TOKENS);
}

/** The counts of a usage block (merged over `into`, newer fields winning). */
export function mergeAnthropicUsage(into: AnthropicUsageCounts, usage: unknown): AnthropicUsageCounts {
  if (usage === null || typeof usage !== "object") return into;
  const u = usage as Record<string, unknown>;
  for (const field of FIELDS) {
    const value = count(u[field]);
    if (value !== undefined) into[field] = value;
  }
  return into;
}

/** The gateway's Usage for the counts; null when there are none, or one is invalid. */
export function usageFromAnthropicCounts(c: AnthropicUsageCounts): Usage | null {
  if (c.input_tokens === undefined && c.output_tokens === undefined) return null;
  if (FIELDS.some((field) => c[field] === null)) return null;
  const cacheWrite = c.cache_creation_input_tokens ?? 0;
  const cacheRead = c.cache_read_input_tokens ?? 0;
  const usage: Usage = { promptTokens: (c.input_tokens ?? 0) + cacheWrite + cacheRead, completionTokens: c.output_tokens ?? 0 };
  if (cacheRead > 0) usage.cachedPromptTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  return usage;
}

export function usageFromAnthropic(usage: unknown): Usage | null {
  return usageFromAnthropicCounts(mergeAnthropicUsage({}, usage));
}

/** The gateway's Usage as Anthropic reports it (input excludes cache reads and writes). */
export function anthropicUsageOf(usage: Usage): Required<AnthropicUsageCounts> {
  const cacheRead = usage.cachedPromptTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.promptTokens - cacheRead - cacheWrite),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}
