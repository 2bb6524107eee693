/**
 * When to restart a crashed worker. A worker that dies at once again and again (a bad upstream
 * answer that crashes it, memory exhausted at start) is restarted later and later, so a crash
 * loop cannot eat the CPU its siblings serve with; one that ran a while starts the count afresh.
 */
export interface BackoffPolicy {
  /** First delay. */
  baseMs: number;
  /** Longest delay. */
  maxMs: number;
  /** A worker that lived this long before crashing resets the count. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, stableMs: 30_000 };

export class RestartBackoff {
  /** Crashes in a row of workers that did not live `stableMs`. */
  private streak = 0;
  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Records a crash of a worker that lived `livedMs`; returns how long to wait before its restart. */
  onCrash(livedMs: number): number {
    if (livedMs >= this.policy.stableMs) this.streak = 0;
    const delay = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(this.streak, 30));
    this.streak++;
    return delay;
  }

  get crashesInARow(): number {
    return this.streak;
  }
}
