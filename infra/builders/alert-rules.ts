/**
 * The gateway's Prometheus alert rules, as plain data. The same groups go into the PrometheusRule
 * and into the files `promtool check rules` / `promtool test rules` read in the tests, so what is
 * tested is what is deployed. Expressions use the gateway's metric names (gateway/src/metrics/
 * names.ts) plus the few series cAdvisor, kube-state-metrics and Prometheus itself provide.
 */
import { METRICS, RATE_LIMIT_REJECTION_REASONS } from "../../gateway/src/metrics/names";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export interface AlertThresholds {
  /**
   * p95 time to first token of streams, per model. Whole-request time is not paged on: a long
   * completion is slow by design, while a slow first token is what users feel.
   */
  ttftP95Seconds: number;
  /** p95 of one upstream attempt to its response headers, per model (non-streamed answers send headers when done). */
  upstreamLatencyP95Seconds: number;
  /** Share of requests answered with a 5xx. */
  errorRatio: number;
  /** Working set over the container's memory limit. */
  memoryLimitRatio: number;
  /** Rate-limit rejections per answered request. */
  rateLimitRejectionRatio: number;
  /** Share of a key's or team's monthly budget spent. */
  budgetUsedRatio: number;
  /** Requests shed with 503 server_overloaded (server.overload) per answered request. */
  shedRatio: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  ttftP95Seconds: 3,
  upstreamLatencyP95Seconds: 30,
  errorRatio: 0.01,
  memoryLimitRatio: 0.9,
  rateLimitRejectionRatio: 0.05,
  budgetUsedRatio: 0.8,
  shedRatio: 0.01,
};

/** `aigw_rejections_total{reason}` values that mean "a rate limit said no" (budget is its own alert). */
export const RATE_LIMIT_REASONS: readonly string[] = RATE_LIMIT_REJECTION_REASONS;

/** Series the rules read that the gateway does not export, and who does. */
export const EXTERNAL_METRICS: Record<string, string> = {
  container_memory_working_set_bytes: "cAdvisor (kubelet)",
  kube_pod_container_resource_limits: "kube-state-metrics",
  up: "Prometheus (one per scrape target)",
};

export interface AlertRuleOptions {
  /** Namespace the gateway runs in: every series is filtered on it. */
  namespace: string;
  /** The `job` label of the gateway's series: with a ServiceMonitor, the Service's name. */
  job: string;
  /** The gateway container's name, for the cAdvisor and kube-state-metrics series. */
  container?: string;
  thresholds?: Partial<AlertThresholds>;
  rateLimitReasons?: readonly string[];
  /**
   * Added to every alert's labels, for Alertmanager routing. They override series labels of the
   * same name, so avoid `team`, `key`, `model`... (the budget alerts carry the series' `team`).
   */
  extraLabels?: Record<string, string>;
  /** When set, every alert gets `runbook_url: <base>#<alert name in lower case>`. */
  runbookBaseUrl?: string;
}

const histogram = (name: string) => `${name}_bucket`;
/** 0.07 as "7", not "7.000000000000001". */
const pct = (ratio: number) => String(Number((ratio * 100).toFixed(4)));

