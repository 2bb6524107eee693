/**
 * GCRA (generic cell rate algorithm) arithmetic, as pure functions. A limit of `limit` units per
 * `periodMs` keeps one number: the theoretical arrival time (TAT). Each unit pushes the TAT
 * `periodMs / limit` ms forward; a request fits while the TAT stays within `periodMs` of now.
 * So a full bucket admits `limit` at once and then refills continuously: unlike fixed windows
 * there is no window edge where two full allotments fit back to back.
 * The Lua scripts in ./lua.ts mirror these functions step for step.
 */

/** Tolerance for float rounding (ms): 60000/7 * 7 must not count as over the limit. */
export const GCRA_EPSILON_MS = 1e-3;

export interface GcraDecision {
  allowed: boolean;
  /** The TAT to store when allowed (unchanged input otherwise). */
  tat: number;
  /** Units still available right after this decision. */
  remaining: number;
  /** Ms until the limit is fully available again (OpenAI's x-ratelimit-reset-*). */
  resetMs: number;
  /** Ms until this request would fit; -1 when it never can (cost above the limit). */
  retryAfterMs: number;
}

function remainingUnits(tat: number, now: number, limit: number, periodMs: number): number {
  const interval = periodMs / limit;
  const free = Math.floor((periodMs - (tat - now)) / interval + 1e-6);
  return Math.max(0, Math.min(limit, free));
}

/** The state of a limit without admitting anything (for a request another limit refused). */
export function gcraStatus(storedTat: number | undefined, now: number, limit: number, periodMs: number): { remaining: number; resetMs: number } {
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  return { remaining: remainingUnits(tat, now, limit, periodMs), resetMs: tat - now };
}

/** Decides one request of `cost` units; `storedTat` is undefined when nothing is stored. */
export function gcraAdmit(storedTat: number | undefined, now: number, limit: number, periodMs: number, cost: number): GcraDecision {
  const interval = periodMs / limit;
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const newTat = tat + cost * interval;
  const allowAt = newTat - periodMs;
  if (cost > limit) {
    return { allowed: false, tat, remaining: remainingUnits(tat, now, limit, periodMs), resetMs: tat - now, retryAfterMs: -1 };
  }
  if (allowAt > now + GCRA_EPSILON_MS) {
    return { allowed: false, tat, remaining: remainingUnits(tat, now, limit, periodMs), resetMs: tat - now, retryAfterMs: allowAt - now };
  }
  return { allowed: true, tat: newTat, remaining: remainingUnits(newTat, now, limit, periodMs), resetMs: newTat - now, retryAfterMs: 0 };
}

/**
 * Settles a reservation: `delta` units more (positive: real usage above the reservation) or
 * fewer (negative: refund). Returns the new TAT, or undefined when the limit is full again.
 * A charge above the reservation may push the TAT past the burst: later requests then wait.
 */
export function gcraAdjust(storedTat: number | undefined, now: number, limit: number, periodMs: number, delta: number): number | undefined {
  const interval = periodMs / limit;
  const base = storedTat === undefined || storedTat < now ? now : storedTat;
  const tat = base + delta * interval;
  return tat <= now ? undefined : tat;
}
