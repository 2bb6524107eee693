/**
 * A replica's share of the fleet's limits while Redis is down (failOpen): every rate limit,
 * concurrency limit and budget divided by the last known fleet size (./fleet-registry.ts), at
 * least 1 request and 1 slot, so N replicas serving on local limits admit about one limit in
 * total, not N. The share is taken on the way in and on the way out (a settlement's GCRA step
 * depends on the limit it was admitted under).
 */
import type { AdmitInput, AdmitResult, LimitStore, SettleInput, SettleResult } from "./store";

/** `limit` split over `replicas`, rounded down, at least 1. */
export function shareOf(limit: number, replicas: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, replicas)));
}

export function shareAdmit(input: AdmitInput, replicas: number): AdmitInput {
  if (replicas <= 1) return input;
  return {
    ...input,
    rates: input.rates.map((r) => ({ ...r, limit: shareOf(r.limit, replicas) })),
    concurrency: input.concurrency && { ...input.concurrency, limit: shareOf(input.concurrency.limit, replicas) },
    budgets: input.budgets.map((b) => ({ ...b, limitNano: Math.floor(b.limitNano / replicas) })),
  };
}

export function shareSettle(input: SettleInput, replicas: number): SettleInput {
  if (replicas <= 1) return input;
  return { ...input, rates: input.rates.map((r) => ({ ...r, limit: shareOf(r.limit, replicas) })) };
}

/** The local store, enforcing this replica's share of each limit. */
export class FleetShareStore implements LimitStore {
  readonly kind: LimitStore["kind"];

  constructor(
    private readonly local: LimitStore,
    private readonly replicas: () => number,
  ) {
    this.kind = local.kind;
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const n = this.replicas();
    const result = await this.local.admit(shareAdmit(input, n));
    // Settles under the share it was admitted with, even if the fleet size changes meanwhile.
    const store: LimitStore = { kind: this.kind, admit: (i) => this.admit(i), settle: (s) => this.local.settle(shareSettle(s, n)), close: () => Promise.resolve() };
    return { ...result, store };
  }

  settle(input: SettleInput): Promise<SettleResult> {
    return this.local.settle(shareSettle(input, this.replicas()));
  }

  close(): Promise<void> {
    return this.local.close();
  }
}
