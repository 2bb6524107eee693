/**
 * The alert rules as deployed: the PrometheusRule's groups are the builder's groups, promtool
 * accepts them (`check rules`), and every alert fires on its synthetic series and stays quiet
 * just below its threshold (`test rules`). A deliberately broken expectation must make promtool
 * fail, which shows the harness really compares.
 */
import { installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { checkRules, testRules } from "../helpers/promtool";
import { buildAlertRuleGroups, type RuleGroup } from "../../infra/builders/alert-rules";
import { AlertRules } from "../../infra/components/alert-rules";
import { EXTRA_LABELS, JOB, NS, promtoolTests, SCENARIOS } from "./alert-scenarios";

const mocks = installMocks();

const groups: RuleGroup[] = buildAlertRuleGroups({ namespace: NS, job: JOB, extraLabels: EXTRA_LABELS });
const alertNames = groups.flatMap((g) => g.rules.map((r) => r.alert));

test("the alert set: latency on first token and upstream, errors, limits, shedding, budgets, health, memory, scraping", () => {
  expect(alertNames.sort()).toEqual([
    "AiGatewayHighErrorRate",
    "AiGatewayInstanceDown",
    "AiGatewayKeyBudgetHigh",
    "AiGatewayMetricsAbsent",
    "AiGatewayModelUnavailable",
    "AiGatewayPodMemoryHigh",
    "AiGatewayRateLimitPressure",
    "AiGatewaySharedStoreFallback",
    "AiGatewayShedding",
    "AiGatewaySlowFirstToken",
    "AiGatewaySlowUpstream",
    "AiGatewayTargetDown",
    "AiGatewayTeamBudgetHigh",
  ]);
});

test("every alert has a firing and a quiet scenario", () => {
  for (const name of alertNames) {
    const own = SCENARIOS.filter((s) => s.alert === name);
    expect({ name, fires: own.some((s) => s.expected.length > 0), quiet: own.some((s) => s.expected.length === 0) }).toEqual({
      name,
      fires: true,
      quiet: true,
    });
  }
});

test("every alert carries namespace and job when it fires (promtool compares the exact labels)", () => {
  for (const s of SCENARIOS) {
    for (const expected of s.expected) expect({ alert: s.alert, ns: expected.exp_labels.namespace, job: expected.exp_labels.job }).toEqual({ alert: s.alert, ns: NS, job: JOB });
  }
});

test("promtool check rules accepts the groups", () => {
  const result = checkRules(groups);
  expect(result.output).toMatch(/SUCCESS: 13 rules found/);
  expect(result.status).toBe(0);
});

test("promtool test rules: each alert fires on its series and not below its threshold", () => {
  const result = testRules(groups, promtoolTests(alertNames));
  if (result.status !== 0) throw new Error(result.output);
  expect(result.output).toMatch(/SUCCESS/);
});

test("a wrong expectation makes promtool fail (the harness compares labels and annotations)", () => {
  const tests = promtoolTests(alertNames) as { tests: { alert_rule_test: { exp_alerts: { exp_labels: Record<string, string> }[] }[] }[] };
  tests.tests[0].alert_rule_test[0].exp_alerts[0].exp_labels.model = "some-other-model";
  const result = testRules(groups, tests);
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/FAILED/);
});

test("thresholds are configurable and reach the expressions", () => {
  const custom = buildAlertRuleGroups({ namespace: NS, job: JOB, thresholds: { ttftP95Seconds: 5, errorRatio: 0.05, errorMinFailures: 12 } });
  const rules = Object.fromEntries(custom.flatMap((g) => g.rules).map((r) => [r.alert, r]));
  expect(rules.AiGatewaySlowFirstToken.expr).toMatch(/\) > 5$/);
  expect(rules.AiGatewayHighErrorRate.expr).toMatch(/> 0\.05\) and \(.*increase\(.*>= 12\)$/);
  expect(rules.AiGatewayHighErrorRate.annotations.summary).toBe("More than 5% of gateway requests fail");
  // With a 5s threshold the 4.875s scenario no longer fires.
  const latencyOnly = SCENARIOS.filter((s) => s.alert === "AiGatewaySlowFirstToken").map((s) => ({ ...s, expected: [] }));
  const result = testRules(custom, {
    evaluation_interval: "1m",
    tests: latencyOnly.map((s) => ({ name: s.name, interval: "1m", input_series: s.series, alert_rule_test: [{ eval_time: "20m", alertname: s.alert, exp_alerts: [] }] })),
  });
  if (result.status !== 0) throw new Error(result.output);
});

test("the PrometheusRule holds exactly the builder's groups, with the Prometheus selector labels", async () => {
  const rules = new AlertRules("alerts-test", {
    namespace: NS,
    serviceName: JOB,
    serviceSelector: { app: "x" },
    ruleLabels: { release: "kube-prometheus-stack" },
    alertLabels: EXTRA_LABELS,
  });
  expect(await valueOf(rules.groups)).toEqual(groups);
  const deployed = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-test-prometheusrule");
  expect(deployed.spec.groups).toEqual(groups);
  expect(deployed.metadata.labels.release).toBe("kube-prometheus-stack");
});

test("a wrong annotation makes promtool fail too", () => {
  const tests = promtoolTests(alertNames) as { tests: { alert_rule_test: { exp_alerts: { exp_annotations: Record<string, string> }[] }[] }[] };
  tests.tests[0].alert_rule_test[0].exp_alerts[0].exp_annotations.description = "p95 time to first token over 5m is 9s.";
  expect(testRules(groups, tests).status).not.toBe(0);
});
