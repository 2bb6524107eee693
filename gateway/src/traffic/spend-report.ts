/**
 * What a key's budgets look like after an admission or a settlement: the used-ratio gauges, and a
 * warning log line for each threshold (50 %, 80 %, 100 %…) a settlement crossed.
 */
import type { ResolvedKey } from "../auth/key-record";
import { crossedThresholds, crossesThreshold } from "../budget/spend";
import type { BudgetCheck } from "../limits/store";
import type { KeyChecks } from "./key-checks";
import type { LoggerPort, TrafficMetrics } from "./metrics-port";
import type { BudgetKind } from "./refusal";

/** Sets the used-ratio gauges; after a settlement (`added` > 0), logs each threshold crossed. */
export function reportSpend(
  to: { metrics: TrafficMetrics; logger: LoggerPort },
  key: ResolvedKey,
  checks: KeyChecks,
  budgets: readonly BudgetCheck[],
  kinds: readonly BudgetKind[],
  spent: readonly number[],
  added: number,
): void {
  for (let i = 0; i < budgets.length; i++) {
    const total = spent[i];
    if (!Number.isFinite(total) || total < 0) continue;
    const limitNano = budgets[i].limitNano;
    const ratio = total / limitNano;
    if (kinds[i] === "key") to.metrics.budgetUsedRatio.set(checks.keyRatioLabels, ratio);
    else to.metrics.teamBudgetUsedRatio.set(checks.teamRatioLabels, ratio);
    if (added > 0 && crossesThreshold(total - added, total, limitNano)) logCrossings(to.logger, key, kinds[i], total, added, limitNano, ratio);
  }
}

function logCrossings(logger: LoggerPort, key: ResolvedKey, kind: BudgetKind, total: number, added: number, limitNano: number, ratio: number): void {
  const { keyName, team } = key.identity;
  for (const threshold of crossedThresholds(total - added, total, limitNano)) {
    logger.warn(
      { event: "budget_threshold", scope: kind, keyName: kind === "key" ? keyName : undefined, team, threshold, ratio: Number(ratio.toFixed(4)), spentUsd: total / 1e9, budgetUsd: limitNano / 1e9 },
      `${kind === "key" ? `key "${keyName}"` : `team "${team}"`} crossed ${threshold * 100}% of its monthly budget`,
    );
  }
}
