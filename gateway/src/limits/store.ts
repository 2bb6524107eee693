/**
 * The limit store contract: one atomic admission (budgets, rate limits, a concurrency slot; all
 * or nothing, so a refusal on one check consumes none of the others) and one settlement.
 * Keys are logical (`rl:<name>:rpm`); a store may prefix them.
 */

/** A GCRA limit: `limit` units per `periodMs`, this request costing `cost` units. */
export interface RateCheck {
  key: string;
  limit: number;
  periodMs: number;
  cost: number;
  /** Consumed even when another check refuses (requests per minute: a refusal is a request). */
  sticky?: boolean;
}

/**
 * Admitted while spend plus every outstanding reservation plus this request's worst case
 * (`reserveNano`) stays within the limit; the reservation is held under the admission's
 * `leaseId` until settled, or until it expires (a replica that died mid-request).
 */
export interface BudgetCheck {
  key: string;
  limitNano: number;
  /** Default 0: no reservation, admitted while spend is below the limit. */
  reserveNano?: number;
}

/** A slot among `limit`, held under `leaseId` until settled (or until the lease expires). */
export interface ConcurrencyCheck {
  key: string;
  limit: number;
  leaseId: string;
}

export interface AdmitInput {
  budgets: readonly BudgetCheck[];
  rates: readonly RateCheck[];
  concurrency: ConcurrencyCheck | null;
  /** Names the budget reservations (and matches the concurrency lease id when both exist). */
  leaseId?: string;
}

export interface RateStatus {
  remaining: number;
  resetMs: number;
}

export type FailedCheck = { kind: "budget" | "rate"; index: number } | { kind: "concurrency"; index: 0 };

export interface AdmitResult {
  allowed: boolean;
  /** The first check that refused (budgets, then rates, then concurrency); null when allowed. */
  failed: FailedCheck | null;
  /** Ms until the refused request would fit; -1 when waiting cannot help. */
  retryAfterMs: number;
  /** One per rate check, after this decision. */
  rates: RateStatus[];
  /** One per budget check: spend so far this period, in nano-USD. */
  spentNano: number[];
  /** One per budget check: reservations of other requests still outstanding, in nano-USD. */
  heldNano: number[];
  /** The store holding this admission's state: settle() goes there. */
  store: LimitStore;
}

export interface SettleInput {
  /** Token settlement: `delta` units added (usage above the reservation) or refunded (< 0). */
  rates: readonly { key: string; limit: number; periodMs: number; delta: number }[];
  concurrency: { key: string; leaseId: string } | null;
  /** Spend to add (nano-USD, integer); keys expire `ttlMs` after their first write. */
  spends: readonly { key: string; addNano: number; ttlMs: number }[];
  /** Budget reservations to release (as admitted: budget key, lease id, amount). */
  reservations?: readonly Reservation[];
}

export interface Reservation {
  key: string;
  leaseId: string;
  reserveNano: number;
}

/** Largest spend one settlement may add ($1M): anything above is a bad usage block, not a bill. */
export const MAX_SETTLE_NANO = 1e15;

export interface SettleResult {
  /** One per spend entry: the total after adding. */
  spentNano: number[];
}

export interface LimitStore {
  readonly kind: "memory" | "redis";
  admit(input: AdmitInput): Promise<AdmitResult>;
  settle(input: SettleInput): Promise<SettleResult>;
  /** The same decisions without a promise, for a store that makes them synchronously (the memory store). */
  admitSync?(input: AdmitInput): AdmitResult;
  settleSync?(input: SettleInput): SettleResult;
  close(): Promise<void>;
}
