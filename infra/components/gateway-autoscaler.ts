/**
 * Autoscaling for the gateway: CPU utilisation always, and requests per second per pod when asked
 * for, either as an autoscaling/v2 HPA or as a KEDA ScaledObject.
 *
 * With the HPA the requests metric is a Pods metric from the custom metrics API, which Kubernetes
 * does not serve by itself: it needs prometheus-adapter with the rule in `adapterRulesYaml`
 * (builders/autoscaling.ts), added to the platform's own adapter configuration. An HPA whose
 * metric is missing never scales down, so the metric is opt-in (`requestsPerSecondPerPod`).
 * With KEDA (`keda.prometheusServerAddress`) the ScaledObject queries Prometheus itself and no
 * adapter is involved.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import {
  AUTOSCALING_DEFAULTS,
  buildAdapterRules,
  buildHpaBehavior,
  buildHpaMetrics,
  buildScaledObjectSpec,
  kedaRequestsQuery,
  PODS_METRIC_NAME,
  type AdapterRule,
} from "../builders/autoscaling";
import { componentLabels } from "../builders/labels";

export interface GatewayAutoscalerArgs {
  namespace: pulumi.Input<string>;
  /** The Deployment to scale (GatewayDeployment's deploymentName). */
  deploymentName: pulumi.Input<string>;
  /** The `job` label of the gateway's series (the ServiceMonitor's: the Service's name); default deploymentName. */
  job?: pulumi.Input<string>;
  minReplicas?: pulumi.Input<number>;
  maxReplicas?: pulumi.Input<number>;
  /** Average CPU utilisation target, percent of requests. */
  targetCpuUtilization?: pulumi.Input<number>;
  /** Average requests per second per pod; unset, the scaling is on CPU alone. */
  requestsPerSecondPerPod?: pulumi.Input<number>;
  /** Scale with KEDA instead of a plain HPA; KEDA's prometheus trigger reads this Prometheus. */
  keda?: { prometheusServerAddress: pulumi.Input<string> };
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
  /** The HPA, unless KEDA scales the Deployment (KEDA then owns an HPA of its own). */
  public readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler | undefined;
  public readonly scaledObject: k8s.apiextensions.CustomResource | undefined;
  public readonly adapterRules: pulumi.Output<AdapterRule[]>;
  /** The adapter rule as YAML, for the platform's prometheus-adapter values (`rules.custom`). */
  public readonly adapterRulesYaml: pulumi.Output<string>;
  /** The HPA's Pods metric, when one is used. */
  public readonly podsMetricName: string | undefined;

  constructor(name: string, args: GatewayAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayAutoscaler", name, {}, opts);
    const min = args.minReplicas ?? AUTOSCALING_DEFAULTS.minReplicas;
    const max = args.maxReplicas ?? AUTOSCALING_DEFAULTS.maxReplicas;
    // Known now: fail before creating anything; otherwise once the values resolve.
    checkAutoscalerArgs(args);
    const bounds = pulumi.all([min, max]).apply(([lo, hi]) => (checkBounds(lo, hi), { lo, hi }));
    const cpu = args.targetCpuUtilization ?? AUTOSCALING_DEFAULTS.targetCpuUtilization;
    const job = pulumi.output(args.job ?? args.deploymentName);

    this.adapterRules = job.apply((j) => buildAdapterRules(j).rules);
    this.adapterRulesYaml = this.adapterRules.apply((rules) => stringify(rules));
    this.podsMetricName = args.keda === undefined && args.requestsPerSecondPerPod !== undefined ? PODS_METRIC_NAME : undefined;
    const labels = componentLabels(args.instance ?? name, "gateway");
    const metadata = { name: args.deploymentName, namespace: args.namespace, labels };

    this.hpa =
      args.keda === undefined
        ? new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            {
              metadata,
              spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: args.deploymentName },
                minReplicas: bounds.lo,
                maxReplicas: bounds.hi,
                metrics: buildHpaMetrics(cpu, args.requestsPerSecondPerPod),
                behavior: buildHpaBehavior(),
              },
            },
            { parent: this },
          )
        : undefined;

    const keda = args.keda;
    const perPod = args.requestsPerSecondPerPod;
    this.scaledObject =
      keda !== undefined
        ? new k8s.apiextensions.CustomResource(
            `${name}-scaledobject`,
            {
              apiVersion: "keda.sh/v1alpha1",
              kind: "ScaledObject",
              metadata,
              spec: buildScaledObjectSpec({
                deploymentName: args.deploymentName,
                minReplicas: bounds.lo,
                maxReplicas: bounds.hi,
                targetCpuUtilization: cpu,
                requests:
                  perPod === undefined
                    ? undefined
                    : {
                        perPod,
                        serverAddress: keda.prometheusServerAddress,
                        query: pulumi.all([args.namespace, job]).apply(([ns, j]) => kedaRequestsQuery(ns, j)),
                      },
              }),
            },
            { parent: this },
          )
        : undefined;

    this.registerOutputs({ hpaName: this.hpa?.metadata.name, podsMetricName: this.podsMetricName });
  }
}
