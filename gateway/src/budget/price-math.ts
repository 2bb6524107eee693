/**
 * Price arithmetic, pure: what one usage block costs at one price, and the most a request of a
 * given size can cost. Money is integer nano-USD (1e-9 $): a price per million tokens is
 * exactly 1,000 nano-USD per token per $1/MTok.
 */
import type { PriceConfig } from "../config/schema";
import type { Usage } from "../traffic/types";

const NANO_PER_TOKEN_PER_USD_PER_MTOK = 1_000;

/** The rates that apply to a request with `promptTokens` of input (the long-context tier above its threshold). */
export function tierOf(price: PriceConfig, promptTokens: number): Omit<PriceConfig, "longContext"> {
  const long = price.longContext;
  return long && promptTokens > long.aboveTokens ? long : price;
}

/** Splits a usage block into what each rate applies to; subsets are clamped to their totals. */
export function usageParts(usage: Usage): { input: number; cached: number; cacheWrite: number; output: number; reasoning: number } {
  const prompt = Math.max(0, usage.promptTokens);
  const cached = Math.min(prompt, Math.max(0, usage.cachedPromptTokens ?? 0));
  const cacheWrite = Math.min(prompt - cached, Math.max(0, usage.cacheWriteTokens ?? 0));
  const completion = Math.max(0, usage.completionTokens);
  const reasoning = Math.min(completion, Math.max(0, usage.reasoningTokens ?? 0));
  return { input: prompt - cached - cacheWrite, cached, cacheWrite, output: completion - reasoning, reasoning };
}

/**
 * The cost of `usage` at `price`, in nano-USD (not rounded). Cached input falls back to the
 * input rate, cache writes to the input rate, reasoning to the output rate, where the price sets none.
 * The parts as usageParts() splits them, computed in place (this runs at every priced settlement).
 */
export function usageCostNano(price: PriceConfig, usage: Usage): number {
  const rate = tierOf(price, usage.promptTokens);
  const prompt = Math.max(0, usage.promptTokens);
  const cached = Math.min(prompt, Math.max(0, usage.cachedPromptTokens ?? 0));
  const cacheWrite = Math.min(prompt - cached, Math.max(0, usage.cacheWriteTokens ?? 0));
  const completion = Math.max(0, usage.completionTokens);
  const reasoning = Math.min(completion, Math.max(0, usage.reasoningTokens ?? 0));
  const usd =
    (prompt - cached - cacheWrite) * rate.inputPerMTok +
    cached * (rate.cachedInputPerMTok ?? rate.inputPerMTok) +
    cacheWrite * (rate.cacheWritePerMTok ?? rate.inputPerMTok) +
    (completion - reasoning) * rate.outputPerMTok +
    reasoning * (rate.reasoningPerMTok ?? rate.outputPerMTok);
  return usd * NANO_PER_TOKEN_PER_USD_PER_MTOK;
}

/** The most `promptTokens` in and `completionTokens` out can cost at one tier's rates. */
function worstAtRate(rate: Omit<PriceConfig, "longContext">, promptTokens: number, completionTokens: number): number {
  const input = Math.max(rate.inputPerMTok, rate.cachedInputPerMTok ?? 0, rate.cacheWritePerMTok ?? 0);
  const output = Math.max(rate.outputPerMTok, rate.reasoningPerMTok ?? 0);
  return (promptTokens * input + completionTokens * output) * NANO_PER_TOKEN_PER_USD_PER_MTOK;
}

/**
 * The most `promptTokens` in and `completionTokens` out can cost at `price`, whatever the split
 * into cached, cache-write and reasoning tokens turns out to be: every input token at the dearest
 * input rate, every output token at the dearest output rate, in the tier the prompt size selects
 * (and never below the base tier).
 */
export function maxCostNano(price: PriceConfig, promptTokens: number, completionTokens: number): number {
  const base = worstAtRate(price, promptTokens, completionTokens);
  const tier = tierOf(price, promptTokens);
  return Math.max(0, base, tier === price ? 0 : worstAtRate(tier, promptTokens, completionTokens));
}
