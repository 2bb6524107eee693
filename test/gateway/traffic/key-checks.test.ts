/** A key's shared admission checks: built once per resolved key, spend keys per month, afresh after a reload. */
import { KeyRegistry } from "../../../gateway/src/auth/registry";
import { keySpendKey, teamSpendKey } from "../../../gateway/src/budget/spend";
import { validateConfig } from "../../../gateway/src/config/validate";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { KeyChecksCache } from "../../../gateway/src/traffic/key-checks";

const base = {
  models: [{ name: "m", targets: [{ name: "t", baseUrl: "http://127.0.0.1:1/v1" }] }],
  teams: { ops: { monthlyBudgetUsd: 50 } },
};

describe("KeyChecksCache", () => {
  it("builds a key's checks once, names its state by key id, and prices its budgets in nano-USD", () => {
    const registry = new KeyRegistry(validateConfig({ ...base, keys: [{ name: "alice", key: "sk-alice-secret", team: "ops", limits: { requestsPerMinute: 60, tokensPerMinute: 1_000, monthlyBudgetUsd: 12.5 } }] }), null);
    const key = registry.resolveNow("sk-alice-secret");
    if (key === null || key instanceof Promise) throw new Error("expected a config key");
    const cache = new KeyChecksCache();
    const checks = cache.of(key);
    expect(cache.of(key)).toBe(checks);
    const id = key.identity.keyId;
    expect(checks.rpm).toEqual({ key: redisKeys.requestsPerMinute(id), limit: 60, periodMs: 60_000, cost: 1, sticky: true });
    expect(Object.isFrozen(checks.rpm)).toBe(true);
    expect([checks.tpmKey, checks.concurrencyKey]).toEqual([redisKeys.tokensPerMinute(id), redisKeys.concurrency(id)]);
    expect([checks.rpmLimitText, checks.tpmLimitText]).toEqual(["60", "1000"]);
    expect([checks.keyLimitNano, checks.teamLimitNano, checks.budgetKinds]).toEqual([12_500_000_000, 50_000_000_000, ["key", "team"]]);
    expect([checks.keyRatioLabels, checks.teamRatioLabels]).toEqual([{ key: "alice", team: "ops" }, { team: "ops" }]);

    KeyChecksCache.forMonth(checks, id, "ops", "2026-11");
    expect([checks.keySpendKey, checks.teamSpendKey]).toEqual([keySpendKey(id, "2026-11"), teamSpendKey("ops", "2026-11")]);
    KeyChecksCache.forMonth(checks, id, "ops", "2026-12");
    expect([checks.month, checks.keySpendKey, checks.teamSpendKey]).toEqual(["2026-12", keySpendKey(id, "2026-12"), teamSpendKey("ops", "2026-12")]);
  });

  it("takes new limits after a reload (a reload resolves new key objects)", () => {
    const config = (rpm: number) => validateConfig({ ...base, keys: [{ name: "bob", key: "sk-bob-secret", limits: { requestsPerMinute: rpm } }] });
    const registry = new KeyRegistry(config(10), null);
    const cache = new KeyChecksCache();
    const before = registry.resolveNow("sk-bob-secret");
    if (before === null || before instanceof Promise) throw new Error("expected a config key");
    expect(cache.of(before).rpmLimitText).toBe("10");
    expect([cache.of(before).keyLimitNano, cache.of(before).teamLimitNano, cache.of(before).budgetKinds]).toEqual([null, null, []]);
    registry.reconfigure(config(20));
    const after = registry.resolveNow("sk-bob-secret");
    if (after === null || after instanceof Promise) throw new Error("expected a config key");
    expect(cache.of(after).rpmLimitText).toBe("20");
    expect(cache.of(after).rpm?.limit).toBe(20);
  });
});
