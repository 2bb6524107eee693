/**
 * Monitoring for the gateway with the Prometheus Operator: a ServiceMonitor that scrapes every
 * gateway pod's /metrics through the Service's `admin` port (the gateway's admin listener, which
 * no Ingress or route reaches), and a PrometheusRule with the alert groups from
 * builders/alert-rules.ts. Prometheus only loads objects its selectors match: set `ruleLabels`
 * to its `ruleSelector` (kube-prometheus-stack: `release: <helm release>`) and
 * `serviceMonitorLabels` to its `serviceMonitorSelector`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildAlertRuleGroups, type AlertThresholds, type RuleGroup } from "../builders/alert-rules";
import { componentLabels } from "../builders/labels";
import { ADMIN_PORT_NAME } from "../builders/pod-spec";

export interface AlertRulesArgs {
  namespace: pulumi.Input<string>;
  /** The gateway Service's name: the ServiceMonitor's `job` label, which the rules filter on. */
  serviceName: pulumi.Input<string>;
  /** The gateway Service's labels, for the ServiceMonitor's selector. */
  serviceSelector: pulumi.Input<Record<string, pulumi.Input<string>>>;
  ruleLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  serviceMonitorLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  thresholds?: { [K in keyof AlertThresholds]?: pulumi.Input<number> };
  /** Labels added to every alert, for Alertmanager routing. */
  alertLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  runbookBaseUrl?: pulumi.Input<string>;
  scrapeInterval?: pulumi.Input<string>;
  /** The Service port (by name) that serves /metrics: the admin listener's, `admin`, by default. */
  metricsPortName?: pulumi.Input<string>;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export class AlertRules extends pulumi.ComponentResource {
  public readonly serviceMonitor: k8s.apiextensions.CustomResource;
  public readonly prometheusRule: k8s.apiextensions.CustomResource;
  /** The rule groups, as they are in the PrometheusRule. */
  public readonly groups: pulumi.Output<RuleGroup[]>;

  constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:monitoring:AlertRules", name, {}, opts);
    const labels = componentLabels(args.instance ?? name, "gateway");
    const t = args.thresholds ?? {};

    // Building the spec from resolved values is fine inside apply; no resource is created there.
    this.groups = pulumi
      .all([
        args.namespace,
        args.serviceName,
        args.alertLabels ?? {},
        args.runbookBaseUrl,
        pulumi.all({
          ttftP95Seconds: t.ttftP95Seconds,
          upstreamLatencyP95Seconds: t.upstreamLatencyP95Seconds,
          errorRatio: t.errorRatio,
          errorMinFailures: t.errorMinFailures,
          memoryLimitRatio: t.memoryLimitRatio,
          rateLimitRejectionRatio: t.rateLimitRejectionRatio,
          budgetUsedRatio: t.budgetUsedRatio,
          shedRatio: t.shedRatio,
        }),
      ])
      .apply(([namespace, job, extraLabels, runbookBaseUrl, thresholds]) =>
        buildAlertRuleGroups({
          namespace,
          job,
          extraLabels: extraLabels as Record<string, string>,
          runbookBaseUrl,
          // Unset thresholds fall back to the defaults.
          thresholds: Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined)),
        }),
      );

    this.serviceMonitor = new k8s.apiextensions.CustomResource(
      `${name}-servicemonitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: {
          name: args.serviceName,
          namespace: args.namespace,
          labels: pulumi.all([args.serviceMonitorLabels ?? {}]).apply(([extra]) => ({ ...extra, ...labels })),
        },
        spec: {
          selector: { matchLabels: args.serviceSelector },
          namespaceSelector: { matchNames: [args.namespace] },
          endpoints: [{ port: args.metricsPortName ?? ADMIN_PORT_NAME, path: "/metrics", interval: args.scrapeInterval ?? "15s", scheme: "http" }],
        },
      },
      { parent: this },
    );

    this.prometheusRule = new k8s.apiextensions.CustomResource(
      `${name}-prometheusrule`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
          name: args.serviceName,
          namespace: args.namespace,
          labels: pulumi.all([args.ruleLabels ?? {}]).apply(([extra]) => ({ ...extra, ...labels })),
        },
        spec: { groups: this.groups },
      },
      { parent: this },
    );

    this.registerOutputs({ groups: this.groups });
  }
}
