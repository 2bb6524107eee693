/**
 * What a request may cost at most, for the budget reservation made at admission: its prompt
 * estimate plus the completion tokens it may produce, priced at the most expensive model that
 * may serve it (the requested model or any fallback the key may use, under any of their
 * targets' upstream names). Pure: the price table is passed in.
 */
import type { PriceTable } from "./pricing";

/** A model that may answer the request, with the upstream names its targets bill under. */
export interface ServableModel {
  readonly name: string;
  upstreamModels: readonly string[];
}

export interface WorstCase {
  /** Integer nano-USD. */
  nano: number;
  /** Models of the chain with no price (and no default price): a budget cannot bound them. */
  unpriced: string[];
}

export function worstCaseNano(prices: PriceTable, promptTokens: number, completionTokens: number, models: readonly ServableModel[]): WorstCase {
  let nano = 0;
  const unpriced: string[] = [];
  for (const { name: model, upstreamModels } of models) {
    const names = upstreamModels.length > 0 ? upstreamModels : [model];
    for (const upstream of names) {
      if (!prices.isPriced(upstream, model)) {
        if (!unpriced.includes(model)) unpriced.push(model);
        continue;
      }
      nano = Math.max(nano, prices.maxCostNano(promptTokens, completionTokens, upstream, model));
    }
  }
  return { nano, unpriced };
}
