/**
 * The primary's side of `/metrics` in multi-process mode: asks every live worker for its
 * registry as JSON, waits for the answers (a worker that does not answer in `timeoutMs` is left
 * out, not waited for), adds the primary's own figures (workers alive, restarts) and merges
 * them with prom-client's AggregatorRegistry.aggregate: counters and histograms sum, gauges
 * follow the aggregator each declares (see ../metrics/registry.ts).
 *
 * Counters and histograms never go backwards in the aggregate: a worker that dies takes its
 * totals with it, and Prometheus reads a drop as a counter reset (rate() and increase() then
 * count the whole remaining total again: a worker crash showed as a spike of requests, tokens
 * and spend). So the primary keeps each worker's last answered totals: those of a worker that
 * does not answer in time stand in for it, and those of a worker that exited are kept for good.
 * What a worker counted after its last scrape and before it died is lost. Gauges are the live
 * workers' only.
 */
import type { Worker } from "node:cluster";
import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import { CLUSTER_METRICS } from "../metrics/names";
import type { LocalMetricsResponse, MetricsJson } from "./messages";

export class ClusterMetrics {
  private readonly own = new Registry();
  readonly workersAlive = new Gauge({ name: CLUSTER_METRICS.workers.name, help: CLUSTER_METRICS.workers.help, registers: [this.own] });
  readonly restarts = new Counter({ name: CLUSTER_METRICS.restarts.name, help: CLUSTER_METRICS.restarts.help, registers: [this.own] });
  private readonly scraped = new Gauge({ name: CLUSTER_METRICS.scraped.name, help: CLUSTER_METRICS.scraped.help, registers: [this.own] });
  private nextId = 1;
  private readonly pending = new Map<number, (metrics: MetricsJson) => void>();
  /** Each live worker's counters and histograms as it last answered. */
  private readonly lastTotals = new Map<Worker, MetricsJson>();
  /** The counters and histograms of the workers that exited (compacted into one sum now and then). */
  private retired: MetricsJson[] = [];
  /** Workers retired: one that exits while a scrape waits for it is not counted twice. */
  private readonly gone = new WeakSet<Worker>();

  constructor(private readonly timeoutMs = 2_000) {}

  /** Feed every worker message here; answers to our requests are consumed. */
  onWorkerMessage(message: LocalMetricsResponse): void {
    const resolve = this.pending.get(message.id);
    if (resolve) resolve(message.metrics);
  }

  private ask(worker: Worker): Promise<MetricsJson | null> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (metrics: MetricsJson | null) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(metrics);
      };
      const timer = setTimeout(() => done(null), this.timeoutMs);
      this.pending.set(id, done);
      try {
        worker.send({ type: "aigw:local-metrics-req", id }, (err: Error | null) => {
          if (err) done(null);
        });
      } catch {
        done(null);
      }
    });
  }

  /** Every answering worker's metrics plus the primary's, aggregated, in Prometheus text format. */
  async render(workers: readonly Worker[]): Promise<{ contentType: string; body: string; answered: number }> {
    this.workersAlive.set(workers.length);
    const answers = await Promise.all(workers.map((w) => this.ask(w)));
    const parts: MetricsJson[] = [];
    answers.forEach((metrics, i) => {
      // Exited during this scrape: its totals are in `retired` already.
      if (this.gone.has(workers[i])) return;
      if (metrics !== null) {
        parts.push(metrics);
        this.lastTotals.set(workers[i], cumulativeOf(metrics));
      } else {
        // Silent this time: its last totals keep the sums from dipping.
        const last = this.lastTotals.get(workers[i]);
        if (last) parts.push(last);
      }
    });
    const answered = answers.filter((m) => m !== null).length;
    this.scraped.set(answered);
    const own = (await this.own.getMetricsAsJSON()) as MetricsJson;
    const registry = AggregatorRegistry.aggregate([...parts, ...this.retired, own]);
    return { contentType: registry.contentType, body: await registry.metrics(), answered };
  }

  /** A worker exited: its last answered totals stay in every later aggregate. */
  async retire(worker: Worker): Promise<void> {
    const last = this.lastTotals.get(worker);
    this.lastTotals.delete(worker);
    this.gone.add(worker);
    if (!last) return;
    // Kept at once (a scrape in the next instant must see it), summed into one when they pile up.
    this.retired.push(last);
    if (this.retired.length < 8) return;
    const merging = this.retired.length;
    const sum = (await AggregatorRegistry.aggregate(this.retired.slice(0, merging)).getMetricsAsJSON()) as MetricsJson;
    this.retired = [sum, ...this.retired.slice(merging)];
  }
}

/** The metrics that only grow (counters and histograms, summed across workers). */
function cumulativeOf(metrics: MetricsJson): MetricsJson {
  // prom-client types `type` as a numeric enum; the JSON holds its name ("counter", …).
  return metrics.filter((m) => {
    const type = m.type as unknown as string;
    return (type === "counter" || type === "histogram") && (m.aggregator ?? "sum") === "sum";
  });
}
