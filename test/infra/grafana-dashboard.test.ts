/**
 * The Grafana dashboard: every query reads a metric the gateway really exports, with labels those
 * metrics carry, is valid PromQL (promtool parses each one as a recording rule) and is scoped to
 * the namespace and job variables; the component ships it as the sidecar's ConfigMap, opt-in.
 */
import { childrenOf, installMocks, stateOf } from "../helpers/pulumi-mocks";
import { checkRules } from "../helpers/promtool";
import { labelNames, metricNames } from "../helpers/promql";
import { validateManifest } from "../helpers/manifest-validator";
import { GATEWAY_METRIC_NAMES, METRICS, PROCESS_METRIC_NAMES } from "../../gateway/src/metrics/names";
import { buildGatewayDashboard } from "../../infra/builders/grafana-dashboard";
import { GatewayDashboard } from "../../infra/components/grafana-dashboard";
import { AiGateway } from "../../infra/components/ai-gateway";

const mocks = installMocks();
const dashboard = buildGatewayDashboard();
const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
/** Grafana's variables replaced by values Prometheus accepts, so promtool can parse the query. */
const concrete = (expr: string) => expr.replace(/\$__rate_interval/g, "1m").replace(/\$namespace/g, "ns").replace(/\$job/g, "gw");

test("every query reads a metric the gateway exports (histograms through _bucket)", () => {
  const exported = new Set<string>([...GATEWAY_METRIC_NAMES, ...PROCESS_METRIC_NAMES]);
  const used = queries.flatMap((q) => metricNames(q.expr).map((metric) => ({ panel: q.panel, metric })));
  expect(used.length).toBeGreaterThanOrEqual(queries.length);
  expect(used.filter(({ metric }) => !exported.has(metric.replace(/_bucket$/, "")))).toEqual([]);
  // The panels cover traffic, first-token latency, tokens, health, limits, budgets and the cache.
  const names = new Set(used.map((u) => u.metric.replace(/_bucket$/, "")));
  for (const m of [METRICS.requests, METRICS.timeToFirstToken, METRICS.upstreamDuration, METRICS.tokens, METRICS.targetUp, METRICS.rejections, METRICS.budgetUsedRatio, METRICS.cacheRequests]) {
    expect({ metric: m.name, shown: names.has(m.name) }).toEqual({ metric: m.name, shown: true });
  }
});

test("labels a query filters or groups by exist on the metric it reads", () => {
  const byName = new Map<string, readonly string[]>(Object.values(METRICS).map((m) => [m.name, m.labels]));
  for (const q of queries) {
    const metrics = metricNames(q.expr);
    const allowed = new Set(["namespace", "job", "pod", ...metrics.flatMap((m) => byName.get(m.replace(/_bucket$/, "")) ?? []), ...(metrics.some((m) => m.endsWith("_bucket")) ? ["le"] : [])]);
    expect({ panel: q.panel, unknown: labelNames(q.expr).filter((l) => !allowed.has(l)) }).toEqual({ panel: q.panel, unknown: [] });
  }
});

test("every selector is scoped to the dashboard's namespace and job variables", () => {
  for (const q of queries) {
    const selectors = [...q.expr.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
    expect(selectors.length).toBeGreaterThan(0);
    for (const s of selectors) expect({ panel: q.panel, scoped: s.includes('namespace="$namespace"') && s.includes('job="$job"') }).toEqual({ panel: q.panel, scoped: true });
  }
});

test("promtool parses every query", () => {
  const groups = [{ name: "dashboard", rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: concrete(q.expr) })) }];
  const result = checkRules(groups);
  if (result.status !== 0) throw new Error(result.output);
  expect(result.output).toMatch(new RegExp(`SUCCESS: ${queries.length} rules found`));
});

test("a broken query makes promtool fail (the check really parses)", () => {
  const result = checkRules([{ name: "dashboard", rules: [{ record: "dashboard:broken", expr: concrete(queries[0].expr).replace(/\)$/, "") }] }]);
  expect(result.status).not.toBe(0);
});

test("panels have unique ids and refIds, and do not overlap", () => {
  expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        expect(cells.has(`${x},${y}`)).toBe(false);
        cells.add(`${x},${y}`);
      }
  }
});

test("GatewayDashboard: one ConfigMap the sidecar picks up, valid against the Kubernetes schema", async () => {
  const component = new GatewayDashboard("dash-test", { namespace: "monitoring", folder: "LLM", uid: "gw-prod" });
  expect(childrenOf(component)).toEqual(["kubernetes:core/v1:ConfigMap dash-test-dashboard"]);
  const cm = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "dash-test-dashboard");
  expect(cm.metadata.namespace).toBe("monitoring");
  expect(cm.metadata.labels.grafana_dashboard).toBe("1");
  expect(cm.metadata.annotations).toEqual({ grafana_folder: "LLM" });
  expect(JSON.parse(cm.data["ai-gateway.json"])).toEqual(buildGatewayDashboard({ uid: "gw-prod" }));
  expect(validateManifest({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dash-test", ...cm.metadata }, data: cm.data })).toEqual([]);
});

test("AiGateway creates the dashboard only when asked", async () => {
  const base = { namespace: "llm", image: { imageReference: `registry.example.com/gw@sha256:${"a".repeat(64)}` }, config: { models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }] } };
  const without = new AiGateway("nodash", base);
  const withDashboard = new AiGateway("withdash", { ...base, dashboard: {} });
  expect(without.dashboard).toBeUndefined();
  expect(childrenOf(without).filter((c) => c.includes("GatewayDashboard"))).toEqual([]);
  expect(childrenOf(withDashboard).filter((c) => c.includes("GatewayDashboard"))).toEqual(["ai-gateway:monitoring:GatewayDashboard withdash-grafana"]);
  const cm = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "withdash-grafana-dashboard");
  expect(cm.metadata.namespace).toBe("llm");
});
