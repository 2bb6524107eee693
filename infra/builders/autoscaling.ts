/**
 * The HPA's metrics and behaviour (values from the source article: CPU 70%, 100 requests/s per
 * pod, scale up by up to 100% a minute after 60s, scale down by 10% a minute after 300s) and the
 * prometheus-adapter rule that turns the gateway's request counter into the per-pod rate the
 * HPA's Pods metric reads through the custom metrics API.
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

export function buildHpaMetrics(
  targetCpuUtilization: pulumi.Input<number>,
  requestsPerSecondPerPod: pulumi.Input<number>,
  podsMetricName: string = PODS_METRIC_NAME,
): MetricSpec[] {
  return [
    { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: targetCpuUtilization } } },
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
 * The series carry `namespace` and `pod` labels because the ServiceMonitor adds them.
 */
export function buildAdapterRules(podsMetricName: string = PODS_METRIC_NAME): { rules: AdapterRule[] } {
  const counter = METRICS.requests.name;
  return {
    rules: [
      {
        seriesQuery: `${counter}{namespace!="",pod!=""}`,
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: `^${counter}$`, as: podsMetricName },
        metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)",
      },
    ],
  };
}
