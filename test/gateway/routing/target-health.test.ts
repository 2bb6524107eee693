/** A target's credential hold-out (upstream 401/403) and the health state and reason it reports. */
import { makeTarget } from "./targets";

describe("TargetState credential failures and health info", () => {
  it("holds a target out at once for the cooldown, doubling up to the cap, until a request succeeds", () => {
    // POLICY: cooldownMs 1 000, maxCooldownMs 8 000.
    const target = makeTarget("a");
    expect(target.recordAuthFailure(0, 401)).toBe(true);
    expect([target.isAvailable(999), target.isAvailable(1_000)]).toEqual([false, true]);
    expect(target.recordAuthFailure(1_000, 403)).toBe(true);
    expect([target.isAvailable(2_999), target.isAvailable(3_000)]).toEqual([false, true]);
    for (const at of [3_000, 7_000, 15_000]) target.recordAuthFailure(at, 401);
    // 4 s, 8 s, then capped at 8 s.
    expect([target.isAvailable(22_999), target.isAvailable(23_000)]).toEqual([false, true]);
    target.recordSuccess(5);
    target.recordAuthFailure(30_000, 401);
    expect(target.isAvailable(31_000)).toBe(true);
  });

  it("says a second refusal inside the hold-out is not fresh, and stays healthy for readiness", () => {
    const target = makeTarget("a");
    expect(target.recordAuthFailure(0, 401)).toBe(true);
    expect(target.recordAuthFailure(10, 401)).toBe(false);
    expect([target.isAvailable(20), target.isHealthy(20)]).toEqual([false, true]);
  });

  it("reports the first state that applies, with a bounded reason", () => {
    const target = makeTarget("a");
    expect(target.healthInfo(0)).toEqual({ state: "up", reason: "ok" });
    target.recordRateLimited(0, 500);
    expect(target.healthInfo(10)).toEqual({ state: "rate_limited", reason: "status_429" });
    for (let i = 0; i < 3; i++) target.recordFailure(20, "status_5xx");
    expect(target.healthInfo(30)).toEqual({ state: "ejected", reason: "status_5xx" });
    target.recordCheck(false, 2, 1, "status_404");
    expect(target.healthInfo(40)).toEqual({ state: "down", reason: "status_404" });
    target.recordAuthFailure(50, 403);
    expect(target.healthInfo(60)).toEqual({ state: "misconfigured", reason: "upstream_auth_403" });
    // A rising check keeps the failure's reason until the target is back up.
    target.recordCheck(true, 2, 1);
    expect(target.healthInfo(2_000)).toEqual({ state: "down", reason: "status_404" });
    target.recordCheck(true, 2, 1);
    expect(target.healthInfo(100_000)).toEqual({ state: "up", reason: "ok" });
  });
});
