/**
 * The in-process limit store: one replica, or the local fallback while Redis is unreachable.
 * Plain Maps and the pure GCRA functions; a periodic sweep drops state that has expired.
 */
import { gcraAdjust, gcraAdmit, gcraStatus } from "./gcra";
import type { AdmitInput, AdmitResult, LimitStore, RateStatus, SettleInput, SettleResult } from "./store";

const SWEEP_INTERVAL_MS = 30_000;

export class MemoryStore implements LimitStore {
  readonly kind = "memory" as const;
  private readonly tats = new Map<string, number>();
  private readonly slots = new Map<string, number>();
  private readonly spends = new Map<string, { nano: number; expiresAt: number }>();
  /** Outstanding budget reservations: budget key → lease id → nano-USD (released by settle). */
  private readonly reservations = new Map<string, Map<string, number>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  admit(input: AdmitInput): Promise<AdmitResult> {
    return Promise.resolve(this.admitSync(input));
  }

  /** Synchronous admission (the async API only wraps it). */
  admitSync(input: AdmitInput): AdmitResult {
    const now = this.now();
    let failed: AdmitResult["failed"] = null;
    let retryAfterMs = 0;
    const heldNano: number[] = [];
    const spentNano = input.budgets.map((budget, index) => {
      const spent = this.spent(budget.key, now);
      const reserve = budget.reserveNano ?? 0;
      const held = reserve > 0 ? this.held(budget.key) : 0;
      heldNano.push(held);
      if (!failed && (spent >= budget.limitNano || spent + held + reserve > budget.limitNano)) {
        failed = { kind: "budget", index };
        // Waiting helps only when other requests' reservations are what is in the way.
        retryAfterMs = spent >= budget.limitNano || spent + reserve > budget.limitNano ? -1 : 1000;
      }
      return spent;
    });
    const decisions = input.rates.map((rate, index) => {
      const decision = gcraAdmit(this.tats.get(rate.key), now, rate.limit, rate.periodMs, rate.cost);
      if (!failed && !decision.allowed) {
        failed = { kind: "rate", index };
        retryAfterMs = decision.retryAfterMs;
      }
      return decision;
    });
    const conc = input.concurrency;
    if (conc && !failed && (this.slots.get(conc.key) ?? 0) >= conc.limit) {
      failed = { kind: "concurrency", index: 0 };
      retryAfterMs = 1000;
    }
    const allowed = failed === null;
    if (allowed) {
      input.rates.forEach((rate, i) => this.tats.set(rate.key, decisions[i].tat));
      if (conc) this.slots.set(conc.key, (this.slots.get(conc.key) ?? 0) + 1);
      for (const budget of input.budgets) if ((budget.reserveNano ?? 0) > 0) this.reserve(budget.key, input.leaseId ?? "", budget.reserveNano ?? 0);
    } else {
      // A refused request still spends its request slot (sticky rates), so refusals are not free.
      input.rates.forEach((rate, i) => {
        if (rate.sticky && decisions[i].allowed) this.tats.set(rate.key, decisions[i].tat);
      });
    }
    // Report the limits as they stand after the decision.
    const rates: RateStatus[] = allowed
      ? decisions.map((d) => ({ remaining: d.remaining, resetMs: d.resetMs }))
      : input.rates.map((rate) => gcraStatus(this.tats.get(rate.key), now, rate.limit, rate.periodMs));
    return { allowed, failed, retryAfterMs: allowed ? 0 : retryAfterMs, rates, spentNano, heldNano, store: this };
  }

  settle(input: SettleInput): Promise<SettleResult> {
    return Promise.resolve(this.settleSync(input));
  }

  settleSync(input: SettleInput): SettleResult {
    const now = this.now();
    for (const rate of input.rates) {
      const tat = gcraAdjust(this.tats.get(rate.key), now, rate.limit, rate.periodMs, rate.delta);
      if (tat === undefined) this.tats.delete(rate.key);
      else this.tats.set(rate.key, tat);
    }
    if (input.concurrency) {
      const held = (this.slots.get(input.concurrency.key) ?? 0) - 1;
      if (held > 0) this.slots.set(input.concurrency.key, held);
      else this.slots.delete(input.concurrency.key);
    }
    for (const r of input.reservations ?? []) this.release(r.key, r.leaseId);
    const spentNano = input.spends.map((spend) => {
      const entry = this.spends.get(spend.key);
      if (entry && entry.expiresAt > now) {
        entry.nano += spend.addNano;
        return entry.nano;
      }
      this.spends.set(spend.key, { nano: spend.addNano, expiresAt: now + spend.ttlMs });
      return spend.addNano;
    });
    return { spentNano };
  }

  private held(key: string): number {
    let total = 0;
    for (const nano of this.reservations.get(key)?.values() ?? []) total += nano;
    return total;
  }

  private reserve(key: string, leaseId: string, nano: number): void {
    let held = this.reservations.get(key);
    if (!held) this.reservations.set(key, (held = new Map()));
    held.set(leaseId, (held.get(leaseId) ?? 0) + nano);
  }

  private release(key: string, leaseId: string): void {
    const held = this.reservations.get(key);
    if (!held) return;
    held.delete(leaseId);
    if (held.size === 0) this.reservations.delete(key);
  }

  private spent(key: string, now: number): number {
    const entry = this.spends.get(key);
    return entry && entry.expiresAt > now ? entry.nano : 0;
  }

  /** Drops full limits and expired spend so memory tracks active keys only. */
  sweep(): void {
    const now = this.now();
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    for (const [key, entry] of this.spends) if (entry.expiresAt <= now) this.spends.delete(key);
  }

  /** Number of entries held (tests check the sweep). */
  get size(): number {
    return this.tats.size + this.slots.size + this.spends.size + this.reservations.size;
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
