/** A client key as traffic control sees it: no secret, only its name, owner and limits. */
import type { ClientIdentity } from "../traffic/types";
import { ownEntry } from "../config/reserved-names";
import type { GatewayConfig, LimitsConfig } from "../config/schema";
import { effectiveLimits, isUnlimited, type EffectiveLimits } from "./plans";

export interface KeyRecord {
  /** Immutable: a re-created name gets a new id, and so none of the old key's state; a rotation keeps it. */
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
  /** ISO time of the last change through the admin API. */
  updatedAt?: string;
  /** ISO instant after which the key is refused as expired. */
  expiresAt?: string;
  owner?: string;
  labels?: Record<string, string>;
  /** Runtime keys: bumped by every change, for optimistic concurrency (ETag / If-Match). */
  revision?: number;
  /** Runtime keys mid-rotation: when the previous secret stops working (ISO). */
  previousSecretExpiresAt?: string;
}

/** A key ready for admission: its identity object (reused for every request) and limits. */
export interface ResolvedKey {
  readonly record: KeyRecord;
  readonly identity: ClientIdentity;
  readonly limits: EffectiveLimits;
  readonly teamBudgetUsd: number | undefined;
  /** No limit and no budget: admission costs nothing. */
  readonly unlimited: boolean;
  /** Epoch ms after which the key is refused; null: never. */
  readonly expiresAtMs: number | null;
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
  const expiresAtMs = record.expiresAt === undefined ? null : Date.parse(record.expiresAt);
  return { record, identity, limits, teamBudgetUsd, unlimited: isUnlimited(limits, teamBudgetUsd), expiresAtMs: Number.isNaN(expiresAtMs) ? null : expiresAtMs };
}

/** Whether a key is past its expiry at `now`. */
export function isExpired(key: ResolvedKey, now: number): boolean {
  return key.expiresAtMs !== null && now >= key.expiresAtMs;
}
