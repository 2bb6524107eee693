/**
 * The process's overload guard: counts the proxied requests in flight, samples the event-loop
 * lag, and says at the start of each proxied request whether to shed it (see ./overload.ts for
 * the policy). Probes and the admin API never pass through it.
 */
import type { Counter, Gauge } from "prom-client";
import type { OverloadSettings } from "../config/overload-schema";
import { EventLoopLagSampler } from "./event-loop-lag";
import { LagHysteresis, shedReasonFor, type ShedReason } from "./overload";

export interface OverloadMetrics {
  /** `aigw_event_loop_lag_seconds`. */
  eventLoopLag: Gauge<string>;
  /** `aigw_requests_shed_total{reason}`. */
  requestsShed: Counter<string>;
}

export class OverloadGuard {
  private inFlightNow = 0;
  private settings: OverloadSettings;
  private readonly hysteresis: LagHysteresis;
  private readonly sampler: EventLoopLagSampler;
  private readonly shedCounters: Record<ShedReason, { inc(value?: number): void }>;

  constructor(settings: OverloadSettings, metrics: OverloadMetrics) {
    this.settings = settings;
    this.hysteresis = new LagHysteresis(settings.maxEventLoopLagMs);
    this.sampler = new EventLoopLagSampler((lagMs, nowMs) => {
      metrics.eventLoopLag.set(lagMs / 1000);
      this.hysteresis.observe(lagMs, nowMs);
    });
    this.shedCounters = { in_flight: metrics.requestsShed.labels("in_flight"), event_loop_lag: metrics.requestsShed.labels("event_loop_lag") };
    // Both series from the start, so rate() and alerts see a 0 rather than nothing.
    for (const counter of Object.values(this.shedCounters)) counter.inc(0);
  }

  /** Proxied requests admitted and not finished yet. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** The latest event-loop lag sample, in ms. */
  get lagMs(): number {
    return this.sampler.lagMs;
  }

  get retryAfterSeconds(): number {
    return this.settings.retryAfterSeconds;
  }

  /**
   * At the start of a proxied request: null when admitted (counted in flight until `leave()`),
   * else why it is shed (counted in aigw_requests_shed_total; the caller answers 503).
   */
  enter(): ShedReason | null {
    const reason = shedReasonFor(this.inFlightNow, this.settings.maxInFlight, this.hysteresis.shedding);
    if (reason !== null) {
      this.shedCounters[reason].inc();
      return reason;
    }
    this.inFlightNow++;
    return null;
  }

  /** An admitted request is over (answered, failed or its client gone). */
  leave(): void {
    this.inFlightNow--;
  }

  /** New settings from a config reload; requests in flight are not affected. */
  configure(settings: OverloadSettings): void {
    this.settings = settings;
    this.hysteresis.setMax(settings.maxEventLoopLagMs);
  }

  start(): void {
    this.sampler.start();
  }

  stop(): void {
    this.sampler.stop();
  }
}
