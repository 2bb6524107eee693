/**
 * The gateway's Grafana dashboard, as plain data: traffic, errors, latency (time to first token,
 * upstream), tokens, limits, budgets, cache, target health and the process. Every query reads the
 * gateway's own metric names (gateway/src/metrics/names.ts) and is scoped by the `namespace` and
 * `job` template variables, so one dashboard serves every installation in a cluster.
 */
import { METRICS } from "../../gateway/src/metrics/names";

export interface DashboardTarget {
  expr: string;
  legendFormat: string;
  refId: string;
}

export interface DashboardPanel {
  id: number;
  type: "timeseries" | "stat";
  title: string;
  description: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: "prometheus"; uid: "${datasource}" };
  fieldConfig: { defaults: { unit: string }; overrides: [] };
  targets: DashboardTarget[];
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Record<string, unknown>[] };
  panels: DashboardPanel[];
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  type?: DashboardPanel["type"];
  queries: [expr: string, legend: string][];
}

const SCOPE = 'namespace="$namespace",job="$job"';
const m = METRICS;
const rate = (metric: string, extra = "") => `rate(${metric}{${SCOPE}${extra}}[$__rate_interval])`;
const quantile = (q: number, histogram: string, by: string) =>
  `histogram_quantile(${q}, sum by (le, ${by}) (${rate(`${histogram}_bucket`)}))`;

const PANELS: PanelSpec[] = [
  { title: "Requests per second", description: "Answered requests by HTTP status.", unit: "reqps", queries: [[`sum by (status) (${rate(m.requests.name)})`, "{{status}}"]] },
  {
    title: "Error ratio",
    description: "Share of requests answered with a 5xx.",
    unit: "percentunit",
    queries: [[`sum(${rate(m.requests.name, ',status=~"5.."')}) / sum(${rate(m.requests.name)})`, "5xx"]],
  },
  {
    title: "Time to first token",
    description: "Streams: request start to the first chunk, per model.",
    unit: "s",
    queries: [
      [quantile(0.5, m.timeToFirstToken.name, "model"), "p50 {{model}}"],
      [quantile(0.95, m.timeToFirstToken.name, "model"), "p95 {{model}}"],
    ],
  },
  {
    title: "Upstream latency p95",
    description: "One upstream attempt to its response headers, per model and target.",
    unit: "s",
    queries: [[quantile(0.95, m.upstreamDuration.name, "model, target"), "{{model}} / {{target}}"]],
  },
  { title: "Tokens per second", description: "Prompt and completion tokens from upstream usage.", unit: "short", queries: [[`sum by (model, kind) (${rate(m.tokens.name)})`, "{{model}} {{kind}}"]] },
  { title: "In flight", description: "Requests being served now, per pod.", unit: "short", queries: [[`sum by (pod) (${m.inflight.name}{${SCOPE}})`, "{{pod}}"]] },
  {
    title: "Targets up",
    description: "1 when any pod sees the target healthy (active and passive checks).",
    unit: "short",
    queries: [[`max by (model, target) (${m.targetUp.name}{${SCOPE}})`, "{{model}} / {{target}}"]],
  },
  { title: "Upstream retries", description: "Failed attempts that moved on, by reason.", unit: "short", queries: [[`sum by (reason) (${rate(m.retries.name)})`, "{{reason}}"]] },
  { title: "Refusals", description: "Requests refused by traffic control, by reason.", unit: "reqps", queries: [[`sum by (reason) (${rate(m.rejections.name)})`, "{{reason}}"]] },
  {
    title: "Budget used",
    description: "Share of the monthly budget spent, per key and per team.",
    unit: "percentunit",
    queries: [
      [`max by (key) (${m.budgetUsedRatio.name}{${SCOPE}})`, "key {{key}}"],
      [`max by (team) (${m.teamBudgetUsedRatio.name}{${SCOPE}})`, "team {{team}}"],
    ],
  },
  {
    title: "Cache hit ratio",
    description: "Response cache hits over look-ups.",
    unit: "percentunit",
    queries: [[`sum(${rate(m.cacheRequests.name, ',result="hit"')}) / sum(${rate(m.cacheRequests.name)})`, "hit ratio"]],
  },
  {
    title: "Shared store",
    description: "Pods on local limits (Redis unreachable) and Redis errors.",
    unit: "short",
    queries: [
      [`sum(${m.storeFallback.name}{${SCOPE}})`, "pods on local limits"],
      [`sum(${rate(m.storeErrors.name)})`, "errors/s"],
    ],
  },
  {
    title: "Memory (RSS)",
    description: "Resident memory per pod.",
    unit: "bytes",
    queries: [[`max by (pod) (process_resident_memory_bytes{${SCOPE}})`, "{{pod}}"]],
  },
  {
    title: "Event loop lag p99",
    description: "Node's event-loop delay per pod: rising lag is the first sign of CPU saturation.",
    unit: "s",
    queries: [[`max by (pod) (nodejs_eventloop_lag_p99_seconds{${SCOPE}})`, "{{pod}}"]],
  },
];

const variable = (name: string, label: string, query: string): Record<string, unknown> => ({
  name,
  label,
  type: "query",
  datasource: { type: "prometheus", uid: "${datasource}" },
  query: { query, refId: name },
  refresh: 2,
  includeAll: false,
  multi: false,
});

/** The dashboard JSON model; `uid` is stable so the sidecar updates it in place. */
export function buildGatewayDashboard(options: { uid?: string; title?: string } = {}): Dashboard {
  return {
    uid: options.uid ?? "ai-gateway",
    title: options.title ?? "AI gateway",
    tags: ["ai-gateway"],
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus" },
        variable("namespace", "Namespace", `label_values(${m.requests.name}, namespace)`),
        variable("job", "Job", `label_values(${m.requests.name}{namespace="$namespace"}, job)`),
      ],
    },
    // Two panels a row, 12 of 24 columns each.
    panels: PANELS.map((p, i) => ({
      id: i + 1,
      type: p.type ?? "timeseries",
      title: p.title,
      description: p.description,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: { type: "prometheus", uid: "${datasource}" },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.queries.map(([expr, legendFormat], j) => ({ expr, legendFormat, refId: String.fromCharCode(65 + j) })),
    })),
  };
}
