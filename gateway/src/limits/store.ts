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
}

/** Admitted while spend (nano-USD) is below the limit. */
export interface BudgetCheck {
  key: string;
  limitNano: number;
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
  /** The store holding this admission's state: settle() goes there. */
  store: LimitStore;
}

export interface SettleInput {
  /** Token settlement: `delta` units added (usage above the reservation) or refunded (< 0). */
  rates: readonly { key: string; limit: number; periodMs: number; delta: number }[];
  concurrency: { key: string; leaseId: string } | null;
  /** Spend to add (nano-USD, integer); keys expire `ttlMs` after their first write. */
  spends: readonly { key: string; addNano: number; ttlMs: number }[];
}

export interface SettleResult {
  /** One per spend entry: the total after adding. */
  spentNano: number[];
}

export interface LimitStore {
  readonly kind: "memory" | "redis";
  admit(input: AdmitInput): Promise<AdmitResult>;
  settle(input: SettleInput): Promise<SettleResult>;
  close(): Promise<void>;
}