export function buildAlertRuleGroups(o: AlertRuleOptions): RuleGroup[] {
  const t = { ...DEFAULT_ALERT_THRESHOLDS, ...o.thresholds };
  const sel = `namespace="${o.namespace}",job="${o.job}"`;
  // Every alert keeps namespace and job, so Alertmanager routes scoped to a namespace see them.
  const by = (...labels: string[]) => `by (${["namespace", "job", ...labels].join(", ")})`;
  const pod = `namespace="${o.namespace}",container="${o.container ?? "gateway"}"`;
  const reasons = (o.rateLimitReasons ?? RATE_LIMIT_REASONS).join("|");
  const m = METRICS;

  const rule = (
    alert: string,
    severity: "warning" | "critical",
    expr: string,
    forDuration: string,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { ...o.extraLabels, severity },
    annotations: {
      summary,
      description,
      ...(o.runbookBaseUrl ? { runbook_url: `${o.runbookBaseUrl}#${alert.toLowerCase()}` } : {}),
    },
  });

  const traffic: AlertRule[] = [
    rule(
      "AiGatewaySlowFirstToken",
      "warning",
      `histogram_quantile(0.95, sum ${by("le", "model")} (rate(${histogram(m.timeToFirstToken.name)}{${sel}}[5m]))) > ${t.ttftP95Seconds}`,
      "10m",
      `p95 time to first token of model {{ $labels.model }} is above ${t.ttftP95Seconds}s`,
      "p95 time to first token over 5m is {{ $value | humanizeDuration }}.",
    ),
    rule(
      "AiGatewaySlowUpstream",
      "warning",
      `histogram_quantile(0.95, sum ${by("le", "model")} (rate(${histogram(m.upstreamDuration.name)}{${sel}}[5m]))) > ${t.upstreamLatencyP95Seconds}`,
      "10m",
      `p95 upstream response time of model {{ $labels.model }} is above ${t.upstreamLatencyP95Seconds}s`,
      "p95 time to the upstream's response headers over 5m is {{ $value | humanizeDuration }}.",
    ),
    rule(
      "AiGatewayHighErrorRate",
      "critical",
      `sum ${by()} (rate(${m.requests.name}{${sel},status=~"5.."}[5m])) / sum ${by()} (rate(${m.requests.name}{${sel}}[5m])) > ${t.errorRatio}`,
      "2m",
      `More than ${pct(t.errorRatio)}% of gateway requests fail`,
      "{{ $value | humanizePercentage }} of requests were answered with a 5xx over 5m.",
    ),
    rule(
      "AiGatewayRateLimitPressure",
      "warning",
      `sum ${by("reason")} (rate(${m.rejections.name}{${sel},reason=~"${reasons}"}[5m])) / ignoring (reason) group_left sum ${by()} (rate(${m.requests.name}{${sel}}[5m])) > ${t.rateLimitRejectionRatio}`,
      "10m",
      "Rate limiting ({{ $labels.reason }}) is refusing a rising share of requests",
      "Rejections by {{ $labels.reason }} are {{ $value | humanizePercentage }} of answered requests over 5m.",
    ),
    rule(
      "AiGatewayShedding",
      "warning",
      `sum ${by("reason")} (rate(${m.requestsShed.name}{${sel}}[5m])) / ignoring (reason) group_left sum ${by()} (rate(${m.requests.name}{${sel}}[5m])) > ${t.shedRatio}`,
      "5m",
      "Gateway pods shed new requests ({{ $labels.reason }}): they are past what they can carry",
      "{{ $value | humanizePercentage }} of requests were refused with 503 server_overloaded over 5m: add replicas (or cores), or size server.overload (docs/capacity.md).",
    ),
    rule(
      "AiGatewayKeyBudgetHigh",
      "warning",
      `max ${by("key", "team")} (${m.budgetUsedRatio.name}{${sel}}) > ${t.budgetUsedRatio}`,
      "5m",
      `Key {{ $labels.key }} has spent over ${pct(t.budgetUsedRatio)}% of its monthly budget`,
      "Key {{ $labels.key }} (team {{ $labels.team }}) has spent {{ $value | humanizePercentage }} of its budget.",
    ),
    rule(
      "AiGatewayTeamBudgetHigh",
      "warning",
      `max ${by("team")} (${m.teamBudgetUsedRatio.name}{${sel}}) > ${t.budgetUsedRatio}`,
      "5m",
      `Team {{ $labels.team }} has spent over ${pct(t.budgetUsedRatio)}% of its monthly budget`,
      "Team {{ $labels.team }} has spent {{ $value | humanizePercentage }} of its budget.",
    ),
  ];

  const health: AlertRule[] = [
    rule(
      "AiGatewayTargetDown",
      "warning",
      // Each pod checks targets itself: a target is down when no pod sees it healthy.
      `max ${by("model", "target")} (${m.targetUp.name}{${sel}}) == 0`,
      "5m",
      "Upstream target {{ $labels.target }} of model {{ $labels.model }} is down",
      "No gateway pod has seen target {{ $labels.target }} healthy for 5m; traffic goes to the model's other targets.",
    ),
    rule(
      "AiGatewayModelUnavailable",
      "critical",
      `max ${by("model")} (${m.modelHealthyTargets.name}{${sel}}) == 0`,
      "1m",
      "Model {{ $labels.model }} has no healthy target",
      "Requests for {{ $labels.model }} fail or go to its fallbacks: every target is down, ejected or rate limited on every pod (pods stay ready under server.readiness: any-model, the default).",
    ),
    rule(
      "AiGatewayPodMemoryHigh",
      "warning",
      // cAdvisor and kube-state-metrics series carry their own job: the gateway's is set on the result.
      `label_replace(max by (namespace, pod, container) (container_memory_working_set_bytes{${pod}}) / max by (namespace, pod, container) (kube_pod_container_resource_limits{${pod},resource="memory"}), "job", "${o.job}", "", "") > ${t.memoryLimitRatio}`,
      "5m",
      `Gateway pod {{ $labels.pod }} uses over ${pct(t.memoryLimitRatio)}% of its memory limit`,
      "{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit; it will be OOM-killed at 100%.",
    ),
    rule(
      "AiGatewayInstanceDown",
      "warning",
      `up{${sel}} == 0`,
      "5m",
      "Prometheus cannot scrape gateway pod {{ $labels.pod }}",
      "The /metrics endpoint of {{ $labels.pod }} has been unreachable for 5m.",
    ),
    rule(
      "AiGatewayMetricsAbsent",
      "critical",
      // `up` == 0 needs a target; when scraping stops altogether (no pod, a broken ServiceMonitor) there is none.
      `absent(up{${sel}})`,
      "10m",
      `Prometheus scrapes no gateway pod in namespace ${o.namespace}`,
      "No scrape target with job {{ $labels.job }} exists: every other gateway alert is blind until it does.",
    ),
    rule(
      "AiGatewaySharedStoreFallback",
      "warning",
      `max ${by()} (${m.storeFallback.name}{${sel}}) > 0`,
      "2m",
      "Gateway pods run on local limits: the shared store is unreachable",
      "Rate limits, budgets and cache are per pod until Redis is reachable again.",
    ),
  ];

  return [
    { name: `ai-gateway.${o.namespace}.traffic`, rules: traffic },
    { name: `ai-gateway.${o.namespace}.health`, rules: health },
  ];
}
