/**
 * Keeps the gateway serving when the shared store fails. On a Redis error or timeout it counts
 * the error, raises aigw_store_fallback, and either admits on the local memory store (failOpen)
 * or refuses with GW_ERR_STORE_UNAVAILABLE (fail closed). A probe pings Redis every
 * `probeIntervalMs` while degraded and switches back once it answers.
 * Each admission settles on the store that admitted it.
 */
import { GatewayError } from "../errors";
import type { LoggerPort, TrafficMetrics } from "../traffic/metrics-port";
import type { AdmitInput, AdmitResult, LimitStore, SettleInput, SettleResult } from "./store";

export interface FailoverOptions {
  failOpen: boolean;
  /** Resolves when the shared store answers (a PING). */
  probe: () => Promise<unknown>;
  probeIntervalMs: number;
  metrics: TrafficMetrics;
  logger: LoggerPort;
}

export class FailoverStore implements LimitStore {
  readonly kind = "redis" as const;
  private degradedSince: number | null = null;
  private prober: NodeJS.Timeout | null = null;
  private probing = false;
  /** Settles admissions the shared store made; its failures are counted, never thrown. */
  private readonly sharedSettler: LimitStore;

  constructor(
    private readonly shared: LimitStore,
    private readonly local: LimitStore,
    private readonly options: FailoverOptions,
  ) {
    this.sharedSettler = {
      kind: "redis",
      admit: (input) => this.admit(input),
      settle: (input) => this.settleShared(input),
      close: () => Promise.resolve(),
    };
    options.metrics.storeFallback.set({}, 0);
  }

  /** True while running on local limits (or refusing, when fail closed). */
  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    if (this.degradedSince === null) {
      try {
        const result = await this.shared.admit(input);
        return { ...result, store: this.sharedSettler };
      } catch (err) {
        this.fail(err);
      }
    }
    if (!this.options.failOpen) {
      throw new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The rate-limit store is unavailable; try again shortly.", [["retry-after", "1"]]);
    }
    return this.local.admit(input);
  }

  /** Not used directly: admissions settle through AdmitResult.store. */
  settle(input: SettleInput): Promise<SettleResult> {
    return this.degraded ? this.local.settle(input) : this.settleShared(input);
  }

  private async settleShared(input: SettleInput): Promise<SettleResult> {
    try {
      return await this.shared.settle(input);
    } catch (err) {
      // The reservation stays until its keys expire; the lease expires on its own. The spend
      // is kept on the local store, which serves this replica's admissions during the outage
      // (dropped, it would be free money). Totals stay unknown: the shared ones are not local.
      this.fail(err);
      if (input.spends.length > 0) await this.local.settle({ rates: [], concurrency: null, spends: input.spends });
      return { spentNano: input.spends.map(() => Number.NaN) };
    }
  }

  private fail(err: unknown): void {
    this.options.metrics.storeErrors.inc({ store: "redis" });
    if (this.degradedSince !== null) return;
    this.degradedSince = Date.now();
    this.options.metrics.storeFallback.set({}, 1);
    this.options.logger.error(
      { store: "redis", err: err instanceof Error ? err.message : String(err), failOpen: this.options.failOpen },
      this.options.failOpen ? "shared store unreachable: serving on local limits" : "shared store unreachable: refusing requests (failOpen is false)",
    );
    this.prober = setInterval(() => void this.probe(), this.options.probeIntervalMs);
    this.prober.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.degradedSince === null) return;
    this.probing = true;
    try {
      await this.options.probe();
      const downMs = Date.now() - this.degradedSince;
      this.degradedSince = null;
      if (this.prober) clearInterval(this.prober);
      this.prober = null;
      this.options.metrics.storeFallback.set({}, 0);
      this.options.logger.info({ store: "redis", downMs }, "shared store reachable again: limits are shared");
    } catch {
      // Still down; the next tick tries again.
    } finally {
      this.probing = false;
    }
  }

  async close(): Promise<void> {
    if (this.prober) clearInterval(this.prober);
    this.prober = null;
    await Promise.all([this.shared.close(), this.local.close()]);
  }
}
