/**
 * The metrics and logger traffic control needs, as small structural interfaces. prom-client's
 * Counter and Gauge already satisfy CounterPort and GaugePort, and a pino logger satisfies
 * LoggerPort, so the pipeline passes its own objects without an adapter.
 */

export interface CounterPort {
  inc(labels: Record<string, string>, value?: number): void;
}

export interface GaugePort {
  set(labels: Record<string, string>, value: number): void;
}

/** One field per metric of ../metrics/names.ts that traffic control writes. */
export interface TrafficMetrics {
  /** aigw_rejections_total{reason} */
  rejections: CounterPort;
  /** aigw_budget_used_ratio{key,team} */
  budgetUsedRatio: GaugePort;
  /** aigw_team_budget_used_ratio{team} */
  teamBudgetUsedRatio: GaugePort;
  /** aigw_cache_requests_total{result} */
  cacheRequests: CounterPort;
  /** aigw_store_errors_total{store} */
  storeErrors: CounterPort;
  /** aigw_store_fallback (no labels: pass {}) */
  storeFallback: GaugePort;
}

/** pino-compatible: a context object first, then the message. */
export interface LoggerPort {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noopCounter: CounterPort = { inc() {} };
const noopGauge: GaugePort = { set() {} };

export const noopMetrics: TrafficMetrics = {
  rejections: noopCounter,
  budgetUsedRatio: noopGauge,
  teamBudgetUsedRatio: noopGauge,
  cacheRequests: noopCounter,
  storeErrors: noopCounter,
  storeFallback: noopGauge,
};

export const noopLogger: LoggerPort = { info() {}, warn() {}, error() {} };
