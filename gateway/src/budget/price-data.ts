/**
 * The shipped price table (./prices.json: one entry per model, with the provider's dated
 * snapshots and alternate ids as explicit aliases, and the date and sources per provider),
 * flattened to name → price. Names are matched exactly; nothing is priced by prefix.
 */
import type { PriceConfig } from "../config/schema";
import table from "./prices.json";

interface ShippedEntry extends PriceConfig {
  aliases?: string[];
}

interface ShippedProvider {
  sources: string[];
  checked: string;
  models: Record<string, ShippedEntry>;
}

/** The table's own date (when the figures were last compared with the providers' pages). */
export const PRICE_TABLE_DATE: string = table.date;

/** Per provider: where the figures come from and when they were checked. */
export const PRICE_SOURCES: Readonly<Record<string, { sources: readonly string[]; checked: string }>> = Object.fromEntries(
  Object.entries(table.providers as Record<string, ShippedProvider>).map(([name, p]) => [name, { sources: p.sources, checked: p.checked }]),
);

function flatten(): { prices: Map<string, PriceConfig>; aliases: Map<string, string> } {
  const prices = new Map<string, PriceConfig>();
  const aliases = new Map<string, string>();
  for (const provider of Object.values(table.providers as Record<string, ShippedProvider>)) {
    for (const [name, entry] of Object.entries(provider.models)) {
      const { aliases: names = [], ...price } = entry;
      if (prices.has(name) || aliases.has(name)) throw new Error(`prices.json: "${name}" is listed twice`);
      prices.set(name, price);
      for (const alias of names) {
        if (prices.has(alias) || aliases.has(alias)) throw new Error(`prices.json: alias "${alias}" is listed twice`);
        aliases.set(alias, name);
      }
    }
  }
  for (const alias of aliases.keys()) if (prices.has(alias)) throw new Error(`prices.json: "${alias}" is both a model and an alias`);
  return { prices, aliases };
}

const shipped = flatten();

/** Canonical model name → price. */
export const SHIPPED_PRICES: ReadonlyMap<string, PriceConfig> = shipped.prices;
/** Alias (dated snapshot, alternate id) → canonical model name. */
export const SHIPPED_ALIASES: ReadonlyMap<string, string> = shipped.aliases;
