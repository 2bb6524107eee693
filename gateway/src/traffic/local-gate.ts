/**
 * What this replica already knows about a key without asking the store: until when its
 * requests-per-minute limit is spent (learned from the store's last answer: other replicas only
 * push that time later, never earlier) and how many of its concurrency slots this replica holds
 * (a lower bound on the fleet's). A request that cannot pass is refused before its body is read
 * or its tokens counted, so refusals stay cheap however fast a client sends.
 */
import type { RateStatus } from "../limits/store";

const MAX_TRACKED = 100_000;

export class LocalGate {
  /** Key name → when its next request fits its requests per minute, and when the limit is full again (ms). */
  private readonly rpmBlockedUntil = new Map<string, { until: number; resetAt: number }>();
  /** Key name → admissions this replica holds. */
  private readonly inflight = new Map<string, number>();

  /** Ms until the key's next request fits (and until its limit is full), or null when this replica knows no reason to refuse. */
  rpmWait(keyId: string, now: number): { waitMs: number; resetMs: number } | null {
    const blocked = this.rpmBlockedUntil.get(keyId);
    if (blocked === undefined) return null;
    if (blocked.until > now) return { waitMs: blocked.until - now, resetMs: blocked.resetAt - now };
    this.rpmBlockedUntil.delete(keyId);
    return null;
  }

  /** Records the store's view of a requests-per-minute limit after a decision. */
  learnRpm(keyId: string, limit: number, periodMs: number, status: RateStatus, now: number): void {
    if (status.remaining > 0) {
      this.rpmBlockedUntil.delete(keyId);
      return;
    }
    // Full until the theoretical arrival time; one more request fits an interval before it.
    const wait = status.resetMs + periodMs / limit - periodMs - 1;
    if (wait <= 0) return;
    if (this.rpmBlockedUntil.size >= MAX_TRACKED) this.rpmBlockedUntil.clear();
    this.rpmBlockedUntil.set(keyId, { until: now + wait, resetAt: now + status.resetMs });
  }

  held(keyId: string): number {
    return this.inflight.get(keyId) ?? 0;
  }

  acquire(keyId: string): void {
    this.inflight.set(keyId, this.held(keyId) + 1);
  }

  release(keyId: string): void {
    const held = this.held(keyId) - 1;
    // A key whose last request ended keeps its entry at 0 (a key used once is usually used again:
    // deleting and re-adding it on every request churns the Map), unless many keys are tracked.
    if (held > 0 || this.inflight.size < MAX_TRACKED) this.inflight.set(keyId, Math.max(0, held));
    else this.inflight.delete(keyId);
  }
}
