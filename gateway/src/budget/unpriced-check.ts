/**
 * The start-up check behind "unpriced models fail closed": every key with a budget (its own,
 * its plan's or its team's) that can reach a model with no price, directly or as a fallback.
 * Admission refuses such a model for such a key (or drops it from the fallback chain); this
 * warns the operator before a client finds out.
 */
import { effectiveLimits } from "../auth/plans";
import type { GatewayConfig } from "../config/schema";
import type { PriceTable } from "./pricing";

export interface UnpricedReach {
  key: string;
  models: string[];
}

export function budgetedKeysReachingUnpriced(config: GatewayConfig, prices: PriceTable): UnpricedReach[] {
  const unpriced = new Set(
    config.models.filter((m) => !m.targets.every((t) => prices.isPriced(t.model ?? m.name, m.name))).map((m) => m.name),
  );
  if (unpriced.size === 0) return [];
  const fallbacks = new Map(config.models.map((m) => [m.name, m.fallbacks]));
  const out: UnpricedReach[] = [];
  for (const key of config.keys) {
    const budgeted = effectiveLimits(key.limits, key.plan, config.plans).monthlyBudgetUsd !== undefined || config.teams[key.team]?.monthlyBudgetUsd !== undefined;
    if (!budgeted) continue;
    const allowed = key.models.length > 0 ? new Set(key.models) : null;
    const reachable = new Set<string>();
    for (const model of allowed ?? fallbacks.keys()) {
      reachable.add(model);
      for (const fallback of fallbacks.get(model) ?? []) if (!allowed || allowed.has(fallback)) reachable.add(fallback);
    }
    const models = [...reachable].filter((m) => unpriced.has(m));
    if (models.length > 0) out.push({ key: key.name, models });
  }
  return out;
}
