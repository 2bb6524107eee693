/**
 * One upstream target's live state: in-flight count, latency EWMA, and its health as seen by
 * active checks (rise/fall, as HAProxy) and passive ejection (consecutive failures → cooldown
 * with exponential backoff; a 429 cools the target down until its Retry-After, capped, or until
 * an active check passes).
 */
import type { TargetConfig } from "../config/schema";

export interface PassiveHealthPolicy {
  failures: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /** Longest an upstream's Retry-After may keep a target out: one 429 must not remove it for a day. */
  maxRetryAfterMs: number;
}

/** Weight of the newest sample in the latency EWMA. */
const EWMA_ALPHA = 0.3;

export class TargetState {
  readonly id: string;
  inflight = 0;
  /** Smoothed upstream time to response headers, ms; 0 until the first sample. */
  ewmaMs = 0;
  /** Active check verdict; starts healthy so a fresh gateway serves at once. */
  activeUp = true;
  private activeStreak = 0;
  private consecutiveFailures = 0;
  private ejections = 0;
  private ejectedUntil = 0;
  private coolingUntil = 0;
  /** The upstream refused the target's credentials (401/403): out of rotation until this time. */
  private misconfiguredUntil = 0;
  private authStrikes = 0;
  /** Status of the last credential refusal, while the target is held out for it. */
  misconfiguredStatus: number | null = null;
  /** Why the last active check failed (`status_404`, `timeout`, …), `ok` once one passes. */
  activeReason = "ok";
  /** Why the target was last ejected by passive health (`status_5xx`, `connect`, …). */
  private passiveReason = "";

  constructor(
    readonly model: string,
    readonly config: TargetConfig,
    private readonly passive: PassiveHealthPolicy,
  ) {
    this.id = `${model}/${config.name}`;
  }

  get name(): string {
    return this.config.name;
  }

  /** Usable now: passes active checks and is neither ejected nor cooling down. */
  isAvailable(now: number): boolean {
    return this.activeUp && now >= this.ejectedUntil && now >= this.coolingUntil && now >= this.misconfiguredUntil;
  }

  /**
   * Healthy (active checks and passive ejection), whatever its rate limit says: what readiness
   * looks at, since every replica shares the upstream's limit and leaving the Service helps nobody.
   */
  isHealthy(now: number): boolean {
    return this.activeUp && now >= this.ejectedUntil;
  }

  recordSuccess(latencyMs: number): void {
    this.consecutiveFailures = 0;
    this.ejections = 0;
    this.authStrikes = 0;
    this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs + EWMA_ALPHA * (latencyMs - this.ewmaMs);
  }

  /** A failure that says the target is unhealthy (see countsTowardEjection). Returns true when this ejected the target. */
  recordFailure(now: number, reason = "failure"): boolean {
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures < this.passive.failures) return false;
    this.consecutiveFailures = 0;
    this.passiveReason = reason;
    const backoff = Math.min(this.passive.cooldownMs * 2 ** this.ejections, this.passive.maxCooldownMs);
    this.ejections += 1;
    this.ejectedUntil = now + backoff;
    return true;
  }

  /**
   * A 429: stay away until Retry-After (or a default), at most maxRetryAfterMs, without counting
   * it as a fault. Returns the upstream's wait as capped, or null when it gave none.
   */
  recordRateLimited(now: number, retryAfterMs: number | null): number | null {
    const capped = retryAfterMs === null ? null : Math.min(retryAfterMs, this.passive.maxRetryAfterMs);
    const coolMs = Math.min(capped ?? this.passive.cooldownMs, this.passive.maxRetryAfterMs);
    this.coolingUntil = Math.max(this.coolingUntil, now + coolMs);
    return capped;
  }

  /**
   * The upstream refused the target's own credentials (401/403): a configuration fault that every
   * request would hit, so the target leaves rotation at once, for the passive cooldown, doubling
   * while it keeps failing. Only a request that succeeds resets the backoff: a probe path may
   * accept a key the API refuses. Returns true when the target was not already held out.
   */
  recordAuthFailure(now: number, status: number): boolean {
    const fresh = now >= this.misconfiguredUntil;
    const backoff = Math.min(this.passive.cooldownMs * 2 ** this.authStrikes, this.passive.maxCooldownMs);
    this.authStrikes += 1;
    this.misconfiguredUntil = Math.max(this.misconfiguredUntil, now + backoff);
    this.misconfiguredStatus = status;
    return fresh;
  }

  /**
   * The target's health for `aigw_target_health_info`: its state (the first that applies of
   * `misconfigured`, `down`, `ejected`, `rate_limited`, `up`) and a bounded reason.
   */
  healthInfo(now: number): { state: string; reason: string } {
    if (now < this.misconfiguredUntil) return { state: "misconfigured", reason: `upstream_auth_${this.misconfiguredStatus ?? 0}` };
    if (!this.activeUp) return { state: "down", reason: this.activeReason };
    if (now < this.ejectedUntil) return { state: "ejected", reason: this.passiveReason || "failure" };
    if (now < this.coolingUntil) return { state: "rate_limited", reason: "status_429" };
    return { state: "up", reason: "ok" };
  }

  /** Applies one active check result with rise/fall thresholds. Returns true when the verdict flipped. */
  recordCheck(passed: boolean, rise: number, fall: number, reason = passed ? "ok" : "failed"): boolean {
    // The target answers its checks: a rate-limit cooldown ends here rather than at the upstream's word.
    if (passed) this.coolingUntil = 0;
    // While up, remember the latest failure so a flip to down names it; while down, the last failure stays.
    if (!passed || this.activeUp) this.activeReason = reason;
    if (passed === this.activeUp) {
      this.activeStreak = 0;
      return false;
    }
    this.activeStreak += 1;
    if (this.activeStreak < (passed ? rise : fall)) return false;
    this.activeUp = passed;
    this.activeStreak = 0;
    if (passed) {
      this.ejectedUntil = 0;
      this.activeReason = "ok";
    }
    return true;
  }
}

/** Parses Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms into milliseconds. */
export function parseRetryAfterMs(retryAfter: string | undefined, retryAfterMs: string | undefined, now: number): number | null {
  if (retryAfterMs !== undefined) {
    const ms = Number(retryAfterMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (retryAfter === undefined) return null;
  const seconds = Number(retryAfter);
  // A number is delay-seconds (negative is invalid); only other text is read as an HTTP date.
  if (retryAfter.trim() !== "" && Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
