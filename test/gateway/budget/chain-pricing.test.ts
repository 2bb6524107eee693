/**
 * The budget reservation's arithmetic, rewritten to allocate nothing per request, against the
 * formulas it replaced, on seeded random prices, chains and sizes: a chain's prices worked out
 * once (ChainPricing) give the reservation the per-request walk over every (model, upstream name)
 * gave, with the same unpriced models; the cost of a usage block and the worst case of a request
 * size computed in place equal the split-then-price versions.
 */
import type { PriceConfig } from "../../../gateway/src/config/schema";
import { maxCostNano, tierOf, usageCostNano, usageParts } from "../../../gateway/src/budget/price-math";
import { clampNano, PriceTable } from "../../../gateway/src/budget/pricing";
import { chainPrices, ChainPricing, worstOfChain, type ServableModel } from "../../../gateway/src/budget/worst-case";
import type { Usage } from "../../../gateway/src/traffic/types";
import { seededRandom } from "../../helpers/seeded-random";

type Random = () => number;
const int = (random: Random, max: number): number => Math.floor(random() * (max + 1));
const maybe = (random: Random, value: number): number | undefined => (random() < 0.5 ? value : undefined);

function randomPrice(random: Random): PriceConfig {
  const rates = () => ({
    inputPerMTok: int(random, 3000) / 100,
    outputPerMTok: int(random, 9000) / 100,
    cachedInputPerMTok: maybe(random, int(random, 400) / 100),
    cacheWritePerMTok: maybe(random, int(random, 5000) / 100),
    reasoningPerMTok: maybe(random, int(random, 12000) / 100),
  });
  const base = rates();
  return random() < 0.3 ? { ...base, longContext: { aboveTokens: int(random, 300_000), ...rates() } } : base;
}

/** The split-then-price formula usageCostNano replaced (usageParts is the reference split). */
function referenceUsageCost(price: PriceConfig, usage: Usage): number {
  const rate = tierOf(price, usage.promptTokens);
  const parts = usageParts(usage);
  const usd =
    parts.input * rate.inputPerMTok +
    parts.cached * (rate.cachedInputPerMTok ?? rate.inputPerMTok) +
    parts.cacheWrite * (rate.cacheWritePerMTok ?? rate.inputPerMTok) +
    parts.output * rate.outputPerMTok +
    parts.reasoning * (rate.reasoningPerMTok ?? rate.outputPerMTok);
  return usd * 1_000;
}

/** The array-of-tiers formula maxCostNano replaced. */
function referenceMaxCost(price: PriceConfig, prompt: number, completion: number): number {
  let worst = 0;
  for (const rate of [price, tierOf(price, prompt)]) {
    const input = Math.max(rate.inputPerMTok, rate.cachedInputPerMTok ?? 0, rate.cacheWritePerMTok ?? 0);
    const output = Math.max(rate.outputPerMTok, rate.reasoningPerMTok ?? 0);
    worst = Math.max(worst, (prompt * input + completion * output) * 1_000);
  }
  return worst;
}

/** The per-request walk the reservation made before chains were priced once. */
function referenceWorstCase(prices: PriceTable, prompt: number, completion: number, models: readonly ServableModel[]): { nano: number; unpriced: string[] } {
  let nano = 0;
  const unpriced: string[] = [];
  for (const { name: model, upstreamModels } of models) {
    for (const upstream of upstreamModels.length > 0 ? upstreamModels : [model]) {
      if (!prices.isPriced(upstream, model)) {
        if (!unpriced.includes(model)) unpriced.push(model);
        continue;
      }
      nano = Math.max(nano, clampNano(maxCostNano(prices.priceOf(upstream, model)!, prompt, completion)));
    }
  }
  return { nano, unpriced };
}

describe("budget reservation arithmetic, without per-request allocation", () => {
  it("prices usage and the worst case exactly as the formulas it replaced", () => {
    for (let seed = 1; seed <= 3_000; seed++) {
      const random = seededRandom(seed);
      const price = randomPrice(random);
      const prompt = int(random, 400_000);
      const completion = int(random, 70_000);
      const usage: Usage = { promptTokens: prompt, completionTokens: completion, cachedPromptTokens: maybe(random, int(random, prompt + 10)), cacheWriteTokens: maybe(random, int(random, prompt + 10)), reasoningTokens: maybe(random, int(random, completion + 10)) };
      expect({ seed, cost: usageCostNano(price, usage) }).toEqual({ seed, cost: referenceUsageCost(price, usage) });
      expect({ seed, worst: maxCostNano(price, prompt, completion) }).toEqual({ seed, worst: referenceMaxCost(price, prompt, completion) });
    }
  });

  it("reserves what the per-request walk reserved, with the same unpriced models, from prices worked out once per chain", () => {
    const names = ["a", "b", "c", "d", "gpt-4o-mini", "claude-sonnet-4-5", "mystery", "up-1", "up-2"];
    for (let seed = 1; seed <= 2_000; seed++) {
      const random = seededRandom(seed);
      const overrides: Record<string, PriceConfig> = {};
      for (const name of names) if (random() < 0.35) overrides[name] = randomPrice(random);
      if (random() < 0.2) overrides.default = randomPrice(random);
      const prices = new PriceTable(overrides);
      const chain: ServableModel[] = Array.from({ length: 1 + int(random, 3) }, () => ({
        name: names[int(random, names.length - 1)],
        upstreamModels: Array.from({ length: int(random, 2) }, () => names[int(random, names.length - 1)]),
      }));
      const pricing = new ChainPricing(prices);
      for (let i = 0; i < 3; i++) {
        const prompt = int(random, 300_000);
        const completion = int(random, 40_000);
        const want = referenceWorstCase(prices, prompt, completion, chain);
        const cached = pricing.of(chain);
        expect(pricing.of(chain)).toBe(cached); // once per chain
        expect({ seed, nano: worstOfChain(cached, prompt, completion), unpriced: cached.unpriced }).toEqual({ seed, ...want });
        const fresh = chainPrices(prices, chain);
        expect({ seed, nano: worstOfChain(fresh, prompt, completion), unpriced: fresh.unpriced }).toEqual({ seed, ...want });
      }
    }
  });
});
