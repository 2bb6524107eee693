/** A client key as traffic control sees it: no secret, only its name, owner and limits. */
import type { ClientIdentity } from "../traffic/types";
import { ownEntry } from "../config/reserved-names";
import type { GatewayConfig, LimitsConfig } from "../config/schema";
import { effectiveLimits, isUnlimited, type EffectiveLimits } from "./plans";

export interface KeyRecord {
  /** Immutable: a re-created name gets a new id, and so none of the old key's state. */
  id: string;
  name: string;
  team: string;
  plan: string;
  /** Empty: every model. */
  models: string[];
  limits: LimitsConfig;
  disabled: boolean;
  source: "config" | "runtime";
  /** ISO time, runtime keys only. */
  createdAt?: string;
}

/** A key ready for admission: its identity object (reused for every request) and limits. */
export interface ResolvedKey {
  readonly record: KeyRecord;
  readonly identity: ClientIdentity;
  readonly limits: EffectiveLimits;
  readonly teamBudgetUsd: number | undefined;
  /** No limit and no budget: admission costs nothing. */
  readonly unlimited: boolean;
}

export function resolveKey(record: KeyRecord, config: Pick<GatewayConfig, "plans" | "teams">): ResolvedKey {
  const limits = effectiveLimits(record.limits, record.plan, config.plans);
  const teamBudgetUsd = ownEntry(config.teams, record.team)?.monthlyBudgetUsd;
  const identity: ClientIdentity = Object.freeze({
    keyName: record.name,
    keyId: record.id,
    team: record.team,
    plan: record.plan,
    allowedModels: record.models.length > 0 ? new Set(record.models) : null,
  });
  return { record, identity, limits, teamBudgetUsd, unlimited: isUnlimited(limits, teamBudgetUsd) };
}
