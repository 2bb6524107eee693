/** GCRA arithmetic: exact limits, continuous refill, no double burst, settlement. */
import fc from "fast-check";
import { gcraAdjust, gcraAdmit } from "../../../gateway/src/limits/gcra";

/** Runs requests at the given times through one limit; returns how many were admitted. */
function run(times: number[], limit: number, periodMs: number, cost = 1): { admitted: number[]; tat: number | undefined } {
  let tat: number | undefined;
  const admitted: number[] = [];
  for (const now of times) {
    const d = gcraAdmit(tat, now, limit, periodMs, cost);
    if (d.allowed) {
      tat = d.tat;
      admitted.push(now);
    }
  }
  return { admitted, tat };
}

describe("gcraAdmit", () => {
  it("admits exactly the limit at one instant, then refuses with the time to the next slot", () => {
    const { admitted, tat } = run(Array(25).fill(1_000), 10, 60_000);
    expect(admitted).toHaveLength(10);
    const refused = gcraAdmit(tat, 1_000, 10, 60_000, 1);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(6_000, 6);
    expect(refused.remaining).toBe(0);
    expect(refused.resetMs).toBeCloseTo(60_000, 6);
  });

  it("counts remaining and reset like OpenAI's headers (60 rpm: one request resets in 1 s)", () => {
    const first = gcraAdmit(undefined, 0, 60, 60_000, 1);
    expect(first).toMatchObject({ allowed: true, remaining: 59 });
    expect(first.resetMs).toBeCloseTo(1_000, 6);
  });

  it("does not lose a slot to float rounding (7 per minute admits 7)", () => {
    expect(run(Array(8).fill(0), 7, 60_000).admitted).toHaveLength(7);
    expect(run(Array(4).fill(0), 3, 1_000).admitted).toHaveLength(3);
  });

  it("refills continuously: one slot per period/limit", () => {
    const { tat } = run(Array(10).fill(0), 10, 60_000);
    expect(gcraAdmit(tat, 5_999, 10, 60_000, 1).allowed).toBe(false);
    expect(gcraAdmit(tat, 6_000, 10, 60_000, 1).allowed).toBe(true);
  });

  it("has no window edge where two full allotments fit (unlike fixed windows)", () => {
    // A full burst at 59 s; a fixed one-minute window would admit 10 more at 60 s.
    const times = [...Array(10).fill(59_000), ...Array(10).fill(60_000), ...Array(10).fill(61_000)];
    const { admitted } = run(times, 10, 60_000);
    expect(admitted.filter((t) => t === 59_000)).toHaveLength(10);
    expect(admitted.filter((t) => t > 59_000)).toHaveLength(0);
  });

  it("refuses for ever a cost above the limit (retry -1) and charges nothing", () => {
    const d = gcraAdmit(undefined, 0, 100, 60_000, 101);
    expect(d).toMatchObject({ allowed: false, retryAfterMs: -1, remaining: 100 });
  });

  it("never admits more than limit + refill over any span (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 100, max: 60_000 }),
        fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 5 }),
        (limit, periodMs, rawTimes, cost) => {
          const times = [...rawTimes].sort((a, b) => a - b);
          const { admitted } = run(times, limit, periodMs, cost);
          const span = times[times.length - 1] - times[0];
          const maxUnits = limit + (span * limit) / periodMs;
          return admitted.length * cost <= maxUnits + 1e-6;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("gcraAdjust", () => {
  it("refunds an unused reservation", () => {
    const reserved = gcraAdmit(undefined, 0, 1_000, 60_000, 800);
    expect(reserved.remaining).toBe(200);
    const tat = gcraAdjust(reserved.tat, 0, 1_000, 60_000, -700);
    expect(gcraAdmit(tat, 0, 1_000, 60_000, 900).allowed).toBe(true);
  });

  it("charges usage above the reservation, which may overdraw the limit", () => {
    const reserved = gcraAdmit(undefined, 0, 1_000, 60_000, 900);
    const tat = gcraAdjust(reserved.tat, 0, 1_000, 60_000, 300);
    const next = gcraAdmit(tat, 0, 1_000, 60_000, 1);
    expect(next.allowed).toBe(false);
    expect(next.retryAfterMs).toBeCloseTo(12_060, 6);
  });

  it("returns undefined once the limit is full again (state can be dropped)", () => {
    expect(gcraAdjust(undefined, 0, 10, 60_000, -5)).toBeUndefined();
    const reserved = gcraAdmit(undefined, 0, 10, 60_000, 2);
    expect(gcraAdjust(reserved.tat, 0, 10, 60_000, -2)).toBeUndefined();
  });
});
