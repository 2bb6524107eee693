/**
 * Audit events for admin changes: who (the actor), when, what (the fields that changed, old and
 * new), never a secret or digest. Built here, pure; stored by the key store in the same Redis
 * script as the change itself, so no change goes unrecorded; also logged.
 */
import { randomBytes } from "node:crypto";
import type { KeyRecord } from "../auth/key-record";
import type { AdminActor } from "./actor";

export type AuditAction = "key.created" | "key.updated" | "key.rotated" | "key.disabled" | "key.enabled" | "key.deleted";

export interface AuditEvent {
  object: "gateway.audit_event";
  /** Sortable: the time, then randomness. */
  id: string;
  at: string;
  action: AuditAction;
  actor: AdminActor;
  target: { type: "key"; name: string; id: string };
  /** Field → its value before and after (absent fields are null). */
  changes: Record<string, { from: unknown; to: unknown }>;
  /** Facts about the change that are not fields (a rotation's overlap). */
  details?: Record<string, unknown>;
  request_id?: string;
}

/** The fields an audit event compares: everything an admin can change, nothing secret. */
const AUDITED: readonly (keyof KeyRecord)[] = ["team", "plan", "models", "limits", "owner", "labels", "expiresAt", "disabled"];

const FIELD_NAMES: Partial<Record<keyof KeyRecord, string>> = { expiresAt: "expires_at" };

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** What differs between two versions of a key; `limits` is compared field by field. */
export function keyChanges(before: Partial<KeyRecord> | null, after: Partial<KeyRecord> | null): AuditEvent["changes"] {
  const changes: AuditEvent["changes"] = {};
  for (const field of AUDITED) {
    if (field === "limits") {
      const from = (before?.limits ?? {}) as Record<string, unknown>;
      const to = (after?.limits ?? {}) as Record<string, unknown>;
      for (const name of new Set([...Object.keys(from), ...Object.keys(to)])) {
        if (!same(from[name], to[name])) changes[`limits.${name}`] = { from: from[name] ?? null, to: to[name] ?? null };
      }
      continue;
    }
    const from = before?.[field];
    const to = after?.[field];
    if (!same(from, to)) changes[FIELD_NAMES[field] ?? field] = { from: from ?? null, to: to ?? null };
  }
  return changes;
}

export function auditEvent(action: AuditAction, actor: AdminActor, key: Pick<KeyRecord, "name" | "id">, changes: AuditEvent["changes"], now: Date, details?: Record<string, unknown>): AuditEvent {
  const event: AuditEvent = {
    object: "gateway.audit_event",
    id: `ev-${now.getTime().toString(36).padStart(9, "0")}-${randomBytes(5).toString("hex")}`,
    at: now.toISOString(),
    action,
    actor,
    target: { type: "key", name: key.name, id: key.id },
    changes,
  };
  if (details) event.details = details;
  return event;
}
