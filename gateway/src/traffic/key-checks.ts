/**
 * What every admission of one client key shares, built on its first admission rather than per
 * request: the names of its state in the limit store (made once, their hashes cached by V8, so a
 * store look-up hashes no new string), its requests-per-minute check, the limits' header text, its
 * budgets in nano-USD, this month's spend keys and the budget gauges' labels. Keyed by the
 * ResolvedKey object, which is immutable: a reload or a changed runtime key resolves a new one.
 */
import type { ResolvedKey } from "../auth/key-record";
import { keySpendKey, teamSpendKey } from "../budget/spend";
import { usdToNano } from "../budget/pricing";
import type { RateCheck } from "../limits/store";
import { redisKeys } from "../store/redis-keys";
import type { BudgetKind } from "./refusal";

const MINUTE_MS = 60_000;

export interface KeyChecks {
  rpm: Readonly<RateCheck> | null;
  tpmKey: string;
  concurrencyKey: string;
  rpmLimitText: string;
  tpmLimitText: string;
  /** The key's and its team's monthly budgets (nano-USD), null when none. */
  keyLimitNano: number | null;
  teamLimitNano: number | null;
  /** Which budgets apply, in the order their checks are made (shared by the key's admissions: never mutated). */
  budgetKinds: BudgetKind[];
  /** The month the spend keys below are for; "" until the first budgeted admission. */
  month: string;
  keySpendKey: string;
  teamSpendKey: string;
  /** The budget gauges' label objects. */
  keyRatioLabels: Record<string, string>;
  teamRatioLabels: Record<string, string>;
}

export class KeyChecksCache {
  private readonly byKey = new WeakMap<ResolvedKey, KeyChecks>();

  of(key: ResolvedKey): KeyChecks {
    let checks = this.byKey.get(key);
    if (checks === undefined) {
      checks = build(key);
      this.byKey.set(key, checks);
    }
    return checks;
  }

  /** Points the spend keys at `month` (the first admission of a month makes them). */
  static forMonth(checks: KeyChecks, keyId: string, team: string, month: string): void {
    if (checks.month === month) return;
    checks.month = month;
    checks.keySpendKey = keySpendKey(keyId, month);
    checks.teamSpendKey = teamSpendKey(team, month);
  }
}

function build(key: ResolvedKey): KeyChecks {
  const { limits, identity } = key;
  // State follows the key's immutable id, never its name (a re-created name starts afresh).
  const name = identity.keyId;
  const budgetKinds: BudgetKind[] = [];
  if (limits.monthlyBudgetUsd !== undefined) budgetKinds.push("key");
  if (key.teamBudgetUsd !== undefined) budgetKinds.push("team");
  return {
    rpm: limits.requestsPerMinute === undefined ? null : Object.freeze({ key: redisKeys.requestsPerMinute(name), limit: limits.requestsPerMinute, periodMs: MINUTE_MS, cost: 1, sticky: true }),
    tpmKey: redisKeys.tokensPerMinute(name),
    concurrencyKey: redisKeys.concurrency(name),
    rpmLimitText: String(limits.requestsPerMinute),
    tpmLimitText: String(limits.tokensPerMinute),
    keyLimitNano: limits.monthlyBudgetUsd === undefined ? null : usdToNano(limits.monthlyBudgetUsd),
    teamLimitNano: key.teamBudgetUsd === undefined ? null : usdToNano(key.teamBudgetUsd),
    budgetKinds,
    month: "",
    keySpendKey: "",
    teamSpendKey: "",
    keyRatioLabels: { key: identity.keyName, team: identity.team },
    teamRatioLabels: { team: identity.team },
  };
}
