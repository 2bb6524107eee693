/**
 * A small mergeable histogram of durations in ms, pure: log-spaced buckets (×2^¼ each, so a
 * quantile is off by at most ~9%), stored sparsely. Enough for a console's p50/p95 without
 * keeping every sample.
 */
const STEPS_PER_DOUBLING = 4;
const LOG_BASE = Math.log(2) / STEPS_PER_DOUBLING;

export type LogHistogram = Map<number, number>;

/** The bucket of `ms`: values below 1 ms share bucket 0. */
export function bucketOf(ms: number): number {
  return ms < 1 ? 0 : 1 + Math.floor(Math.log(ms) / LOG_BASE);
}

/** The geometric middle of a bucket, in ms. */
function middleOf(bucket: number): number {
  if (bucket === 0) return 0.5;
  return Math.exp((bucket - 0.5) * LOG_BASE);
}

export function observe(histogram: LogHistogram, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  const bucket = bucketOf(ms);
  histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
}

export function mergeInto(target: LogHistogram, source: LogHistogram): void {
  for (const [bucket, count] of source) target.set(bucket, (target.get(bucket) ?? 0) + count);
}

/** The q-quantile (0..1) in ms, rounded to 0.1 ms; null when empty. */
export function quantile(histogram: LogHistogram, q: number): number | null {
  let total = 0;
  for (const count of histogram.values()) total += count;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return Math.round(middleOf(bucket) * 10) / 10;
  }
  return null;
}
