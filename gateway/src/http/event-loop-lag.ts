/**
 * Samples the event loop's lag with one unref'd interval timer: how late each tick fired. A loop
 * busy relaying more than it can (or stalled by a long task or GC) fires it late by that much.
 * The sample is taken in the timers phase, before the poll phase hands the loop new requests, so
 * the requests that waited behind a stall are judged on it.
 */

/** Ten samples a second: a stall is seen within one tick of the loop, and the timer costs nothing. */
export const LAG_SAMPLE_INTERVAL_MS = 100;

export class EventLoopLagSampler {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private lag = 0;

  constructor(
    /** Called with each sample, in ms, and the time it was taken (performance.now()). */
    private readonly onSample: (lagMs: number, nowMs: number) => void,
    private readonly intervalMs: number = LAG_SAMPLE_INTERVAL_MS,
  ) {}

  /** The latest sample, in ms. */
  get lagMs(): number {
    return this.lag;
  }

  start(): void {
    if (this.timer !== null) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    const now = performance.now();
    this.lag = Math.max(0, now - this.last - this.intervalMs);
    this.last = now;
    this.onSample(this.lag, now);
  }
}
