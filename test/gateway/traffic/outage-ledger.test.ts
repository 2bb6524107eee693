/** The outage ledger, pure: what it charges the shared store for a rate (only what has not refilled) and for spend. */
import { OutageLedger } from "../../../gateway/src/limits/outage-ledger";

describe("outage ledger", () => {
  it("charges a rate's units not yet refilled at the shared limit, and spend summed per key", () => {
    let now = 1_000_000;
    const ledger = new OutageLedger(() => now);
    // 6 a minute: one unit refills every 10 s. Six consumed at once, then 25 s pass: 3.5 still charged.
    for (let i = 0; i < 6; i++) ledger.consume("rpm", 6, 60_000, 1);
    ledger.spend("spend", 1_000, 5_000);
    ledger.spend("spend", 500, 5_000);
    now += 25_000;
    const charged = ledger.take();
    expect(charged).toEqual([
      { rates: [{ key: "rpm", limit: 6, periodMs: 60_000, delta: 3.5 }], concurrency: null, spends: [], reservations: [] },
      { rates: [], concurrency: null, spends: [{ key: "spend", addNano: 1_500, ttlMs: 5_000 }], reservations: [] },
    ]);
    expect(ledger.empty).toBe(true);
  });

  it("charges nothing for a rate that refilled, takes refunds, and ignores nonsense", () => {
    let now = 0;
    const ledger = new OutageLedger(() => now);
    ledger.consume("old", 60, 60_000, 5);
    ledger.consume("tpm", 1_000, 60_000, 300);
    ledger.consume("tpm", 1_000, 60_000, -100);
    ledger.consume("refund-only", 10, 60_000, -3);
    ledger.consume("bad", 0, 60_000, 1);
    ledger.spend("nan", Number.NaN, 1);
    now = 10_000;
    const charged = ledger.take();
    expect(charged.map((s) => s.rates[0].key)).toEqual(["tpm"]);
    expect(charged[0].rates[0].delta).toBeCloseTo(200 - 10_000 / 60, 9);
  });

  it("keeps at most maxKeys keys and counts the rest", () => {
    const ledger = new OutageLedger(() => 0, 2);
    ledger.consume("a", 1, 1_000, 1);
    ledger.spend("b", 1, 1_000);
    ledger.consume("c", 1, 1_000, 1);
    ledger.consume("a", 1, 1_000, 1);
    expect(ledger.dropped).toBe(1);
    expect(ledger.take()).toHaveLength(2);
  });
});
