/**
 * Redis Cluster support for the limit store, pure: which slot a request's keys live on, and how
 * an admission or settlement whose keys span several slots (a key's limits and its team's budget)
 * is cut into one part per slot, with the index of every check in the original request so the
 * parts' answers can be put back together. Keys are the store's prefixed keys.
 */
import { keySlot } from "../store/key-slot";
import type { AdmitInput, AdmitResult, RateStatus, SettleInput } from "./store";

export interface AdmitPart {
  slot: number;
  input: AdmitInput;
  /** Original index of each of the part's budgets and rates. */
  budgetIndexes: number[];
  rateIndexes: number[];
}

/**
 * One part per slot; the part holding the concurrency slot or the rate limits (the key's own
 * state) comes first, so a request refused by its own limits never touches its team's slot.
 */
export function splitAdmit(input: AdmitInput, prefix: string): AdmitPart[] {
  const parts = new Map<number, AdmitPart>();
  const partFor = (key: string): AdmitPart => {
    const slot = keySlot(prefix + key);
    let part = parts.get(slot);
    if (!part) {
      part = { slot, input: { budgets: [], rates: [], concurrency: null, leaseId: input.leaseId }, budgetIndexes: [], rateIndexes: [] };
      parts.set(slot, part);
    }
    return part;
  };
  let home: AdmitPart | null = null;
  if (input.concurrency) {
    home = partFor(input.concurrency.key);
    home.input = { ...home.input, concurrency: input.concurrency };
  }
  input.rates.forEach((rate, i) => {
    const part = partFor(rate.key);
    home ??= part;
    (part.input.rates as AdmitInput["rates"][number][]).push(rate);
    part.rateIndexes.push(i);
  });
  input.budgets.forEach((budget, i) => {
    const part = partFor(budget.key);
    (part.input.budgets as AdmitInput["budgets"][number][]).push(budget);
    part.budgetIndexes.push(i);
  });
  const all = [...parts.values()];
  return home ? [home, ...all.filter((p) => p !== home)] : all;
}

/** The slot every key of `input` is on, or null when they span several. */
export function singleSlotOf(input: AdmitInput | SettleInput, prefix: string): number | null {
  let slot: number | null = null;
  const keys: string[] = [];
  if ("budgets" in input) for (const b of input.budgets) keys.push(b.key);
  else {
    for (const s of input.spends) keys.push(s.key);
    for (const r of input.reservations ?? []) keys.push(r.key);
  }
  for (const r of input.rates) keys.push(r.key);
  if (input.concurrency) keys.push(input.concurrency.key);
  for (const key of keys) {
    const s = keySlot(prefix + key);
    if (slot === null) slot = s;
    else if (s !== slot) return null;
  }
  return slot ?? 0;
}

/**
 * The answer to the whole request from its parts' answers, in part order; `answered` may stop
 * short (a part refused and the rest were not asked). Budgets not asked report NaN (unknown).
 */
export function mergeAdmit(input: AdmitInput, parts: readonly AdmitPart[], answered: readonly AdmitResult[], store: AdmitResult["store"]): AdmitResult {
  const spentNano = input.budgets.map(() => Number.NaN);
  const heldNano = input.budgets.map(() => Number.NaN);
  const rates: RateStatus[] = input.rates.map(() => ({ remaining: 0, resetMs: 0 }));
  let refused: { result: AdmitResult; part: AdmitPart } | null = null;
  answered.forEach((result, p) => {
    const part = parts[p];
    part.budgetIndexes.forEach((original, j) => {
      spentNano[original] = result.spentNano[j];
      heldNano[original] = result.heldNano[j];
    });
    part.rateIndexes.forEach((original, j) => (rates[original] = result.rates[j]));
    if (!result.allowed && !refused) refused = { result, part };
  });
  if (!refused) return { allowed: true, failed: null, retryAfterMs: 0, rates, spentNano, heldNano, store };
  const { result, part } = refused as { result: AdmitResult; part: AdmitPart };
  const failed = result.failed === null ? null : result.failed.kind === "concurrency" ? result.failed : { kind: result.failed.kind, index: (result.failed.kind === "budget" ? part.budgetIndexes : part.rateIndexes)[result.failed.index] };
  return { allowed: false, failed, retryAfterMs: result.retryAfterMs, rates, spentNano, heldNano, store };
}

/**
 * What undoes an admitted part when a later part refuses: its concurrency slot and budget
 * reservations released, its non-sticky rate costs refunded (a sticky rate, requests per minute,
 * stays spent: a refused request still counts as a request, as in one atomic script).
 */
export function undoOf(part: AdmitPart): SettleInput {
  const { input } = part;
  return {
    rates: input.rates.filter((r) => !r.sticky && r.cost !== 0).map((r) => ({ key: r.key, limit: r.limit, periodMs: r.periodMs, delta: -r.cost })),
    concurrency: input.concurrency ? { key: input.concurrency.key, leaseId: input.concurrency.leaseId } : null,
    spends: [],
    reservations: input.leaseId ? input.budgets.filter((b) => (b.reserveNano ?? 0) > 0).map((b) => ({ key: b.key, leaseId: input.leaseId!, reserveNano: b.reserveNano ?? 0 })) : [],
  };
}

export interface SettlePart {
  slot: number;
  input: SettleInput;
  /** Original index of each of the part's spends. */
  spendIndexes: number[];
}

/** One part per slot (settlements need no atomicity across slots). */
export function splitSettle(input: SettleInput, prefix: string): SettlePart[] {
  const parts = new Map<number, SettlePart>();
  const partFor = (key: string): SettlePart => {
    const slot = keySlot(prefix + key);
    let part = parts.get(slot);
    if (!part) {
      part = { slot, input: { rates: [], concurrency: null, spends: [], reservations: [] }, spendIndexes: [] };
      parts.set(slot, part);
    }
    return part;
  };
  for (const rate of input.rates) (partFor(rate.key).input.rates as SettleInput["rates"][number][]).push(rate);
  if (input.concurrency) {
    const part = partFor(input.concurrency.key);
    part.input = { ...part.input, concurrency: input.concurrency };
  }
  input.spends.forEach((spend, i) => {
    const part = partFor(spend.key);
    (part.input.spends as SettleInput["spends"][number][]).push(spend);
    part.spendIndexes.push(i);
  });
  for (const r of input.reservations ?? []) (partFor(r.key).input.reservations as NonNullable<SettleInput["reservations"]>[number][]).push(r);
  return [...parts.values()];
}
