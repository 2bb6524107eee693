/**
 * Holds refusals that cost the gateway nothing to decide (a key already known to be over its
 * requests per minute or concurrency) before answering them. A client that ignores Retry-After
 * and loops would otherwise get its 429 in a fraction of a millisecond and come straight back,
 * so each of its connections costs the gateway a full request's CPU hundreds of times a second.
 * Held answers pace such a client to about one request per connection per delay. Bounded per key
 * and in all: a held refusal keeps a socket open, so past the caps a refusal is answered at once.
 */
export interface RefusalDelayOptions {
  /** The longest hold (0: never hold). */
  maxDelayMs: number;
  maxHeldPerKey: number;
  maxHeldTotal: number;
}

export class RefusalDelay {
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(private readonly options: RefusalDelayOptions) {}

  /**
   * How long to hold a refusal of `subject` whose next request fits in `waitMs` (never longer:
   * the answer must not come after the moment a retry would pass), and a slot for it; 0 when it
   * must be answered at once. Call `release(subject)` when a positive hold ends.
   */
  acquire(subject: string, waitMs: number): number {
    const delay = Math.min(this.options.maxDelayMs, Math.max(0, Math.floor(waitMs)));
    if (delay === 0 || this.total >= this.options.maxHeldTotal) return 0;
    const held = this.perKey.get(subject) ?? 0;
    if (held >= this.options.maxHeldPerKey) return 0;
    this.perKey.set(subject, held + 1);
    this.total++;
    return delay;
  }

  release(subject: string): void {
    const held = (this.perKey.get(subject) ?? 0) - 1;
    if (held > 0) this.perKey.set(subject, held);
    else this.perKey.delete(subject);
    this.total = Math.max(0, this.total - 1);
  }

  /** Refusals held now (metrics, tests). */
  get heldCount(): number {
    return this.total;
  }
}
