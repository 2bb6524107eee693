/**
 * Peaks of a gateway's own gauges while a case runs, scraped from its /metrics every 2 s (and at the end):
 * V8 heap used and total (what of the RSS is JavaScript), and the event-loop lag prom-client
 * reports, the accept delay the overload guard measured, and the requests shed by reason (their
 * last values). Scrapes that fail (the target is saturated) are skipped, not errors.
 */

export interface MetricPeaks {
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  eventLoopLagMaxMs: number | null;
  /** `aigw_accept_delay_seconds` at its highest scrape. */
  acceptDelayMaxMs?: number | null;
  /** `aigw_requests_shed_total` by reason, nonzero ones, at the last scrape. */
  shedByReason?: Record<string, number>;
}

/** The first sample's value of `name` (no labels) in a Prometheus text exposition. */
export function gaugeValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return match ? Number(match[1]) : null;
}

/** `aigw_requests_shed_total` by reason, the nonzero ones, from a Prometheus text exposition. */
export function shedByReason(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^aigw_requests_shed_total\{reason="([a-z_]+)"\} ([0-9.eE+]+)$/gm)) if (Number(match[2]) > 0) out[match[1]] = Number(match[2]);
  return out;
}

const max = (a: number | null, b: number | null) => (b === null ? a : a === null ? b : Math.max(a, b));

export class MetricsPeakSampler {
  private peaks: MetricPeaks = { heapUsedMb: null, heapTotalMb: null, eventLoopLagMaxMs: null };
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;

  constructor(private readonly metricsUrl: string, intervalMs = 2_000) {
    this.timer = setInterval(() => void this.scrape(), intervalMs);
    void this.scrape();
  }

  private async scrape(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      const mb = (v: number | null) => (v === null ? null : v / 2 ** 20);
      this.peaks = {
        heapUsedMb: max(this.peaks.heapUsedMb, mb(gaugeValue(text, "nodejs_heap_size_used_bytes"))),
        heapTotalMb: max(this.peaks.heapTotalMb, mb(gaugeValue(text, "nodejs_heap_size_total_bytes"))),
        eventLoopLagMaxMs: max(this.peaks.eventLoopLagMaxMs, (gaugeValue(text, "nodejs_eventloop_lag_max_seconds") ?? NaN) * 1_000 || null),
        acceptDelayMaxMs: max(this.peaks.acceptDelayMaxMs ?? null, (gaugeValue(text, "aigw_accept_delay_seconds") ?? NaN) * 1_000 || null),
        shedByReason: shedByReason(text),
      };
    } catch {
      // saturated or gone: the next scrape may answer
    } finally {
      this.inFlight = false;
    }
  }

  /** Stops sampling after one last scrape (a case shorter than the interval still gets one). */
  async stop(): Promise<MetricPeaks> {
    clearInterval(this.timer);
    while (this.inFlight) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.scrape();
    return this.peaks;
  }
}
