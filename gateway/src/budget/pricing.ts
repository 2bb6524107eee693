/**
 * The price table: USD per million tokens, input and output, by model. The shipped figures are
 * examples taken from public list prices at the time of writing; set `pricing:` in config to
 * your real ones. Money is counted in integer nano-USD (1e-9 $), exact in Redis INCRBY and in
 * Lua doubles up to $9M.
 */
import type { PriceConfig } from "../config/schema";
import { MAX_SETTLE_NANO } from "../limits/store";

export const DEFAULT_PRICES: Readonly<Record<string, PriceConfig>> = {
  "gpt-4.1": { inputPerMTok: 2, outputPerMTok: 8 },
  "gpt-4.1-mini": { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  "gpt-4o": { inputPerMTok: 2.5, outputPerMTok: 10 },
  "gpt-4o-mini": { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  "text-embedding-3-small": { inputPerMTok: 0.02, outputPerMTok: 0 },
  "text-embedding-3-large": { inputPerMTok: 0.13, outputPerMTok: 0 },
  "claude-sonnet-4.5": { inputPerMTok: 3, outputPerMTok: 15 },
  "claude-sonnet-4-5": { inputPerMTok: 3, outputPerMTok: 15 },
  "gemini-2.5-flash": { inputPerMTok: 0.3, outputPerMTok: 2.5 },
  "gemini-2.5-pro": { inputPerMTok: 1.25, outputPerMTok: 10 },
  "deepseek-v3.2": { inputPerMTok: 0.28, outputPerMTok: 0.42 },
  "deepseek-chat": { inputPerMTok: 0.28, outputPerMTok: 0.42 },
};

/** `pricing.default`: the price of every model with none of its own (unset: such models are unpriced). */
export const DEFAULT_PRICE_NAME = "default";

/** Nano-USD per token for a price per million tokens. */
const NANO_PER_TOKEN_PER_USD_PER_MTOK = 1_000;

export class PriceTable {
  private readonly prices: Map<string, PriceConfig>;
  private readonly resolved = new Map<string, PriceConfig | null>();
  private readonly warned = new Set<string>();

  constructor(overrides: Record<string, PriceConfig> = {}, private readonly onUnknown: (model: string) => void = () => undefined) {
    this.prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
  }

  /** True when one of the names has a price (its own, a prefix's, or the `default` entry). */
  isPriced(...models: string[]): boolean {
    return models.some((model) => this.lookup(model) !== null) || this.prices.has(DEFAULT_PRICE_NAME);
  }

  /**
   * Exact name first, then the longest known name the model extends with `-` (so
   * `gpt-4o-2024-08-06` prices as `gpt-4o`). Tries the upstream (billed) name, then the client's.
   */
  priceOf(...models: string[]): PriceConfig | null {
    for (const model of models) {
      const price = this.lookup(model);
      if (price) return price;
    }
    const fallback = this.prices.get(DEFAULT_PRICE_NAME);
    if (fallback) return fallback;
    const name = models[0];
    if (name !== undefined && !this.warned.has(name)) {
      this.warned.add(name);
      this.onUnknown(name);
    }
    return null;
  }

  private lookup(model: string): PriceConfig | null {
    const cached = this.resolved.get(model);
    if (cached !== undefined) return cached;
    let found = this.prices.get(model) ?? null;
    if (!found) {
      let best = "";
      for (const name of this.prices.keys()) {
        if (name.length > best.length && model.startsWith(`${name}-`)) best = name;
      }
      found = best ? (this.prices.get(best) ?? null) : null;
    }
    this.resolved.set(model, found);
    return found;
  }

  /**
   * Cost in integer nano-USD; unknown models cost 0 (and are logged once: budgeted keys never
   * reach one, admission refuses them). Capped so no usage block can bill more than $1M at once.
   */
  costNano(promptTokens: number, completionTokens: number, ...models: string[]): number {
    const price = this.priceOf(...models);
    if (!price) return 0;
    const nano = Math.round((promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok) * NANO_PER_TOKEN_PER_USD_PER_MTOK);
    return Number.isFinite(nano) ? Math.min(Math.max(0, nano), MAX_SETTLE_NANO) : 0;
  }
}

export function usdToNano(usd: number): number {
  return Math.round(usd * 1e9);
}
