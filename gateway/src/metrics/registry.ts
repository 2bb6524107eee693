/**
 * The Prometheus registry of one gateway instance (its own, so several gateways can share a
 * process in tests). Labelled children are cached per label set: the hot path does one Map
 * look-up instead of prom-client's label hashing; the per-request counters also defer their
 * increments to the next read (./counter-series.ts).
 */
import { deferGaugeSets } from "./latest-gauge";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { METRICS } from "./names";
import { histogramSeries } from "./histogram-series";
import { counterSeries } from "./counter-series";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Def = (typeof METRICS)[keyof typeof METRICS];
type Child<T> = T extends Counter<string> ? ReturnType<T["labels"]> : T extends Gauge<string> ? ReturnType<T["labels"]> : T extends Histogram<string> ? ReturnType<T["labels"]> : never;

/**
 * Caches `metric.labels(...)` children by their joined label values. `removeWhere` drops the
 * series (and cached children) whose label values match, e.g. a deleted key's.
 */
function childCache<M extends Counter<string> | Gauge<string> | Histogram<string>>(metric: M) {
  const cache = new Map<string, { values: string[]; child: Child<M> }>();
  const get = (...values: string[]): Child<M> => {
    const key = values.join("\u0000");
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = { values, child: metric.labels(...values) as Child<M> };
      cache.set(key, entry);
    }
    return entry.child;
  };
  get.removeWhere = (match: (values: readonly string[]) => boolean): void => {
    for (const [key, entry] of cache) {
      if (!match(entry.values)) continue;
      metric.remove(...entry.values);
      cache.delete(key);
    }
  };
  return get;
}

/** Whole-request latency up to the longest stream: the usual buckets, then up to `maxSeconds`. */
export function requestDurationBuckets(maxSeconds: number): number[] {
  const buckets = LATENCY_BUCKETS.filter((b) => b < maxSeconds);
  for (const b of [180, 300, 600, 900, 1800, 3600]) if (b > buckets[buckets.length - 1] && b < maxSeconds) buckets.push(b);
  buckets.push(maxSeconds);
  return buckets;
}

function opts(def: Def) {
  return { name: def.name, help: def.help, labelNames: [...def.labels] as string[] };
}

export interface GatewayMetricsOptions {
  /** The longest a request can last (the stream limit): the top latency bucket. Default 600. */
  maxRequestSeconds?: number;
}

