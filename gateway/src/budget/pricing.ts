/**
 * The price table the gateway charges with: the shipped table (./prices.json, exact names and
 * explicit aliases) under the config's `pricing:` entries, and `pricing.default` for every
 * other model when set. Never priced by prefix: `gpt-4.1-nano` is not `gpt-4.1`.
 * Money is counted in integer nano-USD (1e-9 $), exact in Redis INCRBY and in Lua doubles up
 * to $9M.
 */
import type { PriceConfig } from "../config/schema";
import { MAX_SETTLE_NANO } from "../limits/store";
import type { Usage } from "../traffic/types";
import { usageCostNano } from "./price-math";
import { SHIPPED_ALIASES, SHIPPED_PRICES } from "./price-data";

/** Every shipped name, aliases included, with its price (documentation and tests). */
export const DEFAULT_PRICES: Readonly<Record<string, PriceConfig>> = Object.fromEntries([
  ...SHIPPED_PRICES,
  ...[...SHIPPED_ALIASES].map(([alias, name]) => [alias, SHIPPED_PRICES.get(name)!] as const),
]);

/** `pricing.default`: the price of every model with none of its own (unset: such models are unpriced). */
export const DEFAULT_PRICE_NAME = "default";

/** A nano-USD amount as a settlement may carry it: whole, finite, within [0, $1M]. */
export function clampNano(nano: number): number {
  const rounded = Math.round(nano);
  return Number.isFinite(rounded) ? Math.min(Math.max(0, rounded), MAX_SETTLE_NANO) : 0;
}

export class PriceTable {
  private readonly overrides: Map<string, PriceConfig>;
  private readonly resolved = new Map<string, PriceConfig | null>();
  private readonly warned = new Set<string>();

  constructor(overrides: Record<string, PriceConfig> = {}, private readonly onUnknown: (model: string) => void = () => undefined) {
    this.overrides = new Map(Object.entries(overrides));
  }

  /** True when one of the names has a price (its own, its alias's, or the `default` entry). Two names at most: no array per call. */
  isPriced(first: string, second?: string): boolean {
    return this.lookup(first) !== null || (second !== undefined && this.lookup(second) !== null) || this.overrides.has(DEFAULT_PRICE_NAME);
  }

  /**
   * The first of the names with a price (callers pass the upstream, billed name first, then the
   * model pool's), else `pricing.default`, else null (reported once per name).
   */
  priceOf(first: string, second?: string): PriceConfig | null {
    const price = this.lookup(first) ?? (second !== undefined ? this.lookup(second) : null);
    if (price) return price;
    const fallback = this.overrides.get(DEFAULT_PRICE_NAME);
    if (fallback) return fallback;
    if (!this.warned.has(first)) {
      this.warned.add(first);
      this.onUnknown(first);
    }
    return null;
  }

  /** Config entry by exact name, then the shipped entry by exact name, then by alias (a config entry for the canonical name wins). */
  private lookup(model: string): PriceConfig | null {
    const cached = this.resolved.get(model);
    if (cached !== undefined) return cached;
    let found = this.overrides.get(model) ?? SHIPPED_PRICES.get(model) ?? null;
    if (!found) {
      const canonical = SHIPPED_ALIASES.get(model);
      if (canonical !== undefined) found = this.overrides.get(canonical) ?? SHIPPED_PRICES.get(canonical) ?? null;
    }
    // Bounded: only configured model and target names reach here, plus names upstreams report.
    if (this.resolved.size < 10_000) this.resolved.set(model, found);
    return found;
  }

  /**
   * What `usage` costs, in integer nano-USD, at the first priced name: cached input, cache writes
   * and reasoning at their own rates where the price has them. Unknown models cost 0 (logged
   * once: budgeted keys never reach one, admission refuses them). Capped at $1M per request.
   */
  usageCostNano(usage: Usage, first: string, second?: string): number {
    const price = this.priceOf(first, second);
    return price ? clampNano(usageCostNano(price, usage)) : 0;
  }
}

export function usdToNano(usd: number): number {
  return Math.round(usd * 1e9);
}
