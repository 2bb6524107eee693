/**
 * The overload policy, pure: whether a new proxied request is shed, and the event-loop lag
 * hysteresis behind it. Shedding only ever refuses new requests; what is admitted runs to its end.
 */

/** Values of `aigw_requests_shed_total{reason}` and of the access log's `refusal` for a shed request. */
export const SHED_REASONS = { inFlight: "in_flight", eventLoopLag: "event_loop_lag" } as const;
export type ShedReason = (typeof SHED_REASONS)[keyof typeof SHED_REASONS];

/** How long the lag must stay under the low-water mark before shedding stops. */
export const LAG_CALM_MS = 1_000;
/** Samples in a row at or above the threshold that start shedding: a lone GC pause or burst does not. */
export const LAG_SUSTAIN_SAMPLES = 2;

/**
 * Lag hysteresis: shedding starts once `sustainSamples` samples in a row reach `maxLagMs` (a
 * saturated loop lags on every tick; a process that paused once for a major GC has recovered by
 * the next one), and stops once every sample for `calmMs` has been under half of it, so a loop
 * hovering near the threshold does not flap between shedding and admitting.
 */
export class LagHysteresis {
  private on = false;
  /** Samples in a row at or above the threshold. */
  private highRun = 0;
  /** When the samples went under the low-water mark; -1 while they are not. */
  private calmSince = -1;

  constructor(
    private maxLagMs: number,
    private readonly calmMs: number = LAG_CALM_MS,
    private readonly sustainSamples: number = LAG_SUSTAIN_SAMPLES,
  ) {}

  get shedding(): boolean {
    return this.on;
  }

  /** A new threshold (config reload); 0 turns lag shedding off at once. */
  setMax(maxLagMs: number): void {
    this.maxLagMs = maxLagMs;
    if (maxLagMs === 0) {
      this.on = false;
      this.highRun = 0;
    }
  }

  /** Takes one lag sample taken at `nowMs`; returns whether to shed. */
  observe(lagMs: number, nowMs: number): boolean {
    const max = this.maxLagMs;
    if (max === 0) return false;
    if (lagMs >= max) {
      this.highRun++;
      if (this.highRun >= this.sustainSamples) this.on = true;
      this.calmSince = -1;
      return this.on;
    }
    this.highRun = 0;
    if (!this.on) return false;
    if (lagMs >= max / 2) this.calmSince = -1;
    else if (this.calmSince === -1) this.calmSince = nowMs;
    else if (nowMs - this.calmSince >= this.calmMs) {
      this.on = false;
      this.calmSince = -1;
    }
    return this.on;
  }
}

/**
 * Why a new request is shed, or null to admit it. `maxInFlight` 0 means no ceiling; `inFlight`
 * counts the requests already admitted, not this one.
 */
export function shedReasonFor(inFlight: number, maxInFlight: number, lagShedding: boolean): ShedReason | null {
  if (maxInFlight !== 0 && inFlight >= maxInFlight) return SHED_REASONS.inFlight;
  if (lagShedding) return SHED_REASONS.eventLoopLag;
  return null;
}