/** Default metrics whose collection is O(open handles). */
const PER_HANDLE_METRICS = ["nodejs_active_handles", "nodejs_active_handles_total", "nodejs_active_requests", "nodejs_active_requests_total", "nodejs_active_resources", "nodejs_active_resources_total"];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ ...opts(METRICS.requests), registers: [this.registry] });
  readonly requestDuration: Histogram<string>;
  readonly upstreamDuration = new Histogram({ ...opts(METRICS.upstreamDuration), buckets: UPSTREAM_BUCKETS, registers: [this.registry] });
  readonly timeToFirstToken = new Histogram({ ...opts(METRICS.timeToFirstToken), buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly tokens = new Counter({ ...opts(METRICS.tokens), registers: [this.registry] });
  readonly spend = new Counter({ ...opts(METRICS.spend), registers: [this.registry] });
  readonly usageEstimated = new Counter({ ...opts(METRICS.usageEstimated), registers: [this.registry] });
  readonly inflight = new Gauge({ ...opts(METRICS.inflight), registers: [this.registry] });
  // Gauges say how several worker processes' values combine (multi-process mode, ../cluster/): a
  // target is up only when every worker sees it up; ratios and the fallback flag take the worst.
  readonly targetUp = new Gauge({ ...opts(METRICS.targetUp), aggregator: "min", registers: [this.registry] });
  readonly modelHealthyTargets = new Gauge({ ...opts(METRICS.modelHealthyTargets), aggregator: "min", registers: [this.registry] });
  readonly retries = new Counter({ ...opts(METRICS.retries), registers: [this.registry] });
  readonly streamsInterrupted = new Counter({ ...opts(METRICS.streamsInterrupted), registers: [this.registry] });
  readonly rejections = new Counter({ ...opts(METRICS.rejections), registers: [this.registry] });
  // Set at every budgeted admission and settlement: applied when read (latest-gauge.ts).
  readonly budgetUsedRatio = deferGaugeSets(new Gauge({ ...opts(METRICS.budgetUsedRatio), aggregator: "max", registers: [this.registry] }));
  readonly teamBudgetUsedRatio = deferGaugeSets(new Gauge({ ...opts(METRICS.teamBudgetUsedRatio), aggregator: "max", registers: [this.registry] }));
  readonly cacheRequests = new Counter({ ...opts(METRICS.cacheRequests), registers: [this.registry] });
  readonly storeErrors = new Counter({ ...opts(METRICS.storeErrors), registers: [this.registry] });
  readonly storeFallback = new Gauge({ ...opts(METRICS.storeFallback), aggregator: "max", registers: [this.registry] });
  readonly bufferedBytes = new Gauge({ ...opts(METRICS.bufferedBytes), registers: [this.registry] });
  readonly configReloads = new Counter({ ...opts(METRICS.configReloads), registers: [this.registry] });
  readonly configLastReloadSuccess = new Gauge({ ...opts(METRICS.configLastReloadSuccess), aggregator: "min", registers: [this.registry] });
  readonly configRestartPending = new Gauge({ ...opts(METRICS.configRestartPending), aggregator: "max", registers: [this.registry] });
  readonly upstreamAuthFailures = new Counter({ ...opts(METRICS.upstreamAuthFailures), registers: [this.registry] });
  readonly targetHealthInfo = new Gauge({ ...opts(METRICS.targetHealthInfo), aggregator: "max", registers: [this.registry] });
  readonly tracingSpans = new Counter({ ...opts(METRICS.tracingSpans), registers: [this.registry] });
  readonly requestsShed = new Counter({ ...opts(METRICS.requestsShed), registers: [this.registry] });
  readonly eventLoopLag = new Gauge({ ...opts(METRICS.eventLoopLag), aggregator: "max", registers: [this.registry] });
  readonly acceptDelay = new Gauge({ ...opts(METRICS.acceptDelay), aggregator: "max", registers: [this.registry] });
  readonly logLinesDropped = new Counter({ ...opts(METRICS.logLinesDropped), registers: [this.registry] });
  readonly clientConnections = new Gauge({ ...opts(METRICS.clientConnections), aggregator: "sum", registers: [this.registry] });
  readonly eventLoopUtilization = new Gauge({ ...opts(METRICS.eventLoopUtilization), aggregator: "max", registers: [this.registry] });

  readonly requestsFor = counterSeries(this.requests, METRICS.requests.labels);
  readonly requestDurationFor: ReturnType<typeof histogramSeries>;
  readonly spendFor = counterSeries(this.spend, METRICS.spend.labels);
  readonly upstreamDurationFor = histogramSeries(this.upstreamDuration, METRICS.upstreamDuration.labels);
  readonly ttftFor = histogramSeries(this.timeToFirstToken, METRICS.timeToFirstToken.labels);
  readonly tokensFor = counterSeries(this.tokens, METRICS.tokens.labels);
  readonly usageEstimatedFor = counterSeries(this.usageEstimated, METRICS.usageEstimated.labels);
  readonly retriesFor = childCache(this.retries);
  readonly upstreamAuthFailuresFor = childCache(this.upstreamAuthFailures);

  constructor(options: GatewayMetricsOptions = {}) {
    const buckets = requestDurationBuckets(options.maxRequestSeconds ?? 600);
    this.requestDuration = new Histogram({ ...opts(METRICS.requestDuration), buckets, registers: [this.registry] });
    this.requestDurationFor = histogramSeries(this.requestDuration, METRICS.requestDuration.labels);
    collectDefaultMetrics({ register: this.registry });
    // These walk every handle and request on each scrape (10,000 streams: ~80 ms of blocked loop
    // per scrape) and say little: aigw_inflight and aigw_client_connections count what matters.
    for (const name of PER_HANDLE_METRICS) this.registry.removeSingleMetric(name);
  }

  /** Removes every series labelled with this client key (a deleted runtime key), its budget gauge included. */
  forgetKey(keyLabel: string, team: string): void {
    this.budgetUsedRatio.remove({ key: keyLabel, team });
    const at = (labels: readonly string[]) => labels.indexOf("key");
    const requestsKey = at(METRICS.requests.labels);
    const tokensKey = at(METRICS.tokens.labels);
    const spendKey = at(METRICS.spend.labels);
    this.requestsFor.removeWhere((v) => v[requestsKey] === keyLabel);
    this.tokensFor.removeWhere((v) => v[tokensKey] === keyLabel);
    this.spendFor.removeWhere((v) => v[spendKey] === keyLabel);
  }

  private readonly beforeRender: (() => void)[] = [];

  /** Registers a refresh of gauges derived from live state, run at each scrape. */
  onScrape(refresh: () => void): void {
    this.beforeRender.push(refresh);
  }

  /** Keeps aigw_log_lines_dropped_total at the log destination's running count of dropped lines. */
  countDroppedLogLines(droppedSoFar: () => number): void {
    let counted = 0;
    this.onScrape(() => {
      const dropped = droppedSoFar();
      if (dropped > counted) this.logLinesDropped.inc(dropped - counted);
      counted = dropped;
    });
  }

  private renderer: (() => Promise<{ contentType: string; body: string }>) | null = null;

  /** Serves `/metrics` from elsewhere: a cluster worker answers with every worker's aggregate. */
  renderWith(renderer: () => Promise<{ contentType: string; body: string }>): void {
    this.renderer = renderer;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    if (this.renderer) return this.renderer();
    for (const refresh of this.beforeRender) refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** This process's metrics as JSON, gauges refreshed (what a cluster worker sends its primary). */
  async localJson(): Promise<Awaited<ReturnType<Registry["getMetricsAsJSON"]>>> {
    for (const refresh of this.beforeRender) refresh();
    return this.registry.getMetricsAsJSON();
  }
}
