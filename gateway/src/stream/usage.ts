/** Reads OpenAI `usage` blocks (chat, completions, embeddings) into the gateway's Usage. */
import type { Usage } from "../traffic/types";

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

export function usageFromObject(usage: unknown): Usage | null {
  if (usage === null || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  if (u.prompt_tokens === undefined && u.completion_tokens === undefined && u.total_tokens === undefined) return null;
  const prompt = count(u.prompt_tokens);
  const completion = u.completion_tokens !== undefined ? count(u.completion_tokens) : Math.max(0, count(u.total_tokens) - prompt);
  return { promptTokens: prompt, completionTokens: completion };
}
