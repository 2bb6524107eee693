/**
 * The process's overload guard: counts the proxied requests in flight, samples the event-loop
 * lag and the accept delay (every 100 ms, see ./accept-delay.ts) and the utilisation (every
 * second), and says at the start of each proxied request whether to shed it (see ./overload.ts
 * for the policy). Probes and the admin API never pass through it.
 */
import type { Counter, Gauge } from "prom-client";
import type { OverloadSettings } from "../config/overload-schema";
import { EventLoopLagSampler, LAG_SAMPLE_INTERVAL_MS } from "./event-loop-lag";
import { AcceptDelayProbe, probeHostFor } from "./accept-delay";
import { AcceptDelayHysteresis, acceptQueueMs, LagHysteresis, UTILIZATION_WINDOW_MS, UtilizationHysteresis, effectiveMaxInFlight, shedReasonFor, type ShedReason } from "./overload";
import { connectionCeilingFor, inFlightCeilingFor, openFileLimit } from "./fd-limit";
import type { Server, Socket } from "node:net";
import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** Set on a connection when accepted, cleared at its first proxied request: the requests the accept delay sheds. */
const FIRST_REQUEST = Symbol("aigw.firstRequest");
type Connection = Socket & { [FIRST_REQUEST]?: boolean };

export interface OverloadMetrics {
  /** `aigw_event_loop_lag_seconds`. */
  eventLoopLag: Gauge<string>;
  /** `aigw_event_loop_utilization`. */
  eventLoopUtilization: Gauge<string>;
  /** `aigw_requests_shed_total{reason}`. */
  requestsShed: Counter<string>;
  /** `aigw_accept_delay_seconds`. */
  acceptDelay?: Gauge<string>;
  /** `aigw_client_connections`. */
  clientConnections?: Gauge<string>;
}

export class OverloadGuard {
  private inFlightNow = 0;
  private settings: OverloadSettings;
  private readonly hysteresis: LagHysteresis;
  private readonly utilization: UtilizationHysteresis;
  private readonly acceptDelay: AcceptDelayHysteresis;
  /** Probes the public listener once it listens (null before `start`, or without a listener). */
  private probe: AcceptDelayProbe | null = null;
  private acceptDelayNow = 0;
  /** The last second's lag samples (one a tick), for the turns a probe's delay is allowed. */
  private readonly recentLags: number[] = [];
  /** The utilisation counters at the start of the current window, and when it started. */
  private windowStart: EventLoopUtilization = performance.eventLoopUtilization();
  private windowStartedAt = performance.now();
  private readonly sampler: EventLoopLagSampler;
  private readonly shedCounters: Record<ShedReason, { inc(value?: number): void }>;
  /** What the open-file limit allows: requests in flight (two sockets each), and client connections. */
  private readonly fdInFlightCeiling: number | null;
  readonly maxConnections: number | null;
  private maxInFlightNow: number;
  private openConnectionsNow = 0;

