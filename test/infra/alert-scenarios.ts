/**
 * Synthetic series for `promtool test rules`: for every alert one scenario that makes it fire
 * (with the exact labels and annotations it must carry) and one just on the healthy side of its
 * threshold, plus a healthy cluster where nothing fires even though a neighbour namespace is on
 * fire. Series are sampled every minute for 30 minutes and evaluated at 20m (after every `for`).
 */
export const NS = "ai-gateway";
export const JOB = "ai-gateway";
export const EXTRA_LABELS = { owner: "platform" };

type Labels = Record<string, string>;
interface Series {
  series: string;
  values: string;
}
interface ExpectedAlert {
  exp_labels: Labels;
  exp_annotations: Labels;
}
export interface Scenario {
  name: string;
  alert: string;
  series: Series[];
  expected: ExpectedAlert[];
}

const fmt = (metric: string, labels: Labels) =>
  `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
/** A counter growing by `perMinute` every sample. */
const counter = (metric: string, labels: Labels, perMinute: number): Series => ({ series: fmt(metric, labels), values: `0+${perMinute}x30` });
const gauge = (metric: string, labels: Labels, value: number): Series => ({ series: fmt(metric, labels), values: `${value}+0x30` });

const gw = (labels: Labels = {}, namespace = NS): Labels => ({ namespace, job: JOB, pod: "gw-0", ...labels });
const req = (status: string, perMinute: number, namespace = NS) =>
  counter("aigw_requests_total", gw({ route: "chat.completions", model: "gpt-4o", target: "openai", status }, namespace), perMinute);

/** A latency histogram of `metric` whose observations all land in the bucket ending at `le`. */
function histogram(metric: string, le: string, perMinute: number): Series[] {
  return ["0.5", "1", "2.5", "5", "30", "60", "+Inf"].map((bound) =>
    counter(`${metric}_bucket`, gw({ model: "gpt-4o", le: bound }), bound === "+Inf" || Number(bound) >= Number(le) ? perMinute : 0),
  );
}
const ttft = (le: string, perMinute: number) => histogram("aigw_time_to_first_token_seconds", le, perMinute);
const upstream = (le: string, perMinute: number) => histogram("aigw_upstream_duration_seconds", le, perMinute);
/** Whole-request durations: slow completions that must page nobody. */
const requestDuration = (le: string, perMinute: number) => histogram("aigw_request_duration_seconds", le, perMinute);

const memory = (usedBytes: number): Series[] => [
  gauge("container_memory_working_set_bytes", { namespace: NS, pod: "gw-0", container: "gateway", job: "kubelet" }, usedBytes),
  gauge("kube_pod_container_resource_limits", { namespace: NS, pod: "gw-0", container: "gateway", resource: "memory", unit: "byte", job: "kube-state-metrics" }, 1e9),
];

/** The labels every aggregated alert keeps: its namespace and job. */
const scope = (labels: Labels = {}): Labels => ({ namespace: NS, job: JOB, ...labels });

const alert = (labels: Labels, annotations: Labels, severity = "warning"): ExpectedAlert => ({
  exp_labels: { ...EXTRA_LABELS, severity, ...labels },
  exp_annotations: annotations,
});

export const SCENARIOS: Scenario[] = [
  {
    name: "first-token p95 at 4.875s fires",
    alert: "AiGatewaySlowFirstToken",
    series: ttft("5", 10),
    expected: [alert(scope({ model: "gpt-4o" }), { summary: "p95 time to first token of model gpt-4o is above 3s", description: "p95 time to first token over 5m is 4.875s." })],
  },
  { name: "first-token p95 at 2.425s does not fire", alert: "AiGatewaySlowFirstToken", series: ttft("2.5", 10), expected: [] },
  {
    name: "upstream p95 at 58.5s fires",
    alert: "AiGatewaySlowUpstream",
    series: upstream("60", 10),
    expected: [
      alert(scope({ model: "gpt-4o" }), { summary: "p95 upstream response time of model gpt-4o is above 30s", description: "p95 time to the upstream's response headers over 5m is 58.5s." }),
    ],
  },
  { name: "upstream p95 at 4.875s does not fire", alert: "AiGatewaySlowUpstream", series: upstream("5", 10), expected: [] },
  {
    name: "completions of 30-60 s with a fast first token page nobody",
    alert: "AiGatewaySlowFirstToken",
    series: [...requestDuration("60", 10), ...ttft("0.5", 10), req("200", 10)],
    expected: [],
  },
  {
    name: "3% of requests failing fires",
    alert: "AiGatewayHighErrorRate",
    series: [req("200", 97), req("502", 3)],
    expected: [alert(scope(), { summary: "More than 1% of gateway requests fail", description: "3% of requests were answered with a 5xx over 5m." }, "critical")],
  },
  { name: "0.5% of requests failing does not fire", alert: "AiGatewayHighErrorRate", series: [req("200", 199), req("502", 1)], expected: [] },
  {
    name: "10% refused by the request rate limit fires",
    alert: "AiGatewayRateLimitPressure",
    series: [req("200", 100), counter("aigw_rejections_total", gw({ reason: "requests" }), 10)],
    expected: [
      alert(
        scope({ reason: "requests" }),
        {
          summary: "Rate limiting (requests) is refusing a rising share of requests",
          description: "Rejections by requests are 10% of answered requests over 5m.",
        },
      ),
    ],
  },
  {
    name: "2% token-limited, and budget refusals, do not fire",
    alert: "AiGatewayRateLimitPressure",
    series: [req("200", 100), counter("aigw_rejections_total", gw({ reason: "tokens" }), 2), counter("aigw_rejections_total", gw({ reason: "budget" }), 50)],
    expected: [],
  },
  {
    name: "3% of requests shed on event-loop lag fires",
    alert: "AiGatewayShedding",
    series: [req("200", 97), req("503", 3), counter("aigw_requests_shed_total", gw({ reason: "event_loop_lag" }), 3)],
    expected: [
      alert(scope({ reason: "event_loop_lag" }), {
        summary: "Gateway pods shed new requests (event_loop_lag): they are past what they can carry",
        description: "3% of requests were refused with 503 server_overloaded over 5m: add replicas (or cores), or size server.overload (docs/capacity.md).",
      }),
    ],
  },
  { name: "0.5% shed does not fire", alert: "AiGatewayShedding", series: [req("200", 199), counter("aigw_requests_shed_total", gw({ reason: "in_flight" }), 1)], expected: [] },
  {
    name: "a key at 85% of its budget fires",
    alert: "AiGatewayKeyBudgetHigh",
    series: [gauge("aigw_budget_used_ratio", gw({ key: "app-a", team: "research" }), 0.85), gauge("aigw_budget_used_ratio", gw({ key: "app-a", team: "research", pod: "gw-1" }), 0.85)],
    expected: [
      alert(scope({ key: "app-a", team: "research" }), { summary: "Key app-a has spent over 80% of its monthly budget", description: "Key app-a (team research) has spent 85% of its budget." }),
    ],
  },
  { name: "a key at 79% does not fire", alert: "AiGatewayKeyBudgetHigh", series: [gauge("aigw_budget_used_ratio", gw({ key: "app-a", team: "platform" }), 0.79)], expected: [] },
  {
    name: "a team at 90% of its budget fires",
    alert: "AiGatewayTeamBudgetHigh",
    series: [gauge("aigw_team_budget_used_ratio", gw({ team: "platform" }), 0.9)],
    expected: [alert(scope({ team: "platform" }), { summary: "Team platform has spent over 80% of its monthly budget", description: "Team platform has spent 90% of its budget." })],
  },
  { name: "a team at 50% does not fire", alert: "AiGatewayTeamBudgetHigh", series: [gauge("aigw_team_budget_used_ratio", gw({ team: "platform" }), 0.5)], expected: [] },
  {
    name: "a target no pod sees healthy fires",
    alert: "AiGatewayTargetDown",
    series: [gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai" }), 0), gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai", pod: "gw-1" }), 0)],
    expected: [
      alert(
        scope({ model: "gpt-4o", target: "openai" }),
        {
          summary: "Upstream target openai of model gpt-4o is down",
          description: "No gateway pod has seen target openai healthy for 5m; traffic goes to the model's other targets.",
        },
      ),
    ],
  },
  {
    name: "a target one pod still sees healthy does not fire",
    alert: "AiGatewayTargetDown",
    series: [gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai" }), 0), gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai", pod: "gw-1" }), 1)],
    expected: [],
  },
  {
    name: "a model with no healthy target fires",
    alert: "AiGatewayModelUnavailable",
    series: [gauge("aigw_model_healthy_targets", gw({ model: "gpt-4o" }), 0)],
    expected: [
      alert(
        scope({ model: "gpt-4o" }),
        { summary: "Model gpt-4o has no healthy target", description: "Requests for gpt-4o fail or go to its fallbacks: every target is down, ejected or rate limited on every pod (pods stay ready under server.readiness: any-model, the default)." },
        "critical",
      ),
    ],
  },
  { name: "a model with one healthy target does not fire", alert: "AiGatewayModelUnavailable", series: [gauge("aigw_model_healthy_targets", gw({ model: "gpt-4o" }), 1)], expected: [] },
  {
    name: "a pod at 95% of its memory limit fires",
    alert: "AiGatewayPodMemoryHigh",
    series: memory(950_000_000),
    expected: [
      alert(
        scope({ pod: "gw-0", container: "gateway" }),
        {
          summary: "Gateway pod gw-0 uses over 90% of its memory limit",
          description: "gw-0 uses 95% of its memory limit; it will be OOM-killed at 100%.",
        },
      ),
    ],
  },
  { name: "a pod at 80% of its memory limit does not fire", alert: "AiGatewayPodMemoryHigh", series: memory(800_000_000), expected: [] },
  {
    name: "a pod Prometheus cannot scrape fires",
    alert: "AiGatewayInstanceDown",
    series: [gauge("up", gw({ instance: "10.0.0.7:8080" }), 0)],
    expected: [
      alert(
        { namespace: NS, job: JOB, pod: "gw-0", instance: "10.0.0.7:8080" },
        { summary: "Prometheus cannot scrape gateway pod gw-0", description: "The /metrics endpoint of gw-0 has been unreachable for 5m." },
      ),
    ],
  },
  { name: "a scraped pod does not fire", alert: "AiGatewayInstanceDown", series: [gauge("up", gw({ instance: "10.0.0.7:8080" }), 1)], expected: [] },
  {
    name: "pods on local limits fire",
    alert: "AiGatewaySharedStoreFallback",
    series: [gauge("aigw_store_fallback", gw(), 1), gauge("aigw_store_fallback", gw({ pod: "gw-1" }), 0)],
    expected: [
      alert(scope(), { summary: "Gateway pods run on local limits: the shared store is unreachable", description: "Rate limits, budgets and cache are per pod until Redis is reachable again." }),
    ],
  },
  { name: "pods on the shared store do not fire", alert: "AiGatewaySharedStoreFallback", series: [gauge("aigw_store_fallback", gw(), 0)], expected: [] },
  {
    name: "no gateway scrape target at all fires, even with a neighbour's up",
    alert: "AiGatewayMetricsAbsent",
    series: [gauge("up", gw({ instance: "10.0.0.9:8080" }, "other-team"), 1)],
    expected: [
      alert(scope(), {
        summary: `Prometheus scrapes no gateway pod in namespace ${NS}`,
        description: `No scrape target with job ${JOB} exists: every other gateway alert is blind until it does.`,
      }, "critical"),
    ],
  },
  { name: "a scrape target that is down is not absent", alert: "AiGatewayMetricsAbsent", series: [gauge("up", gw({ instance: "10.0.0.7:8080" }), 0)], expected: [] },
];

/** Everything nominal here; a neighbour namespace failing everything must not page this one. */
export const HEALTHY_SERIES: Series[] = [
  req("200", 300),
  req("502", 300, "other-team"),
  ...ttft("0.5", 300),
  ...upstream("1", 300),
  ...requestDuration("60", 300),
  gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai" }), 1),
  gauge("aigw_target_up", gw({ model: "gpt-4o", target: "openai" }, "other-team"), 0),
  gauge("aigw_model_healthy_targets", gw({ model: "gpt-4o" }), 1),
  gauge("aigw_model_healthy_targets", gw({ model: "gpt-4o" }, "other-team"), 0),
  gauge("aigw_budget_used_ratio", gw({ key: "app-a", team: "platform" }), 0.2),
  gauge("aigw_team_budget_used_ratio", gw({ team: "platform" }), 0.2),
  counter("aigw_rejections_total", gw({ reason: "per_ip" }), 1),
  gauge("aigw_store_fallback", gw(), 0),
  gauge("up", gw({ instance: "10.0.0.7:8080" }), 1),
  ...memory(300_000_000),
];

/** The promtool test file body for a set of alert names. */
export function promtoolTests(alertNames: string[]): Record<string, unknown> {
  const evalTime = "20m";
  return {
    evaluation_interval: "1m",
    tests: [
      ...SCENARIOS.map((s) => ({
        name: s.name,
        interval: "1m",
        input_series: s.series,
        alert_rule_test: [{ eval_time: evalTime, alertname: s.alert, exp_alerts: s.expected }],
      })),
      {
        name: "a healthy gateway next to a failing neighbour fires nothing",
        interval: "1m",
        input_series: HEALTHY_SERIES,
        alert_rule_test: alertNames.map((alertname) => ({ eval_time: evalTime, alertname, exp_alerts: [] })),
      },
    ],
  };
}
