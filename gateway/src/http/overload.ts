/**
 * The overload policy, pure: whether a new proxied request is shed, and the event-loop lag,
 * accept delay and utilisation hysteresis behind it. Shedding only ever refuses new requests; what
 * is admitted runs to its end.
 */

/** Values of `aigw_requests_shed_total{reason}` and of the access log's `refusal` for a shed request. */
export const SHED_REASONS = { inFlight: "in_flight", openConnections: "open_connections", eventLoopLag: "event_loop_lag", eventLoopUtilization: "event_loop_utilization", acceptDelay: "accept_delay" } as const;
export type ShedReason = (typeof SHED_REASONS)[keyof typeof SHED_REASONS];

/** How long the measure must stay under the low-water mark before shedding stops. */
export const LAG_CALM_MS = 1_000;
/** Samples in a row at or above the threshold that start shedding: a lone GC pause or burst does not. */
export const LAG_SUSTAIN_SAMPLES = 2;
/** Utilisation is judged over windows this long (the lag on every 100 ms tick). */
export const UTILIZATION_WINDOW_MS = 1_000;
/** How far under its threshold the utilisation must fall before shedding stops. */
export const UTILIZATION_LOW_WATER_GAP = 0.1;

/**
 * Hysteresis on a sampled measure: shedding starts once `sustainSamples` samples in a row reach
 * the threshold, and stops once every sample for `calmMs` has been under the low-water mark, so
 * a measure hovering near the threshold does not flap between shedding and admitting. A
 * threshold of 0 is off.
 */
export class ThresholdHysteresis {
  private on = false;
  /** Samples in a row at or above the threshold. */
  private highRun = 0;
  /** When the samples went under the low-water mark; -1 while they are not. */
  private calmSince = -1;

  constructor(
    private threshold: number,
    private readonly lowWaterOf: (threshold: number) => number,
    private readonly calmMs: number = LAG_CALM_MS,
    private readonly sustainSamples: number = LAG_SUSTAIN_SAMPLES,
  ) {}

  get shedding(): boolean {
    return this.on;
  }

  /** A new threshold (config reload); 0 turns this check off at once. */
  setMax(threshold: number): void {
    this.threshold = threshold;
    if (threshold === 0) {
      this.on = false;
      this.highRun = 0;
    }
  }

  /** Takes one sample taken at `nowMs`; returns whether to shed. */
  observe(value: number, nowMs: number): boolean {
    const max = this.threshold;
    if (max === 0) return false;
    if (value >= max) {
      this.highRun++;
      if (this.highRun >= this.sustainSamples) this.on = true;
      this.calmSince = -1;
      return this.on;
    }
    this.highRun = 0;
    if (!this.on) return false;
    if (value >= this.lowWaterOf(max)) this.calmSince = -1;
    else if (this.calmSince === -1) this.calmSince = nowMs;
    else if (nowMs - this.calmSince >= this.calmMs) {
      this.on = false;
      this.calmSince = -1;
    }
    return this.on;
  }
}

/**
 * Lag hysteresis: starts on two samples in a row at `maxLagMs` (a saturated loop lags on every
 * tick; a process that paused once for a major GC has recovered by the next one), stops after a
 * second under half of it.
 */
export class LagHysteresis extends ThresholdHysteresis {
  constructor(maxLagMs: number, calmMs: number = LAG_CALM_MS, sustainSamples: number = LAG_SUSTAIN_SAMPLES) {
    super(maxLagMs, (max) => max / 2, calmMs, sustainSamples);
  }
}

/**
 * Accept-delay hysteresis (the time a new connection waits before the process answers it, see
 * ./accept-delay.ts): starts on two samples in a row at `maxAcceptDelayMs`, stops after a second
 * under half of it. A process relaying more than it can keeps its timers on time (lag stays low)
 * but takes new connections late: libuv accepts one connection per loop turn, so with long turns
 * the kernel's accept queue grows and every new stream waits there, unseen by the lag.
 */
export class AcceptDelayHysteresis extends ThresholdHysteresis {
  constructor(maxAcceptDelayMs: number, calmMs: number = LAG_CALM_MS) {
    super(maxAcceptDelayMs, (max) => max / 2, calmMs, LAG_SUSTAIN_SAMPLES);
  }
}

/** Turns of the loop a probe needs even with no queue: accept, read and answer, the answer read. */
export const PROBE_TURNS = 3;

/**
 * The part of a probe's delay that is queueing: its delay less what `PROBE_TURNS` turns of the
 * loop explain, a turn taken as the highest lag of the last second plus the sampler's interval (a
 * timer due every `intervalMs` fires `lag` late when a turn takes longer). A loop whose turns are
 * long because it is starved of CPU, or busy with its keep-alive clients, answers a probe in a few
 * long turns: that is the lag's to judge, not a queue. New connections arriving faster than the
 * loop takes them wait many turns: that is what the accept delay sheds.
 */
export function acceptQueueMs(probeDelayMs: number, maxLagMs: number, intervalMs: number): number {
  return Math.max(0, probeDelayMs - PROBE_TURNS * (maxLagMs + intervalMs));
}

/**
 * Utilisation hysteresis, over one-second windows: starts on two windows in a row at the
 * threshold (a loop that never went idle for two seconds), stops after two windows 0.1 under it.
 * This is what a process relaying more stream events than it can shows: libuv handles at most
 * 1,024 ready sockets per turn, so its timers stay on time while every stream slows down.
 */
export class UtilizationHysteresis extends ThresholdHysteresis {
  constructor(maxUtilization: number) {
    super(maxUtilization, (max) => max - UTILIZATION_LOW_WATER_GAP, UTILIZATION_WINDOW_MS, 2);
  }
}

/**
 * The in-flight ceiling in force: the configured one (0: none) within what the open-file limit
 * allows (null: unknown), since past that accept() fails and connections drop unanswered.
 */
export function effectiveMaxInFlight(configured: number, fdCeiling: number | null): number {
  if (fdCeiling === null) return configured;
  return configured === 0 ? fdCeiling : Math.min(configured, fdCeiling);
}

/**
 * Why a new request is shed, or null to admit it. `maxInFlight` 0 means no ceiling; `inFlight`
 * counts the requests already admitted, not this one. `openConnections` past `maxConnections`
 * (null: none): the process is near its open-file limit with connections, busy or idle.
 */
export function shedReasonFor(inFlight: number, maxInFlight: number, lagShedding: boolean, utilizationShedding = false, openConnections = 0, maxConnections: number | null = null, acceptDelayShedding = false): ShedReason | null {
  if (maxInFlight !== 0 && inFlight >= maxInFlight) return SHED_REASONS.inFlight;
  if (maxConnections !== null && openConnections > maxConnections) return SHED_REASONS.openConnections;
  if (lagShedding) return SHED_REASONS.eventLoopLag;
  if (acceptDelayShedding) return SHED_REASONS.acceptDelay;
  if (utilizationShedding) return SHED_REASONS.eventLoopUtilization;
  return null;
}
