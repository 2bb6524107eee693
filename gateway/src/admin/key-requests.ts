/**
 * The bodies the keys API accepts, and how a change applies to a stored key: pure, no I/O.
 * Top-level fields are snake_case like the responses; `limits` is the config's limits object
 * (camelCase), where `null` removes a key's own value so the plan's applies again.
 */
import { z } from "zod";
import type { KeyRecord } from "../auth/key-record";
import { effectiveLimits } from "../auth/plans";
import { isReservedName, ownEntry, RESERVED_NAME_MESSAGE } from "../config/reserved-names";
import { isoInstant, keyLabelsSchema, keyOwnerSchema, limitsSchema, type GatewayConfig, type LimitsConfig } from "../config/schema";
import { GatewayError } from "../errors";
import type { StoredRecord } from "../auth/runtime-keys";

const notReserved = (name: string) => !isReservedName(name);
const teamName = z.string().min(1).max(64).refine(notReserved, RESERVED_NAME_MESSAGE);
const planName = z.string().min(1).max(64).refine(notReserved, RESERVED_NAME_MESSAGE);
const modelList = z.array(z.string().min(1)).max(1000);

export const createKeySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'").refine(notReserved, RESERVED_NAME_MESSAGE),
    team: teamName.default("default"),
    plan: planName.default("default"),
    models: modelList.default([]),
    limits: limitsSchema.default({}),
    owner: keyOwnerSchema.optional(),
    labels: keyLabelsSchema.optional(),
    expires_at: isoInstant.optional(),
  })
  .strict();

const limitPatch = z
  .object({
    requestsPerMinute: z.number().int().positive().nullable().optional(),
    tokensPerMinute: z.number().int().positive().nullable().optional(),
    concurrent: z.number().int().positive().nullable().optional(),
    monthlyBudgetUsd: z.number().positive().nullable().optional(),
  })
  .strict();

export const updateKeySchema = z
  .object({
    team: teamName.optional(),
    plan: planName.optional(),
    models: modelList.optional(),
    limits: limitPatch.optional(),
    owner: keyOwnerSchema.nullable().optional(),
    labels: keyLabelsSchema.nullable().optional(),
    expires_at: isoInstant.nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, "nothing to change: send at least one field");

/** Longest overlap a rotation may give the old secret: 30 days. */
export const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;
export const DEFAULT_OVERLAP_SECONDS = 3600;

export const rotateKeySchema = z
  .object({ overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS) })
  .strict();

export type CreateKeyBody = z.output<typeof createKeySchema>;
export type UpdateKeyBody = z.output<typeof updateKeySchema>;

/** Parses a body with a schema; the first problem becomes a 400 naming the field. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.join(".");
  const message = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}` : issue.message;
  throw new GatewayError("GW_ERR_INVALID_REQUEST", `${where || "body"}: ${message}`, [], where || null);
}

/** Refuses plans and models the config does not define, and expiry dates already past. */
export function checkReferences(config: Pick<GatewayConfig, "plans" | "models">, body: { plan?: string; models?: string[]; expires_at?: string | null }, now: number): void {
  if (body.plan !== undefined && body.plan !== "default" && ownEntry(config.plans, body.plan) === undefined) {
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `Unknown plan "${body.plan}": the config defines ${Object.keys(config.plans).join(", ") || "none"}.`, [], "plan");
  }
  const unknown = body.models?.find((m) => !config.models.some((model) => model.name === m));
  if (unknown !== undefined) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Unknown model "${unknown}".`, [], "models");
  if (typeof body.expires_at === "string" && Date.parse(body.expires_at) <= now) {
    throw new GatewayError("GW_ERR_INVALID_REQUEST", "expires_at is in the past; to stop a key now, disable it.", [], "expires_at");
  }
}

/** The stored form of a key (what Redis keeps: no enabled flag, no source). */
export function storedForm(record: KeyRecord): StoredRecord {
  const { disabled: _disabled, source: _source, ...stored } = record;
  return stored;
}

/** The key after a PATCH, with its revision bumped. */
export function applyUpdate(current: KeyRecord, body: UpdateKeyBody, now: Date): KeyRecord {
  const next: KeyRecord = { ...current, updatedAt: now.toISOString(), revision: (current.revision ?? 0) + 1 };
  if (body.team !== undefined) next.team = body.team;
  if (body.plan !== undefined) next.plan = body.plan;
  if (body.models !== undefined) next.models = body.models;
  if (body.disabled !== undefined) next.disabled = body.disabled;
  if (body.limits !== undefined) {
    const limits: Record<string, number> = { ...current.limits } as Record<string, number>;
    for (const [name, value] of Object.entries(body.limits)) {
      if (value === null) delete limits[name];
      else if (value !== undefined) limits[name] = value;
    }
    next.limits = limits as LimitsConfig;
  }
  if (body.owner !== undefined) setOrClear(next, "owner", body.owner);
  if (body.labels !== undefined) setOrClear(next, "labels", body.labels);
  if (body.expires_at !== undefined) setOrClear(next, "expiresAt", body.expires_at);
  return next;
}

function setOrClear<K extends "owner" | "labels" | "expiresAt">(record: KeyRecord, field: K, value: KeyRecord[K] | null): void {
  if (value === null) delete record[field];
  else record[field] = value;
}

/** A key as the API shows it: never a secret or digest. */
export function publicView(record: KeyRecord, plans: GatewayConfig["plans"], now: number): Record<string, unknown> {
  const expiresAtMs = record.expiresAt === undefined ? null : Date.parse(record.expiresAt);
  const previousUntil = record.previousSecretExpiresAt === undefined ? null : Date.parse(record.previousSecretExpiresAt);
  return {
    object: "gateway.key",
    id: record.id,
    name: record.name,
    source: record.source,
    team: record.team,
    plan: record.plan,
    models: record.models,
    limits: record.limits,
    effective_limits: effectiveLimits(record.limits, record.plan, plans),
    owner: record.owner ?? null,
    labels: record.labels ?? {},
    disabled: record.disabled,
    expires_at: record.expiresAt ?? null,
    expired: expiresAtMs !== null && now >= expiresAtMs,
    previous_secret_expires_at: previousUntil !== null && previousUntil > now ? record.previousSecretExpiresAt : null,
    created_at: record.createdAt ?? null,
    updated_at: record.updatedAt ?? record.createdAt ?? null,
    revision: record.source === "runtime" ? record.revision ?? 0 : null,
  };
}

/**
 * The ETag of a runtime key's current revision. It names the key's id too: a name deleted and
 * created again starts over at revision 1, and an If-Match read from the old key must not match
 * the new one.
 */
export function etagOf(record: Pick<KeyRecord, "id" | "revision">): string {
  return `"${record.id}.r${record.revision ?? 0}"`;
}