  /** `fdLimit`: the process's open-file limit (read from /proc unless given; null: unknown, no fd ceilings). */
  constructor(settings: OverloadSettings, private readonly metrics: OverloadMetrics, fdLimit: number | null = openFileLimit()) {
    this.settings = settings;
    this.fdInFlightCeiling = inFlightCeilingFor(fdLimit);
    this.maxInFlightNow = effectiveMaxInFlight(settings.maxInFlight, this.fdInFlightCeiling);
    this.maxConnections = connectionCeilingFor(fdLimit, this.maxInFlightNow === 0 ? this.fdInFlightCeiling ?? 0 : this.maxInFlightNow);
    this.hysteresis = new LagHysteresis(settings.maxEventLoopLagMs);
    this.utilization = new UtilizationHysteresis(settings.maxEventLoopUtilization);
    this.acceptDelay = new AcceptDelayHysteresis(settings.maxAcceptDelayMs);
    this.sampler = new EventLoopLagSampler((lagMs, nowMs) => {
      metrics.eventLoopLag.set(lagMs / 1000);
      this.hysteresis.observe(lagMs, nowMs);
      this.sampleAcceptDelay(nowMs);
      if (nowMs - this.windowStartedAt < UTILIZATION_WINDOW_MS) return;
      const window = performance.eventLoopUtilization(this.windowStart);
      this.windowStart = performance.eventLoopUtilization();
      this.windowStartedAt = nowMs;
      metrics.eventLoopUtilization.set(window.utilization);
      this.utilization.observe(window.utilization, nowMs);
    });
    this.shedCounters = {
      in_flight: metrics.requestsShed.labels("in_flight"),
      open_connections: metrics.requestsShed.labels("open_connections"),
      event_loop_lag: metrics.requestsShed.labels("event_loop_lag"),
      event_loop_utilization: metrics.requestsShed.labels("event_loop_utilization"),
      accept_delay: metrics.requestsShed.labels("accept_delay"),
    };
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

  /** Whether new connections' first requests are being shed on the accept delay now. */
  get sheddingOnAcceptDelay(): boolean {
    return this.acceptDelay.shedding;
  }

  /** The latest accept-delay sample, in ms (0 before the first). */
  get acceptDelayMs(): number {
    return this.acceptDelayNow;
  }

  /** The in-flight ceiling in force (0: none): the configured one within the open-file limit's. */
  get maxInFlight(): number {
    return this.maxInFlightNow;
  }

  /** Client connections open on the listeners it watches, busy or idle. */
  get openConnections(): number {
    return this.openConnectionsNow;
  }

  /** Counts `server`'s connections toward the open-file ceiling (every listener takes descriptors). */
  watchConnections(server: Server): void {
    const gauge = this.metrics.clientConnections;
    server.on("connection", (socket: Connection) => {
      socket[FIRST_REQUEST] = true;
      gauge?.set(++this.openConnectionsNow);
      socket.once("close", () => gauge?.set(--this.openConnectionsNow));
    });
  }

  get retryAfterSeconds(): number {
    return this.settings.retryAfterSeconds;
  }

  /**
   * At the start of a proxied request: null when admitted (counted in flight until `leave()`),
   * else why it is shed (counted in aigw_requests_shed_total; the caller answers 503). The accept
   * delay sheds only a connection's first request: it measures what new connections wait, and a
   * client's keep-alive connection already taken is closed-loop load (one request at a time) that
   * a throughput run, or an SDK's pool, keeps busy without queueing anything new.
   */
  enter(socket?: Socket): ShedReason | null {
    const connection = socket as Connection | undefined;
    const first = connection !== undefined && connection[FIRST_REQUEST] === true;
    if (first) connection[FIRST_REQUEST] = false;
    const reason = shedReasonFor(this.inFlightNow, this.maxInFlightNow, this.hysteresis.shedding, this.utilization.shedding, this.openConnectionsNow, this.maxConnections, first && this.acceptDelay.shedding);
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
    this.maxInFlightNow = effectiveMaxInFlight(settings.maxInFlight, this.fdInFlightCeiling);
    this.hysteresis.setMax(settings.maxEventLoopLagMs);
    this.utilization.setMax(settings.maxEventLoopUtilization);
    this.acceptDelay.setMax(settings.maxAcceptDelayMs);
  }

  /** Starts sampling; `listener`: the public listener's address, whose accept delay is probed. */
  start(listener?: { host: string; port: number }): void {
    this.windowStart = performance.eventLoopUtilization();
    this.windowStartedAt = performance.now();
    if (listener !== undefined) this.probe = new AcceptDelayProbe({ host: probeHostFor(listener.host), port: listener.port });
    this.sampler.start();
  }

  stop(): void {
    this.sampler.stop();
    this.probe?.stop();
  }

  /** One accept-delay sample per tick, and no probe connections at all while the check is off. */
  private sampleAcceptDelay(nowMs: number): void {
    if (this.probe === null || this.settings.maxAcceptDelayMs === 0) return;
    this.recentLags.push(this.sampler.lagMs);
    if (this.recentLags.length > 1_000 / LAG_SAMPLE_INTERVAL_MS) this.recentLags.shift();
    // None answered in the last second: the oldest probe's wait is what is known of the queue.
    const delayMs = this.probe.tick() ?? this.probe.oldestWaitingMs();
    if (delayMs === null) return;
    this.acceptDelayNow = delayMs;
    this.metrics.acceptDelay?.set(delayMs / 1000);
    this.acceptDelay.observe(acceptQueueMs(delayMs, Math.max(...this.recentLags), LAG_SAMPLE_INTERVAL_MS), nowMs);
  }
}
