/**
 * The primary's side of `/metrics` in multi-process mode: asks every live worker for its
 * registry as JSON, waits for the answers (a worker that does not answer in `timeoutMs` is left
 * out, not waited for), adds the primary's own figures (workers alive, restarts) and merges
 * them with prom-client's AggregatorRegistry.aggregate: counters and histograms sum, gauges
 * follow the aggregator each declares (see ../metrics/registry.ts).
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
    const answers = (await Promise.all(workers.map((w) => this.ask(w)))).filter((m): m is MetricsJson => m !== null);
    this.scraped.set(answers.length);
    const own = (await this.own.getMetricsAsJSON()) as MetricsJson;
    const registry = AggregatorRegistry.aggregate([...answers, own]);
    return { contentType: registry.contentType, body: await registry.metrics(), answered: answers.length };
  }
}
