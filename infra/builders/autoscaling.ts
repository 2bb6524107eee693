/**
 * The HPA's metrics and behaviour (values from the source article: CPU 70%, 100 requests/s per
 * pod, scale up by up to 100% a minute after 60s, scale down by 10% a minute after 300s), the
 * prometheus-adapter rule that turns the gateway's request counter into the per-pod rate the
 * HPA's Pods metric reads through the custom metrics API, and the same scaling as a KEDA
 * ScaledObject for clusters that run KEDA instead of an adapter.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { METRICS } from "../../gateway/src/metrics/names";

type MetricSpec = k8s.types.input.autoscaling.v2.MetricSpec;
type Behavior = k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerBehavior;

/** The custom metric the adapter rule exposes and the HPA's Pods metric names. */
export const PODS_METRIC_NAME = "aigw_http_requests_per_second";

export const AUTOSCALING_DEFAULTS = {
  minReplicas: 3,
  maxReplicas: 20,
  targetCpuUtilization: 70,
  requestsPerSecondPerPod: 100,
};

/**
 * CPU always; the Pods metric only when a requests-per-second target is given. The HPA stops
 * scaling down while any of its metrics is unavailable, so a Pods metric without an adapter
 * serving it would ratchet the replica count up: it is opt-in.
 */
export function buildHpaMetrics(
  targetCpuUtilization: pulumi.Input<number>,
  requestsPerSecondPerPod: pulumi.Input<number> | undefined,
  podsMetricName: string = PODS_METRIC_NAME,
): MetricSpec[] {
  const cpu: MetricSpec = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: targetCpuUtilization } } };
  if (requestsPerSecondPerPod === undefined) return [cpu];
  return [
    cpu,
    {
      type: "Pods",
      pods: {
        metric: { name: podsMetricName },
        // A quantity: "100", not 100.
        target: { type: "AverageValue", averageValue: pulumi.output(requestsPerSecondPerPod).apply(String) },
      },
    },
  ];
}

/** Fast up (double every minute, after 1 minute of need), slow down (10% a minute, after 5). */
export function buildHpaBehavior(): Behavior {
  return {
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: "Percent", value: 100, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
  };
}

export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

/**
 * A prometheus-adapter `rules` entry: per-pod requests per second from `aigw_requests_total`.
 * The series carry `namespace` and `pod` labels because the ServiceMonitor adds them; matching
 * on `job` (the ServiceMonitor's, the Service's name) keeps a second scraper's copy of the same
 * series (pod annotations, another Prometheus job) from doubling the rate. The rule goes into the
 * platform's own adapter configuration: the component never rewrites a shared adapter's config.
 */
export function buildAdapterRules(job: string, podsMetricName: string = PODS_METRIC_NAME): { rules: AdapterRule[] } {
  const counter = METRICS.requests.name;
  return {
    rules: [
      {
        seriesQuery: `${counter}{namespace!="",pod!="",job="${job}"}`,
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: `^${counter}$`, as: podsMetricName },
        metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)",
      },
    ],
  };
}

/** The PromQL KEDA's prometheus trigger reads: the Deployment's total requests per second. */
export function kedaRequestsQuery(namespace: string, job: string): string {
  return `sum(rate(${METRICS.requests.name}{namespace="${namespace}",job="${job}"}[1m]))`;
}

export interface ScaledObjectSpecOptions {
  deploymentName: pulumi.Input<string>;
  minReplicas: pulumi.Input<number>;
  maxReplicas: pulumi.Input<number>;
  targetCpuUtilization: pulumi.Input<number>;
  /** With the prometheus trigger: KEDA divides the query's value by this to get replicas. */
  requests?: { perPod: pulumi.Input<number>; serverAddress: pulumi.Input<string>; query: pulumi.Input<string> };
}

/** A keda.sh/v1alpha1 ScaledObject spec: KEDA owns the HPA it creates, with the same behaviour. */
export function buildScaledObjectSpec(o: ScaledObjectSpecOptions): Record<string, unknown> {
  const triggers: Record<string, unknown>[] = [
    { type: "cpu", metricType: "Utilization", metadata: { value: pulumi.output(o.targetCpuUtilization).apply(String) } },
  ];
  if (o.requests) {
    triggers.push({
      type: "prometheus",
      // AverageValue: the query's total divided by the replica count, as the HPA's Pods metric.
      metricType: "AverageValue",
      metadata: { serverAddress: o.requests.serverAddress, query: o.requests.query, threshold: pulumi.output(o.requests.perPod).apply(String) },
    });
  }
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: o.deploymentName },
    minReplicaCount: o.minReplicas,
    maxReplicaCount: o.maxReplicas,
    advanced: { horizontalPodAutoscalerConfig: { behavior: buildHpaBehavior() } },
    triggers,
  };
}
