/** A target's health: passive ejection with backoff, 429 cooling, active rise/fall, Retry-After parsing. */
import { parseRetryAfterMs } from "../../../gateway/src/routing/target-state";
import { makeTarget, POLICY } from "./targets";

const T0 = 1_000_000;

describe("passive ejection", () => {
  it("ejects only after the configured number of consecutive failures", () => {
    const target = makeTarget("a");
    expect(target.recordFailure(T0)).toBe(false);
    expect(target.recordFailure(T0)).toBe(false);
    expect(target.isAvailable(T0)).toBe(true);
    expect(target.recordFailure(T0)).toBe(true);
    expect(target.isAvailable(T0)).toBe(false);
    expect(target.isAvailable(T0 + POLICY.cooldownMs - 1)).toBe(false);
    expect(target.isAvailable(T0 + POLICY.cooldownMs)).toBe(true);
  });

  it("a success resets the failure streak", () => {
    const target = makeTarget("a");
    target.recordFailure(T0);
    target.recordFailure(T0);
    target.recordSuccess(10);
    expect(target.recordFailure(T0)).toBe(false);
    expect(target.recordFailure(T0)).toBe(false);
    expect(target.isAvailable(T0)).toBe(true);
  });

  it("doubles the cooldown on each ejection in a row, up to the maximum", () => {
    const target = makeTarget("a");
    const cooldowns: number[] = [];
    let now = T0;
    for (let ejection = 0; ejection < 6; ejection++) {
      for (let i = 0; i < POLICY.failures; i++) target.recordFailure(now);
      let until = now;
      while (!target.isAvailable(until)) until += 250;
      cooldowns.push(until - now);
      now = until;
    }
    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it("resets the backoff once the target answers again", () => {
    const target = makeTarget("a");
    for (let i = 0; i < 2 * POLICY.failures; i++) target.recordFailure(T0);
    target.recordSuccess(5);
    for (let i = 0; i < POLICY.failures; i++) target.recordFailure(T0 + 10_000);
    expect(target.isAvailable(T0 + 10_000 + POLICY.cooldownMs)).toBe(true);
  });
});

describe("429 cooling", () => {
  it("stays away until Retry-After without counting a fault", () => {
    const target = makeTarget("a");
    target.recordRateLimited(T0, 3_000);
    expect(target.isAvailable(T0 + 2_999)).toBe(false);
    expect(target.isAvailable(T0 + 3_000)).toBe(true);
    // Not a failure: three 429s do not eject it with backoff.
    target.recordRateLimited(T0, 0);
    target.recordRateLimited(T0, 0);
    expect(target.recordFailure(T0 + 3_000)).toBe(false);
  });

  it("uses the passive cooldown when the upstream gives no Retry-After", () => {
    const target = makeTarget("a");
    target.recordRateLimited(T0, null);
    expect(target.isAvailable(T0 + POLICY.cooldownMs - 1)).toBe(false);
    expect(target.isAvailable(T0 + POLICY.cooldownMs)).toBe(true);
  });

  it("never shortens a longer cooldown already running", () => {
    const target = makeTarget("a");
    target.recordRateLimited(T0, 10_000);
    target.recordRateLimited(T0 + 1, 100);
    expect(target.isAvailable(T0 + 5_000)).toBe(false);
  });
});

describe("active checks (rise/fall)", () => {
  it("goes down after `fall` consecutive failed checks and up after `rise` passed ones", () => {
    const target = makeTarget("a");
    const rise = 2;
    const fall = 3;
    expect([target.recordCheck(false, rise, fall), target.recordCheck(false, rise, fall)]).toEqual([false, false]);
    expect(target.activeUp).toBe(true);
    expect(target.recordCheck(false, rise, fall)).toBe(true);
    expect(target.activeUp).toBe(false);
    expect(target.isAvailable(T0)).toBe(false);
    expect(target.recordCheck(true, rise, fall)).toBe(false);
    expect(target.activeUp).toBe(false);
    expect(target.recordCheck(true, rise, fall)).toBe(true);
    expect(target.activeUp).toBe(true);
  });

  it("an interrupted streak starts over", () => {
    const target = makeTarget("a");
    target.recordCheck(false, 2, 2);
    target.recordCheck(true, 2, 2);
    expect(target.recordCheck(false, 2, 2)).toBe(false);
    expect(target.activeUp).toBe(true);
  });

  it("coming back up clears a passive ejection", () => {
    const target = makeTarget("a");
    for (let i = 0; i < POLICY.failures; i++) target.recordFailure(T0);
    target.recordCheck(false, 1, 1);
    target.recordCheck(true, 1, 1);
    expect(target.isAvailable(T0 + 1)).toBe(true);
  });
});

describe("latency EWMA", () => {
  it("starts at the first sample, then moves 30% toward each new one", () => {
    const target = makeTarget("a");
    target.recordSuccess(100);
    expect(target.ewmaMs).toBe(100);
    target.recordSuccess(200);
    expect(target.ewmaMs).toBeCloseTo(130);
    target.recordSuccess(0);
    expect(target.ewmaMs).toBeCloseTo(91);
  });
});

describe("parseRetryAfterMs", () => {
  it("reads seconds", () => {
    expect(parseRetryAfterMs("2", undefined, T0)).toBe(2_000);
    expect(parseRetryAfterMs("0.5", undefined, T0)).toBe(500);
    expect(parseRetryAfterMs("0", undefined, T0)).toBe(0);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfterMs("Wed, 01 Jan 2025 00:00:30 GMT", undefined, now)).toBe(30_000);
    expect(parseRetryAfterMs("Tue, 31 Dec 2024 23:59:00 GMT", undefined, now)).toBe(0);
  });

  it("prefers OpenAI's retry-after-ms", () => {
    expect(parseRetryAfterMs("20", "150", T0)).toBe(150);
    expect(parseRetryAfterMs("20", "bogus", T0)).toBe(20_000);
  });

  it("returns null when absent or unreadable", () => {
    expect(parseRetryAfterMs(undefined, undefined, T0)).toBeNull();
    expect(parseRetryAfterMs("soon", undefined, T0)).toBeNull();
    expect(parseRetryAfterMs("", undefined, T0)).toBeNull();
    // A negative delay is invalid, not "retry now" (nor a date in year -5).
    expect(parseRetryAfterMs("-5", "-1", T0)).toBeNull();
  });
});
