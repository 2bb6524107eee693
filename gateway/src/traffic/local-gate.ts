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
  rpmWait(keyName: string, now: number): { waitMs: number; resetMs: number } | null {
    const blocked = this.rpmBlockedUntil.get(keyName);
    if (blocked === undefined) return null;
    if (blocked.until > now) return { waitMs: blocked.until - now, resetMs: blocked.resetAt - now };
    this.rpmBlockedUntil.delete(keyName);
    return null;
  }

  /** Records the store's view of a requests-per-minute limit after a decision. */
  learnRpm(keyName: string, limit: number, periodMs: number, status: RateStatus, now: number): void {
    if (status.remaining > 0) {
      this.rpmBlockedUntil.delete(keyName);
      return;
    }
    // Full until the theoretical arrival time; one more request fits an interval before it.
    const wait = status.resetMs + periodMs / limit - periodMs - 1;
    if (wait <= 0) return;
    if (this.rpmBlockedUntil.size >= MAX_TRACKED) this.rpmBlockedUntil.clear();
    this.rpmBlockedUntil.set(keyName, { until: now + wait, resetAt: now + status.resetMs });
  }

  held(keyName: string): number {
    return this.inflight.get(keyName) ?? 0;
  }

  acquire(keyName: string): void {
    this.inflight.set(keyName, this.held(keyName) + 1);
  }

  release(keyName: string): void {
    const held = this.held(keyName) - 1;
    if (held > 0) this.inflight.set(keyName, held);
    else this.inflight.delete(keyName);
  }
}
