/**
 * The in-process limit store: one replica, or the local fallback while Redis is unreachable.
 * Plain Maps and the pure GCRA functions; a periodic sweep drops state that has expired.
 * A concurrency slot is a lease that expires `leaseMaxMs` after admission, so a release that
 * never comes (a bug on some exit path) costs the key one slot for a bounded time, not forever.
 */
import { gcraAdjust, gcraAdmit, gcraStatus } from "./gcra";
import type { AdmitInput, AdmitResult, LimitStore, RateStatus, SettleInput, SettleResult } from "./store";

const SWEEP_INTERVAL_MS = 30_000;

/** Longest a slot is held without a release (the traffic control derives it from the upstream deadline and maxStreamMs). */
export const DEFAULT_LEASE_MAX_MS = 15 * 60_000;

export interface MemoryStoreOptions {
  leaseMaxMs?: number;
}

export class MemoryStore implements LimitStore {
  readonly kind = "memory" as const;
  private readonly tats = new Map<string, number>();
  /** Concurrency key → lease id → expiry (ms). */
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly spends = new Map<string, { nano: number; expiresAt: number }>();
  /**
   * Outstanding budget reservations: budget key → lease id → nano-USD (released by settle), with
   * their running total, so an admission reads what is held in O(1) rather than summing every
   * request in flight on the budget (thousands with long streams).
   */
  private readonly reservations = new Map<string, { total: number; leases: Map<string, number> }>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly leaseMaxMs: number;

  constructor(private readonly now: () => number = Date.now, options: MemoryStoreOptions = {}) {
    this.leaseMaxMs = options.leaseMaxMs ?? DEFAULT_LEASE_MAX_MS;
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
    const spentNano: number[] = [];
    // Loops, not map() with a closure: this runs at every admission.
    const budgets = input.budgets;
    for (let index = 0; index < budgets.length; index++) {
      const budget = budgets[index];
      const spent = this.spent(budget.key, now);
      const reserve = budget.reserveNano ?? 0;
      const held = reserve > 0 ? this.held(budget.key) : 0;
      heldNano.push(held);
      spentNano.push(spent);
      if (!failed && (spent >= budget.limitNano || spent + held + reserve > budget.limitNano)) {
        failed = { kind: "budget", index };
        // Waiting helps only when other requests' reservations are what is in the way.
        retryAfterMs = spent >= budget.limitNano || spent + reserve > budget.limitNano ? -1 : 1000;
      }
    }
    const decisions = input.rates.map((rate, index) => {
      const decision = gcraAdmit(this.tats.get(rate.key), now, rate.limit, rate.periodMs, rate.cost);
      if (!failed && !decision.allowed) {
        failed = { kind: "rate", index };
        retryAfterMs = decision.retryAfterMs;
      }
      return decision;
    });
    const conc = input.concurrency;
    if (conc && !failed && this.heldSlots(conc.key, now) >= conc.limit) {
      failed = { kind: "concurrency", index: 0 };
      retryAfterMs = 1000;
    }
    const allowed = failed === null;
    if (allowed) {
      input.rates.forEach((rate, i) => this.tats.set(rate.key, decisions[i].tat));
      if (conc) {
        let leases = this.slots.get(conc.key);
        if (!leases) this.slots.set(conc.key, (leases = new Map()));
        leases.set(conc.leaseId, now + this.leaseMaxMs);
      }
      for (let i = 0; i < budgets.length; i++) if ((budgets[i].reserveNano ?? 0) > 0) this.reserve(budgets[i].key, input.leaseId ?? "", budgets[i].reserveNano ?? 0);
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
      // An emptied key keeps its (empty) lease Map for its next request; the sweep drops it.
      this.slots.get(input.concurrency.key)?.delete(input.concurrency.leaseId);
    }
    const reservations = input.reservations;
    if (reservations !== undefined) for (let i = 0; i < reservations.length; i++) this.release(reservations[i].key, reservations[i].leaseId);
    const spentNano: number[] = [];
    for (let i = 0; i < input.spends.length; i++) {
      const spend = input.spends[i];
      const entry = this.spends.get(spend.key);
      if (entry && entry.expiresAt > now) {
        entry.nano += spend.addNano;
        spentNano.push(entry.nano);
      } else {
        this.spends.set(spend.key, { nano: spend.addNano, expiresAt: now + spend.ttlMs });
        spentNano.push(spend.addNano);
      }
    }
    return { spentNano };
  }

  private held(key: string): number {
    return this.reservations.get(key)?.total ?? 0;
  }

  private reserve(key: string, leaseId: string, nano: number): void {
    let held = this.reservations.get(key);
    if (!held) this.reservations.set(key, (held = { total: 0, leases: new Map() }));
    held.leases.set(leaseId, (held.leases.get(leaseId) ?? 0) + nano);
    held.total += nano;
  }

  private release(key: string, leaseId: string): void {
    const held = this.reservations.get(key);
    const nano = held?.leases.get(leaseId);
    if (!held || nano === undefined) return;
    held.leases.delete(leaseId);
    // Amounts are integer nano-USD: the total stays exact; an empty budget starts again from 0.
    if (held.leases.size === 0) this.reservations.delete(key);
    else held.total -= nano;
  }

  /**
   * Live leases on `key`; expired ones are dropped. Every lease expires a fixed time after it was
   * taken, so a Map (insertion order) holds them oldest first and the scan stops at the first live
   * one: O(expired), not O(held), which matters with thousands of streams open on one key.
   */
  private heldSlots(key: string, now: number): number {
    const leases = this.slots.get(key);
    if (!leases || leases.size === 0) return 0;
    for (const [id, expiresAt] of leases) {
      if (expiresAt > now) break;
      leases.delete(id);
    }
    return leases.size;
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
    for (const key of this.slots.keys()) if (this.heldSlots(key, now) === 0) this.slots.delete(key);
  }

  /** Number of entries held, an emptied key's lease Map included until the sweep (tests check the sweep). */
  get size(): number {
    return this.tats.size + this.slots.size + this.spends.size + this.reservations.size;
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
