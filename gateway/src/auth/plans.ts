/**
 * A key's effective limits: each field from the key's own `limits`, else from its plan.
 * Keys on plan `default` take `plans.default` when the config defines it.
 */
import { ownEntry } from "../config/reserved-names";
import type { GatewayConfig, LimitsConfig } from "../config/schema";

export type EffectiveLimits = Readonly<LimitsConfig>;

export function effectiveLimits(keyLimits: LimitsConfig, plan: string, plans: GatewayConfig["plans"]): EffectiveLimits {
  const planLimits: LimitsConfig = ownEntry(plans, plan) ?? {};
  return {
    requestsPerMinute: keyLimits.requestsPerMinute ?? planLimits.requestsPerMinute,
    tokensPerMinute: keyLimits.tokensPerMinute ?? planLimits.tokensPerMinute,
    concurrent: keyLimits.concurrent ?? planLimits.concurrent,
    monthlyBudgetUsd: keyLimits.monthlyBudgetUsd ?? planLimits.monthlyBudgetUsd,
  };
}

/** True when no limit or budget applies: admission can skip the store entirely. */
export function isUnlimited(limits: EffectiveLimits, teamBudgetUsd: number | undefined): boolean {
  return (
    limits.requestsPerMinute === undefined &&
    limits.tokensPerMinute === undefined &&
    limits.concurrent === undefined &&
    limits.monthlyBudgetUsd === undefined &&
    teamBudgetUsd === undefined
  );
}
