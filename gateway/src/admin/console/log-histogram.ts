/**
 * A small mergeable histogram of durations in ms, pure: log-spaced buckets (×2^¼ each, so a
 * quantile is off by at most ~9%) in a fixed array, from under 1 ms to past an hour. Enough for
 * a console's p50/p95 without keeping samples; an observation is one log and one increment.
 */
const STEPS_PER_DOUBLING = 4;
const LOG_BASE = Math.log(2) / STEPS_PER_DOUBLING;
/** Bucket 0 is below 1 ms; the last one holds everything from about 75 minutes up. */
export const BUCKETS = 96;

export type LogHistogram = Uint32Array;

export function newHistogram(): LogHistogram {
  return new Uint32Array(BUCKETS);
}

/** The bucket of `ms`: values below 1 ms share bucket 0. */
export function bucketOf(ms: number): number {
  return ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / LOG_BASE));
}

/** The geometric middle of a bucket, in ms. */
function middleOf(bucket: number): number {
  return bucket === 0 ? 0.5 : Math.exp((bucket - 0.5) * LOG_BASE);
}

export function observe(histogram: LogHistogram, ms: number): void {
  if (ms >= 0) histogram[bucketOf(ms)] += 1;
}

export function mergeInto(target: LogHistogram, source: LogHistogram): void {
  for (let i = 0; i < BUCKETS; i++) target[i] += source[i];
}

/** The q-quantile (0..1) in ms, rounded to 0.1 ms; null when empty. */
export function quantile(histogram: LogHistogram, q: number): number | null {
  let total = 0;
  for (let i = 0; i < BUCKETS; i++) total += histogram[i];
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += histogram[i];
    if (seen >= rank) return Math.round(middleOf(i) * 10) / 10;
  }
  return null;
}
