/** The pure parts of the keys API: applying a PATCH, the audit diff, the public view. */
import type { KeyRecord } from "../../../gateway/src/auth/key-record";
import { auditEvent, keyChanges } from "../../../gateway/src/admin/audit";
import { applyUpdate, parseBody, publicView, updateKeySchema } from "../../../gateway/src/admin/key-requests";

const key: KeyRecord = { id: "k-1", name: "svc", team: "a", plan: "free", models: [], limits: { requestsPerMinute: 5, monthlyBudgetUsd: 10 }, disabled: false, source: "runtime", owner: "o", labels: { x: "1" }, revision: 4 };
const at = new Date("2026-11-29T10:00:00Z");

describe("key requests", () => {
  it("merges limits field by field, null removing a key's own value; bumps the revision", () => {
    const next = applyUpdate(key, parseBody(updateKeySchema, { limits: { requestsPerMinute: null, monthlyBudgetUsd: 20, concurrent: 2 } }), at);
    expect(next.limits).toEqual({ monthlyBudgetUsd: 20, concurrent: 2 });
    expect(next).toMatchObject({ revision: 5, updatedAt: "2026-11-29T10:00:00.000Z", team: "a", owner: "o" });
    expect(key.limits).toEqual({ requestsPerMinute: 5, monthlyBudgetUsd: 10 });
  });

  it("clears owner, labels and expiry with null", () => {
    const next = applyUpdate({ ...key, expiresAt: "2030-01-01T00:00:00Z" }, parseBody(updateKeySchema, { owner: null, labels: null, expires_at: null }), at);
    expect(next.owner).toBeUndefined();
    expect(next.labels).toBeUndefined();
    expect(next.expiresAt).toBeUndefined();
  });

  it("lists what changed, limits by field, and nothing else", () => {
    const next = applyUpdate(key, parseBody(updateKeySchema, { plan: "pro", limits: { monthlyBudgetUsd: 30 } }), at);
    expect(keyChanges(key, next)).toEqual({ plan: { from: "free", to: "pro" }, "limits.monthlyBudgetUsd": { from: 10, to: 30 } });
    expect(keyChanges(null, key)).toMatchObject({ team: { from: null, to: "a" }, "limits.requestsPerMinute": { from: null, to: 5 } });
  });

  it("builds sortable audit events", () => {
    const actor = { credential: "admin_key" as const, name: null, ip: "10.0.0.1", userAgent: null };
    const early = auditEvent("key.updated", actor, key, {}, new Date(1_000));
    const late = auditEvent("key.updated", actor, key, {}, new Date(2_000_000_000_000));
    expect(early.id < late.id).toBe(true);
    expect(late).toMatchObject({ object: "gateway.audit_event", at: new Date(2_000_000_000_000).toISOString(), target: { type: "key", name: "svc", id: "k-1" } });
  });

  it("shows effective limits and expiry state, no digest or secret", () => {
    const view = publicView({ ...key, expiresAt: "2020-01-01T00:00:00Z" }, { free: { requestsPerMinute: 1, tokensPerMinute: 100 } }, at.getTime());
    expect(view).toMatchObject({ effective_limits: { requestsPerMinute: 5, tokensPerMinute: 100, monthlyBudgetUsd: 10 }, expired: true, revision: 4 });
  });
});
