/**
 * An autoscaling/v2 HPA for the gateway: CPU utilisation and requests per second per pod.
 *
 * The Pods metric comes from the custom metrics API, which Kubernetes does not serve by itself:
 * it needs prometheus-adapter with a rule that turns `aigw_requests_total` into
 * `aigw_http_requests_per_second` (builders/autoscaling.ts). Without it the HPA still scales on
 * CPU and reports the Pods metric as unavailable. `adapterRulesYaml` holds the rule for the
 * adapter's Helm values (`rules.custom`); `adapterConfigMap` also writes it as a ConfigMap
 * holding a complete adapter `config.yaml` (for the chart's `rules.existing`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import {
  AUTOSCALING_DEFAULTS,
  buildAdapterRules,
  buildHpaBehavior,
  buildHpaMetrics,
  PODS_METRIC_NAME,
  type AdapterRule,
} from "../builders/autoscaling";
import { componentLabels } from "../builders/labels";

export interface GatewayAutoscalerArgs {
  namespace: pulumi.Input<string>;
  /** The Deployment to scale (GatewayDeployment's deploymentName). */
  deploymentName: pulumi.Input<string>;
  minReplicas?: pulumi.Input<number>;
  maxReplicas?: pulumi.Input<number>;
  /** Average CPU utilisation target, percent of requests. */
  targetCpuUtilization?: pulumi.Input<number>;
  /** Average requests per second per pod. */
  requestsPerSecondPerPod?: pulumi.Input<number>;
  /** Write the adapter rule as a ConfigMap in the adapter's namespace. */
  adapterConfigMap?: { namespace: pulumi.Input<string>; name?: pulumi.Input<string> };
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

/** The argument checks, callable before anything is created (AiGateway runs them all first). */
export function checkAutoscalerArgs(args: Pick<GatewayAutoscalerArgs, "minReplicas" | "maxReplicas">): void {
  const min = args.minReplicas ?? AUTOSCALING_DEFAULTS.minReplicas;
  const max = args.maxReplicas ?? AUTOSCALING_DEFAULTS.maxReplicas;
  if (typeof min === "number" && typeof max === "number") checkBounds(min, max);
}

function checkBounds(min: number, max: number): void {
  if (!Number.isInteger(min) || min < 1) throw new Error(`GatewayAutoscaler: minReplicas must be a whole number >= 1, got ${min}`);
  if (!Number.isInteger(max) || max < min) throw new Error(`GatewayAutoscaler: maxReplicas (${max}) must be a whole number >= minReplicas (${min})`);
}

export class GatewayAutoscaler extends pulumi.ComponentResource {
  public readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  public readonly adapterConfigMap: k8s.core.v1.ConfigMap | undefined;
  public readonly adapterRules: AdapterRule[];
  /** The adapter rule as YAML, to paste under the prometheus-adapter chart's `rules.custom`. */
  public readonly adapterRulesYaml: string;
  public readonly podsMetricName: string;

  constructor(name: string, args: GatewayAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayAutoscaler", name, {}, opts);
    const min = args.minReplicas ?? AUTOSCALING_DEFAULTS.minReplicas;
    const max = args.maxReplicas ?? AUTOSCALING_DEFAULTS.maxReplicas;
    // Known now: fail before creating anything; otherwise once the values resolve.
    checkAutoscalerArgs(args);
    const bounds = pulumi.all([min, max]).apply(([lo, hi]) => (checkBounds(lo, hi), { lo, hi }));

    this.podsMetricName = PODS_METRIC_NAME;
    this.adapterRules = buildAdapterRules(this.podsMetricName).rules;
    this.adapterRulesYaml = stringify(this.adapterRules);
    const labels = componentLabels(args.instance ?? name, "gateway");

    this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-hpa`,
      {
        metadata: { name: args.deploymentName, namespace: args.namespace, labels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: args.deploymentName },
          minReplicas: bounds.lo,
          maxReplicas: bounds.hi,
          metrics: buildHpaMetrics(
            args.targetCpuUtilization ?? AUTOSCALING_DEFAULTS.targetCpuUtilization,
            args.requestsPerSecondPerPod ?? AUTOSCALING_DEFAULTS.requestsPerSecondPerPod,
            this.podsMetricName,
          ),
          behavior: buildHpaBehavior(),
        },
      },
      { parent: this },
    );

    this.adapterConfigMap = args.adapterConfigMap
      ? new k8s.core.v1.ConfigMap(
          `${name}-adapter-rules`,
          {
            metadata: {
              name: args.adapterConfigMap.name ?? `${name}-adapter-rules`,
              namespace: args.adapterConfigMap.namespace,
              labels,
            },
            data: { "config.yaml": stringify({ rules: this.adapterRules }) },
          },
          { parent: this },
        )
      : undefined;

    this.registerOutputs({ hpaName: this.hpa.metadata.name, podsMetricName: this.podsMetricName });
  }
}
