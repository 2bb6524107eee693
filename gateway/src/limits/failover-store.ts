/**
 * Keeps the gateway serving when the shared store fails. On a Redis error or timeout it counts
 * the error, raises aigw_store_fallback, and either admits on the local memory store (failOpen)
 * or refuses with GW_ERR_STORE_UNAVAILABLE (fail closed). A probe pings Redis every
 * `probeIntervalMs` while degraded and switches back once it answers, after charging the shared
 * store with what this replica admitted and spent on local limits meanwhile (./outage-ledger.ts).
 * Each admission settles on the store that admitted it.
 */
import { GatewayError } from "../errors";
import type { LoggerPort, TrafficMetrics } from "../traffic/metrics-port";
import { OutageLedger } from "./outage-ledger";
import type { AdmitInput, AdmitResult, LimitStore, SettleInput, SettleResult } from "./store";

export interface FailoverOptions {
  failOpen: boolean;
  /** Resolves when the shared store answers (a PING). */
  probe: () => Promise<unknown>;
  probeIntervalMs: number;
  metrics: TrafficMetrics;
  logger: LoggerPort;
  /** The clock of the outage ledger (tests). */
  now?: () => number;
}

export class FailoverStore implements LimitStore {
  readonly kind = "redis" as const;
  private degradedSince: number | null = null;
  private prober: NodeJS.Timeout | null = null;
  private probing = false;
  /** Settles admissions the shared store made; its failures are counted, never thrown. */
  private readonly sharedSettler: LimitStore;
  /** What was admitted and spent on local limits during the outage, charged to the shared store after. */
  private readonly ledger: OutageLedger;

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
    this.ledger = new OutageLedger(options.now);
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
    const result = await this.local.admit(input);
    if (!result.allowed) return result;
    // At the shared limits (not this replica's share): the shared state is the fleet's.
    for (const rate of input.rates) this.ledger.consume(rate.key, rate.limit, rate.periodMs, rate.cost);
    const localStore = result.store;
    const recordingSettler: LimitStore = {
      kind: localStore.kind,
      admit: (next) => this.admit(next),
      settle: (settlement) => {
        this.record(settlement);
        return localStore.settle(settlement);
      },
      close: () => Promise.resolve(),
    };
    return { ...result, store: recordingSettler };
  }

  /** A settlement made on local limits: its token corrections and spend go to the ledger too. */
  private record(settlement: SettleInput): void {
    for (const rate of settlement.rates) this.ledger.consume(rate.key, rate.limit, rate.periodMs, rate.delta);
    for (const spend of settlement.spends) this.ledger.spend(spend.key, spend.addNano, spend.ttlMs);
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
      this.record({ ...input, rates: input.rates.filter((r) => r.delta > 0) });
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
      // Still degraded while the outage is charged: a refusal keeps it so, and the next probe retries.
      await this.chargeOutage();
      const downMs = Date.now() - this.degradedSince;
      this.degradedSince = null;
      if (this.prober) clearInterval(this.prober);
      this.prober = null;
      this.options.metrics.storeFallback.set({}, 0);
      this.options.logger.info({ store: "redis", downMs }, "shared store reachable again: limits are shared");
      // Admissions that went local while the charge above was on its way.
      if (!this.ledger.empty) void this.chargeOutage().catch(() => undefined);
    } catch {
      // Still down; the next tick tries again.
    } finally {
      this.probing = false;
    }
  }

  /** Charges the shared store with the ledger's rates and spend; what fails is kept, and it throws. */
  private async chargeOutage(): Promise<void> {
    if (this.ledger.empty) return;
    const settlements = this.ledger.take();
    const keys = settlements.length;
    const outcomes = await Promise.allSettled(settlements.map((settlement) => this.shared.settle(settlement)));
    const failed = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ settlement: settlements[i], err: outcome.reason as unknown }] : []));
    for (const { settlement } of failed) this.record(settlement);
    if (failed.length > 0) throw failed[0].err;
    this.options.logger.info({ store: "redis", event: "outage_charged", keys, droppedKeys: this.ledger.dropped }, "what was admitted and spent on local limits during the outage is charged to the shared store");
    this.ledger.dropped = 0;
  }

  async close(): Promise<void> {
    if (this.prober) clearInterval(this.prober);
    this.prober = null;
    await Promise.all([this.shared.close(), this.local.close()]);
  }
}
