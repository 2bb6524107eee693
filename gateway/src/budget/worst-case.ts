/**
 * What a request may cost at most, for the budget reservation made at admission: its prompt
 * estimate plus the completion tokens it may produce, priced at the most expensive model that
 * may serve it (the requested model or any fallback the key may use, under any of their
 * targets' upstream names). Pure: the price table is passed in.
 *
 * Which prices a chain of models can be billed at, and which of its models have none, depend on
 * the chain and the price table only: ChainPricing works them out once per chain (a model pool's
 * chain is one array for as long as the config is loaded) instead of at every admission.
 */
import type { PriceConfig } from "../config/schema";
import { maxCostNano } from "./price-math";
import { clampNano, type PriceTable } from "./pricing";

/** A model that may answer the request, with the upstream names its targets bill under. */
export interface ServableModel {
  readonly name: string;
  upstreamModels: readonly string[];
}

/** The distinct prices a chain may be billed at, and its models with none. */
export interface ChainPrices {
  readonly prices: readonly PriceConfig[];
  /** Models of the chain with no price (and no default price): a budget cannot bound them. */
  readonly unpriced: string[];
}

export function chainPrices(prices: PriceTable, models: readonly ServableModel[]): ChainPrices {
  const found: PriceConfig[] = [];
  const unpriced: string[] = [];
  for (const { name: model, upstreamModels } of models) {
    const names = upstreamModels.length > 0 ? upstreamModels : [model];
    for (const upstream of names) {
      if (!prices.isPriced(upstream, model)) {
        if (!unpriced.includes(model)) unpriced.push(model);
        continue;
      }
      const price = prices.priceOf(upstream, model)!;
      if (!found.includes(price)) found.push(price);
    }
  }
  return { prices: found, unpriced };
}

/** The reservation for a request of this size against a chain's prices: the dearest of them, whole nano-USD. */
export function worstOfChain(chain: ChainPrices, promptTokens: number, completionTokens: number): number {
  let nano = 0;
  const prices = chain.prices;
  for (let i = 0; i < prices.length; i++) nano = Math.max(nano, clampNano(maxCostNano(prices[i], promptTokens, completionTokens)));
  return nano;
}

/** chainPrices() per chain array, for one price table (a reload's new table gets a new ChainPricing). */
export class ChainPricing {
  private readonly byChain = new WeakMap<readonly ServableModel[], ChainPrices>();

  constructor(readonly prices: PriceTable) {}

  of(models: readonly ServableModel[]): ChainPrices {
    let found = this.byChain.get(models);
    if (found === undefined) {
      found = chainPrices(this.prices, models);
      this.byChain.set(models, found);
    }
    return found;
  }
}
