/**
 * Monthly spend bookkeeping: store keys per calendar month (UTC), and the threshold crossings
 * that log a budget event. Crossings are detected on the atomic total, so exactly one
 * settlement in the fleet sees each one.
 */
import { redisKeys } from "../store/redis-keys";

/** `YYYY-MM` of a time, UTC. */
export function monthOf(time: number): string {
  if (time >= month.start && time < month.end) return month.label;
  const date = new Date(time);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  month = { start, end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1), label: date.toISOString().slice(0, 7) };
  return month.label;
}

/** The month last asked for: every request of a month reuses its label (no Date per request). */
let month = { start: 0, end: 0, label: "" };

export function keySpendKey(keyId: string, month: string): string {
  return redisKeys.keySpend(keyId, month);
}

export function teamSpendKey(team: string, month: string): string {
  return redisKeys.teamSpend(team, month);
}

/** Spend keys outlive their month a little, then expire. */
export const SPEND_TTL_MS = 40 * 24 * 3600 * 1000;

/** Ratios that log an event when crossed. */
export const BUDGET_THRESHOLDS = [0.8, 1] as const;

/** Whether going from `before` to `after` crosses any threshold (no array: this runs at every priced settlement). */
export function crossesThreshold(before: number, after: number, limitNano: number): boolean {
  for (let i = 0; i < BUDGET_THRESHOLDS.length; i++) {
    const at = BUDGET_THRESHOLDS[i] * limitNano;
    if (before < at && after >= at) return true;
  }
  return false;
}

/** The thresholds crossed by going from `before` to `after` (nano-USD) against `limit`. */
export function crossedThresholds(before: number, after: number, limitNano: number): number[] {
  return BUDGET_THRESHOLDS.filter((t) => before < t * limitNano && after >= t * limitNano);
}
