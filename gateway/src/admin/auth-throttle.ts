/**
 * Throttles and logs failed admin authentications per client address. Every admin request first
 * reserves one unit of `admin-auth:<ip>` (a GCRA limit of `failures` per `windowMs`, in the
 * limit store: fleet-wide with Redis); a request that authenticates gives it back. So N wrong
 * keys from one address, in parallel or not, exhaust the allowance, and the next request gets a
 * 429 before its key is even compared. The presented key is never logged.
 */
import { GatewayError } from "../errors";
import { formatDuration, retryAfterHeaders } from "../limits/headers";
import type { AdmitResult, LimitStore, RateCheck } from "../limits/store";
import { redisKeys } from "../store/redis-keys";
import type { LoggerPort } from "../traffic/metrics-port";

export interface AdminThrottleSettings {
  failures: number;
  windowMs: number;
}

/** Log one "throttled" line per address at most this often (a brute force must not flood the log). */
const THROTTLED_LOG_EVERY_MS = 10_000;
const MAX_TRACKED_ADDRESSES = 10_000;

export class AdminAuthThrottle {
  private readonly lastThrottledLog = new Map<string, number>();

  constructor(
    private readonly store: LimitStore,
    private readonly settings: AdminThrottleSettings,
    private readonly logger: LoggerPort,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reserves an attempt for `clientIp`; throws 429 with Retry-After when its failures are used up. */
  async reserve(clientIp: string, path: string): Promise<AdmitResult> {
    const result = await this.store.admit({ budgets: [], rates: [this.rate(clientIp, 1)], concurrency: null });
    if (result.allowed) return result;
    this.logThrottled(clientIp, path);
    throw new GatewayError(
      "GW_ERR_RATE_LIMITED",
      `Too many failed admin authentications from this address. Please try again in ${formatDuration(result.retryAfterMs)}.`,
      retryAfterHeaders(result.retryAfterMs),
    );
  }

  /** The caller authenticated: its attempt does not count. */
  release(reserved: AdmitResult, clientIp: string): void {
    reserved.store.settle({ rates: [{ key: redisKeys.adminAuth(clientIp), limit: this.settings.failures, periodMs: this.settings.windowMs, delta: -1 }], concurrency: null, spends: [] }).catch(() => undefined);
  }

  /** The caller presented no key or a wrong one: the attempt stays counted. */
  failed(clientIp: string, path: string, method: string, reason: "missing_key" | "wrong_key"): void {
    this.logger.warn({ event: "admin_auth_failed", clientIp, method, path: path.slice(0, 200), reason }, "admin: authentication failed");
  }

  private rate(clientIp: string, cost: number): RateCheck {
    return { key: redisKeys.adminAuth(clientIp), limit: this.settings.failures, periodMs: this.settings.windowMs, cost };
  }

  private logThrottled(clientIp: string, path: string): void {
    const now = this.now();
    const last = this.lastThrottledLog.get(clientIp);
    if (last !== undefined && now - last < THROTTLED_LOG_EVERY_MS) return;
    if (this.lastThrottledLog.size >= MAX_TRACKED_ADDRESSES) this.lastThrottledLog.clear();
    this.lastThrottledLog.set(clientIp, now);
    this.logger.warn({ event: "admin_auth_throttled", clientIp, path: path.slice(0, 200), failures: this.settings.failures, windowMs: this.settings.windowMs }, "admin: too many failed authentications from one address");
  }
}
