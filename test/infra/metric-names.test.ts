/**
 * Every metric an alert, the prometheus-adapter rule or the HPA uses is one the gateway really
 * exports (gateway/src/metrics/names.ts, histograms with their _bucket/_sum/_count series, Node's
 * process metrics) or one listed as external (cAdvisor, kube-state-metrics, Prometheus' `up`).
 * Label names the rules group or filter by must exist on those metrics too.
 */
import { installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { labelNames, metricNames } from "../helpers/promql";
import { GATEWAY_METRIC_NAMES, METRICS, PROCESS_METRIC_NAMES } from "../../gateway/src/metrics/names";
import { GatewayMetrics } from "../../gateway/src/metrics/registry";
import { buildAlertRuleGroups, EXTERNAL_METRICS } from "../../infra/builders/alert-rules";
import { buildAdapterRules, PODS_METRIC_NAME } from "../../infra/builders/autoscaling";
import { GatewayAutoscaler } from "../../infra/components/gateway-autoscaler";

const mocks = installMocks();

const rules = buildAlertRuleGroups({ namespace: "ns", job: "gw" }).flatMap((g) => g.rules);
const adapter = buildAdapterRules("gw").rules;

/** Metric types as the gateway's own registry declares them. */
async function registeredTypes(): Promise<Map<string, string>> {
  const metrics = await new GatewayMetrics().registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** The series names a scrape of the gateway contains. */
async function exportedSeries(): Promise<Set<string>> {
  const types = await registeredTypes();
  const out = new Set<string>(PROCESS_METRIC_NAMES);
  for (const name of GATEWAY_METRIC_NAMES) {
    if (types.get(name) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) out.add(`${name}${suffix}`);
    else out.add(name);
  }
  return out;
}

test("the PromQL lexer finds metrics and labels, and nothing else", () => {
  const expr = 'histogram_quantile(0.95, sum by (le, model) (rate(aigw_request_duration_seconds_bucket{namespace="a",job=~"b|c"}[5m]))) > 1';
  expect(metricNames(expr)).toEqual(["aigw_request_duration_seconds_bucket"]);
  expect(labelNames(expr).sort()).toEqual(["job", "le", "model", "namespace"]);
  expect(metricNames("sum(rate(a_total[1m])) / ignoring (reason) group_left sum(b_total) > 0.5").sort()).toEqual(["a_total", "b_total"]);
});

test("names.ts agrees with the gateway's registry, histograms included", async () => {
  const types = await registeredTypes();
  for (const name of [...GATEWAY_METRIC_NAMES, ...PROCESS_METRIC_NAMES]) expect({ name, registered: types.has(name) }).toEqual({ name, registered: true });
  expect(types.get(METRICS.requestDuration.name)).toBe("histogram");
  expect(types.get(METRICS.requests.name)).toBe("counter");
});

test("every metric an alert reads is exported by the gateway or listed as external", async () => {
  const exported = await exportedSeries();
  const used = rules.flatMap((r) => metricNames(r.expr).map((metric) => ({ alert: r.alert, metric })));
  expect(used.length).toBeGreaterThanOrEqual(rules.length);
  const unknown = used.filter(({ metric }) => !exported.has(metric) && !(metric in EXTERNAL_METRICS));
  expect(unknown).toEqual([]);
});

test("the external list is exactly the non-gateway series the alerts read", async () => {
  const exported = await exportedSeries();
  const external = new Set(rules.flatMap((r) => metricNames(r.expr)).filter((m) => !exported.has(m)));
  expect([...external].sort()).toEqual(Object.keys(EXTERNAL_METRICS).sort());
});

test("labels the alerts filter or group by exist on the metrics they read", () => {
  const targetLabels = ["namespace", "job", "pod", "instance", "container"];
  const externalLabels: Record<string, string[]> = { kube_pod_container_resource_limits: ["resource", "unit"] };
  const byName = new Map<string, readonly string[]>(Object.values(METRICS).map((m) => [m.name, m.labels]));
  for (const rule of rules) {
    const metrics = metricNames(rule.expr);
    const allowed = new Set([
      ...targetLabels,
      ...metrics.flatMap((m) => [...(byName.get(m.replace(/_(bucket|sum|count)$/, "")) ?? []), ...(externalLabels[m] ?? [])]),
      ...(metrics.some((m) => m.endsWith("_bucket")) ? ["le"] : []),
    ]);
    expect({ alert: rule.alert, unknown: labelNames(rule.expr).filter((l) => !allowed.has(l)) }).toEqual({ alert: rule.alert, unknown: [] });
  }
});

test("the adapter rule reads the gateway's request counter and exposes the HPA's Pods metric", async () => {
  const types = await registeredTypes();
  expect(adapter).toHaveLength(1);
  const [series] = metricNames(adapter[0].seriesQuery);
  expect(series).toBe(METRICS.requests.name);
  expect(types.get(series)).toBe("counter");
  expect(new RegExp(adapter[0].name.matches).test(series)).toBe(true);
  expect(adapter[0].name.as).toBe(PODS_METRIC_NAME);
  // A per-second rate of a counter, per pod (the adapter fills in the grouping).
  expect(adapter[0].metricsQuery).toBe("sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)");
  expect(labelNames(adapter[0].seriesQuery).sort()).toEqual(["job", "namespace", "pod"]);
});

test("the HPA asks for the metric the adapter rule serves", async () => {
  const hpa = new GatewayAutoscaler("names-hpa", { namespace: "ns", deploymentName: "gw", requestsPerSecondPerPod: 100 });
  expect(await valueOf(hpa.adapterRules)).toEqual(adapter);
  const spec = (await stateOf(mocks, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "names-hpa-hpa")).spec;
  const pods = spec.metrics.find((m: { type: string }) => m.type === "Pods");
  expect(pods.pods.metric.name).toBe(adapter[0].name.as);
});
