/**
 * What a replica admitted and spent on its local limits while the shared store was away
 * (failOpen), kept to be charged to the shared store once it answers again: without it a key
 * that used its limit during the outage got the whole limit again the moment Redis came back
 * (twice the limit in one window, N + 1 times across N replicas), and the outage's spend never
 * reached the fleet's budget.
 *
 * Rates are kept as GCRA state of their own (the theoretical arrival time of the units consumed
 * here, at the shared limit), so what is charged is only what has not refilled by then: units
 * consumed early in a long outage have partly refilled and are charged in part. Spend is summed
 * per key. Pure apart from the clock; bounded in keys (past the bound new keys are not kept).
 */
import type { SettleInput } from "./store";

interface RateEntry {
  limit: number;
  periodMs: number;
  /** When the units consumed here will have refilled (ms, this process's clock). */
  tat: number;
}

export class OutageLedger {
  private rates = new Map<string, RateEntry>();
  private spends = new Map<string, { addNano: number; ttlMs: number }>();
  /** Keys not kept because the ledger was full. */
  dropped = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  get empty(): boolean {
    return this.rates.size === 0 && this.spends.size === 0;
  }

  /** `units` of a rate consumed now (an admission's cost, or a settlement's delta, which may be negative). */
  consume(key: string, limit: number, periodMs: number, units: number): void {
    if (!(limit > 0) || !(periodMs > 0) || !Number.isFinite(units) || units === 0) return;
    const now = this.now();
    let entry = this.rates.get(key);
    if (entry === undefined) {
      if (units < 0 || !this.room()) return;
      entry = { limit, periodMs, tat: now };
      this.rates.set(key, entry);
    }
    entry.tat = Math.max(entry.tat, now) + units * (periodMs / limit);
  }

  spend(key: string, addNano: number, ttlMs: number): void {
    if (!(addNano > 0) || !Number.isFinite(addNano)) return;
    const entry = this.spends.get(key);
    if (entry) entry.addNano += addNano;
    else if (this.room()) this.spends.set(key, { addNano, ttlMs });
  }

  /**
   * Everything recorded, as one settlement per key for the shared store (rate units not refilled
   * yet, spend); the ledger starts afresh. A settlement the shared store refuses can be recorded
   * again with `consume`/`spend`.
   */
  take(): SettleInput[] {
    const rates = this.rates;
    const spends = this.spends;
    this.rates = new Map();
    this.spends = new Map();
    const now = this.now();
    const settlements: SettleInput[] = [];
    for (const [key, e] of rates) {
      const units = (e.tat - now) / (e.periodMs / e.limit);
      if (units > 0) settlements.push({ rates: [{ key, limit: e.limit, periodMs: e.periodMs, delta: units }], concurrency: null, spends: [], reservations: [] });
    }
    for (const [key, s] of spends) settlements.push({ rates: [], concurrency: null, spends: [{ key, addNano: Math.round(s.addNano), ttlMs: s.ttlMs }], reservations: [] });
    return settlements;
  }

  private room(): boolean {
    if (this.rates.size + this.spends.size < this.maxKeys) return true;
    this.dropped++;
    return false;
  }
}
