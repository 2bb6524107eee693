/**
 * The Prometheus registry of one gateway instance (its own, so several gateways can share a
 * process in tests). Labelled children are cached per label set: the hot path does one Map
 * look-up instead of prom-client's label hashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { METRICS } from "./names";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Def = (typeof METRICS)[keyof typeof METRICS];
type Child<T> = T extends Counter<string> ? ReturnType<T["labels"]> : T extends Gauge<string> ? ReturnType<T["labels"]> : T extends Histogram<string> ? ReturnType<T["labels"]> : never;

/** Caches `metric.labels(...)` children by their joined label values. */
function childCache<M extends Counter<string> | Gauge<string> | Histogram<string>>(metric: M) {
  const cache = new Map<string, Child<M>>();
  return (...values: string[]): Child<M> => {
    const key = values.join("\u0000");
    let child = cache.get(key);
    if (child === undefined) {
      child = metric.labels(...values) as Child<M>;
      cache.set(key, child);
    }
    return child;
  };
}

function opts(def: Def) {
  return { name: def.name, help: def.help, labelNames: [...def.labels] as string[] };
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ ...opts(METRICS.requests), registers: [this.registry] });
  readonly requestDuration = new Histogram({ ...opts(METRICS.requestDuration), buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly upstreamDuration = new Histogram({ ...opts(METRICS.upstreamDuration), buckets: UPSTREAM_BUCKETS, registers: [this.registry] });
  readonly timeToFirstToken = new Histogram({ ...opts(METRICS.timeToFirstToken), buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly tokens = new Counter({ ...opts(METRICS.tokens), registers: [this.registry] });
  readonly usageEstimated = new Counter({ ...opts(METRICS.usageEstimated), registers: [this.registry] });
  readonly inflight = new Gauge({ ...opts(METRICS.inflight), registers: [this.registry] });
  readonly targetUp = new Gauge({ ...opts(METRICS.targetUp), registers: [this.registry] });
  readonly modelHealthyTargets = new Gauge({ ...opts(METRICS.modelHealthyTargets), registers: [this.registry] });
  readonly retries = new Counter({ ...opts(METRICS.retries), registers: [this.registry] });
  readonly streamsInterrupted = new Counter({ ...opts(METRICS.streamsInterrupted), registers: [this.registry] });
  readonly rejections = new Counter({ ...opts(METRICS.rejections), registers: [this.registry] });
  readonly budgetUsedRatio = new Gauge({ ...opts(METRICS.budgetUsedRatio), registers: [this.registry] });
  readonly teamBudgetUsedRatio = new Gauge({ ...opts(METRICS.teamBudgetUsedRatio), registers: [this.registry] });
  readonly cacheRequests = new Counter({ ...opts(METRICS.cacheRequests), registers: [this.registry] });
  readonly storeErrors = new Counter({ ...opts(METRICS.storeErrors), registers: [this.registry] });
  readonly storeFallback = new Gauge({ ...opts(METRICS.storeFallback), registers: [this.registry] });
  readonly bufferedBytes = new Gauge({ ...opts(METRICS.bufferedBytes), registers: [this.registry] });
  readonly upstreamAuthFailures = new Counter({ ...opts(METRICS.upstreamAuthFailures), registers: [this.registry] });
  readonly targetHealthInfo = new Gauge({ ...opts(METRICS.targetHealthInfo), registers: [this.registry] });
  readonly tracingSpans = new Counter({ ...opts(METRICS.tracingSpans), registers: [this.registry] });

  readonly requestsFor = childCache(this.requests);
  readonly requestDurationFor = childCache(this.requestDuration);
  readonly upstreamDurationFor = childCache(this.upstreamDuration);
  readonly ttftFor = childCache(this.timeToFirstToken);
  readonly tokensFor = childCache(this.tokens);
  readonly usageEstimatedFor = childCache(this.usageEstimated);
  readonly retriesFor = childCache(this.retries);
  readonly upstreamAuthFailuresFor = childCache(this.upstreamAuthFailures);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private readonly beforeRender: (() => void)[] = [];

  /** Registers a refresh of gauges derived from live state, run at each scrape. */
  onScrape(refresh: () => void): void {
    this.beforeRender.push(refresh);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    for (const refresh of this.beforeRender) refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
