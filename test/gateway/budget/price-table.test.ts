/**
 * The shipped price table: exact names and explicit aliases (never a prefix), cached-input,
 * cache-write and reasoning rates, long-context tiers, and worst-case reservations that no
 * split of the same token counts can exceed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PRICE_SOURCES, PRICE_TABLE_DATE, SHIPPED_ALIASES, SHIPPED_PRICES } from "../../../gateway/src/budget/price-data";
import { maxCostNano, tierOf, usageCostNano } from "../../../gateway/src/budget/price-math";
import { PriceTable } from "../../../gateway/src/budget/pricing";
import { usageFromObject } from "../../../gateway/src/stream/usage";

const M = 1_000_000;
const usd = (nano: number) => nano / 1e9;

describe("shipped price table", () => {
  it("has a date and, per provider, its sources and when they were checked", () => {
    expect(PRICE_TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(PRICE_SOURCES).sort()).toEqual(["anthropic", "deepseek", "google", "openai"]);
    for (const provider of Object.values(PRICE_SOURCES)) {
      expect(provider.sources.length).toBeGreaterThan(0);
      for (const url of provider.sources) expect(url).toMatch(/^https:\/\//);
      expect(provider.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    // One data file, valid JSON, read as is.
    expect(() => JSON.parse(readFileSync(join(__dirname, "../../../gateway/src/budget/prices.json"), "utf8"))).not.toThrow();
  });

  it.each([
    // The families the issue names, each priced as itself.
    ["gpt-5", 1.25, 10], ["gpt-5-mini", 0.25, 2], ["gpt-5-nano", 0.05, 0.4], ["gpt-5.1", 1.25, 10],
    ["o1", 15, 60], ["o3", 2, 8], ["o3-mini", 1.1, 4.4], ["o4-mini", 1.1, 4.4], ["o3-pro", 20, 80],
    ["gpt-4.1", 2, 8], ["gpt-4.1-mini", 0.4, 1.6], ["gpt-4.1-nano", 0.1, 0.4],
    ["gpt-4o", 2.5, 10], ["gpt-4o-mini", 0.15, 0.6],
    ["claude-opus-4-0", 15, 75], ["claude-opus-4-1", 15, 75], ["claude-opus-4-5", 5, 25],
    ["claude-sonnet-4-0", 3, 15], ["claude-sonnet-4-5", 3, 15], ["claude-haiku-4-5", 1, 5],
    ["gemini-2.5-pro", 1.25, 10], ["gemini-2.5-flash", 0.3, 2.5], ["gemini-2.5-flash-lite", 0.1, 0.4],
    ["gemini-3-pro-preview", 2, 12], ["gemini-3-flash-preview", 0.5, 3],
    ["deepseek-chat", 0.28, 0.42], ["deepseek-reasoner", 0.28, 0.42], ["deepseek-r1", 0.55, 2.19], ["deepseek-v3.1", 0.56, 1.68],
    ["text-embedding-3-small", 0.02, 0], ["text-embedding-3-large", 0.13, 0], ["gemini-embedding-001", 0.15, 0],
  ])("%s: $%d in, $%d out per MTok", (name, input, output) => {
    const price = new PriceTable().priceOf(name as string);
    expect(price).toMatchObject({ inputPerMTok: input, outputPerMTok: output });
  });

  it("never prices by prefix: nano and mini are themselves, unknown suffixes are unpriced", () => {
    const prices = new PriceTable();
    // The old prefix match priced gpt-4.1-nano as gpt-4.1 (20x) and flash-lite as flash.
    expect(usd(prices.usageCostNano({ promptTokens: M, completionTokens: M }, "gpt-4.1-nano"))).toBeCloseTo(0.5, 9);
    expect(usd(prices.usageCostNano({ promptTokens: M, completionTokens: M }, "gemini-2.5-flash-lite"))).toBeCloseTo(0.5, 9);
    expect(prices.isPriced("gpt-4.1-experimental")).toBe(false);
    expect(prices.isPriced("gpt-4o-2099-01-01")).toBe(false);
    expect(prices.isPriced("claude-sonnet-4-5-whatever")).toBe(false);
  });

  it("prices dated snapshots through explicit aliases, each alias naming a shipped model", () => {
    const prices = new PriceTable();
    expect(prices.priceOf("gpt-4.1-nano-2025-04-14")).toBe(SHIPPED_PRICES.get("gpt-4.1-nano"));
    expect(prices.priceOf("claude-sonnet-4-5-20250929")).toBe(SHIPPED_PRICES.get("claude-sonnet-4-5"));
    expect(prices.priceOf("gpt-5-2025-08-07")).toBe(SHIPPED_PRICES.get("gpt-5"));
    // The first gpt-4o snapshot had its own, higher price: listed apart, not an alias.
    expect(prices.priceOf("gpt-4o-2024-05-13")).toMatchObject({ inputPerMTok: 5, outputPerMTok: 15 });
    for (const [alias, name] of SHIPPED_ALIASES) {
      expect(SHIPPED_PRICES.has(name)).toBe(true);
      expect(SHIPPED_PRICES.has(alias)).toBe(false);
    }
  });

  it("prices every rate a provider lists: cheaper cached input on all of them, cache writes on Anthropic", () => {
    for (const [name, price] of SHIPPED_PRICES) {
      if (price.cachedInputPerMTok !== undefined) expect(price.cachedInputPerMTok).toBeLessThan(price.inputPerMTok);
      if (name.startsWith("claude-")) expect(price.cacheWritePerMTok).toBeCloseTo(price.inputPerMTok * 1.25, 9);
    }
  });
});

describe("price arithmetic", () => {
  const gpt5 = SHIPPED_PRICES.get("gpt-5")!;
  const sonnet = SHIPPED_PRICES.get("claude-sonnet-4-5")!;

  it("prices cached input at the cached rate and the rest at the input rate", () => {
    // 1M prompt of which 800k cached: 200k × $1.25 + 800k × $0.125 = $0.35; 100k out × $10 = $1.
    expect(usd(usageCostNano(gpt5, { promptTokens: M, cachedPromptTokens: 800_000, completionTokens: 100_000 }))).toBeCloseTo(1.35, 9);
  });

  it("prices cache writes at the write rate and reasoning at the output rate unless set apart", () => {
    // Of 150k in: 50k written ($3.75/MTok), 50k read ($0.30), 50k plain ($3); 100k out ($15).
    expect(usd(usageCostNano(sonnet, { promptTokens: 150_000, cacheWriteTokens: 50_000, cachedPromptTokens: 50_000, completionTokens: 100_000 }))).toBeCloseTo(0.1875 + 0.015 + 0.15 + 1.5, 9);
    const reasoningApart = { inputPerMTok: 1, outputPerMTok: 2, reasoningPerMTok: 10 };
    expect(usd(usageCostNano(reasoningApart, { promptTokens: 0, completionTokens: M, reasoningTokens: 250_000 }))).toBeCloseTo(0.75 * 2 + 0.25 * 10, 9);
    expect(usd(usageCostNano(gpt5, { promptTokens: 0, completionTokens: M, reasoningTokens: 900_000 }))).toBeCloseTo(10, 9);
  });

  it("clamps subsets to their totals (a bad usage block cannot price below zero)", () => {
    expect(usageCostNano(gpt5, { promptTokens: 10, cachedPromptTokens: 50, completionTokens: 10, reasoningTokens: 99 })).toBe(10 * 125 + 10 * 10_000);
  });

  it("switches the whole request to the long-context tier above its threshold", () => {
    expect(tierOf(sonnet, 200_000)).toBe(sonnet);
    expect(tierOf(sonnet, 200_001)).toBe(sonnet.longContext);
    expect(usd(usageCostNano(sonnet, { promptTokens: 250_000, completionTokens: 10_000 }))).toBeCloseTo(0.25 * 6 + 0.01 * 22.5, 9);
  });

  it("reserves at least what any split of the same counts can cost", () => {
    const opus = SHIPPED_PRICES.get("claude-opus-4-5")!;
    for (const price of [gpt5, sonnet, opus, { inputPerMTok: 1, outputPerMTok: 2, reasoningPerMTok: 10 }]) {
      for (const prompt of [0, 1_000, 199_999, 250_000]) {
        const worst = maxCostNano(price, prompt, 4_096);
        for (const split of [{}, { cacheWriteTokens: prompt }, { cachedPromptTokens: prompt }, { reasoningTokens: 4_096 }, { cacheWriteTokens: prompt, reasoningTokens: 4_096 }]) {
          expect(usageCostNano(price, { promptTokens: prompt, completionTokens: 4_096, ...split })).toBeLessThanOrEqual(worst + 1e-6);
        }
      }
    }
    // All-cache-write is the dearest Anthropic input: 1k × $6.25 + 4096 × $25.
    expect(maxCostNano(opus, 1_000, 4_096)).toBeCloseTo(1_000 * 6_250 + 4_096 * 25_000, 3);
  });
});

describe("usage subsets read from OpenAI usage blocks", () => {
  it("reads cached and reasoning tokens, and DeepSeek's cache hits", () => {
    expect(usageFromObject({ prompt_tokens: 100, completion_tokens: 50, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 30 } })).toEqual({
      promptTokens: 100,
      completionTokens: 50,
      cachedPromptTokens: 64,
      reasoningTokens: 30,
    });
    expect(usageFromObject({ prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 40, prompt_cache_miss_tokens: 60 })).toEqual({ promptTokens: 100, completionTokens: 5, cachedPromptTokens: 40 });
  });

  it("ignores invalid subsets without losing the block, and caps them at their totals", () => {
    expect(usageFromObject({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: "lots" }, completion_tokens_details: { reasoning_tokens: -3 } })).toEqual({ promptTokens: 10, completionTokens: 5 });
    expect(usageFromObject({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1e9 }, completion_tokens_details: null })).toEqual({ promptTokens: 10, completionTokens: 5, cachedPromptTokens: 10 });
  });
});
