/**
 * The stack program as a function of its validated config, so that main.ts, the render CLI and
 * the tests all run the same code. Its outputs are what other stacks read with a StackReference.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../gateway/src/config/validate";
import { AiGateway, type AiGatewayArgs } from "./components/ai-gateway";
import { NETWORK_POLICY_DEFAULTS } from "./components/network-policy";
import { StackConfigError, type StackConfig } from "./config";

export interface StackOutputs {
  namespace: pulumi.Output<string>;
  serviceName: pulumi.Output<string>;
  /** In-cluster URL of the gateway's Service. */
  serviceUrl: pulumi.Output<string>;
  /** In-cluster URL of the Service's admin port (/metrics, /admin); no route reaches it. */
  adminServiceUrl: pulumi.Output<string>;
  ingressHost: pulumi.Output<string | undefined>;
  ingressUrl: pulumi.Output<string | undefined>;
  imageReference: pulumi.Output<string>;
  /** The prometheus-adapter rule for the platform's adapter values, when the HPA uses the requests metric. */
  adapterRulesYaml: pulumi.Output<string | undefined>;
}

function redisArgs(redis: StackConfig["redis"], password: pulumi.Output<string> | undefined): AiGatewayArgs["redis"] {
  switch (redis.mode) {
    case "none":
      return undefined;
    case "external":
      return { externalUrl: pulumi.secret(redis.url), externalPassword: password };
    case "in-cluster": {
      const { mode: _mode, ...inCluster } = redis;
      return { inCluster };
    }
  }
}

export function toAiGatewayArgs(c: StackConfig): AiGatewayArgs {
  const np = c.networkPolicy;
  return {
    namespace: c.namespace,
    createNamespace: c.createNamespace,
    image: c.image.reference !== undefined ? { imageReference: c.image.reference } : { build: c.image.build! },
    config: c.gateway,
    upstreamKeys: c.secrets.upstreamKeys,
    adminKey: c.secrets.adminKey,
    replicas: c.replicas,
    autoscaling: c.autoscaling,
    existingSecret: c.existingSecret,
    deployment: {
      resources: c.resources,
      preStopSeconds: c.preStopSeconds,
      env: c.pod?.env,
      scheduling: c.pod && {
        imagePullSecrets: c.pod.imagePullSecrets,
        nodeSelector: c.pod.nodeSelector,
        tolerations: c.pod.tolerations,
        affinity: c.pod.affinity,
        priorityClassName: c.pod.priorityClassName,
        podAnnotations: c.pod.annotations,
        podLabels: c.pod.labels,
        envFrom: c.pod.envFrom,
        extraVolumes: c.pod.extraVolumes,
        extraVolumeMounts: c.pod.extraVolumeMounts,
      },
      serviceType: c.service?.type,
      loadBalancerClass: c.service?.loadBalancerClass,
      serviceAnnotations: c.service?.annotations,
    },
    route: c.gatewayApi,
    redis: redisArgs(c.redis, c.secrets.redisPassword),
    cacheRedis: redisArgs(c.cacheRedis, c.secrets.cacheRedisPassword),
    monitoring: c.monitoring,
    dashboard: c.dashboard,
    ingress: c.ingress && {
      host: c.ingress.host,
      ingressClassName: c.ingress.className,
      tls: c.ingress.tls,
      proxyBodySize: c.ingress.proxyBodySize,
      controllerTuning: c.ingress.controllerTuning,
    },
    networkPolicy: np && {
      ingressController:
        np.ingressControllerNamespace || np.ingressControllerPodLabels
          ? {
              namespace: np.ingressControllerNamespace ?? NETWORK_POLICY_DEFAULTS.ingressController.namespace,
              podLabels: np.ingressControllerPodLabels ?? NETWORK_POLICY_DEFAULTS.ingressController.podLabels,
            }
          : undefined,
      prometheus: np.prometheusNamespace ? { ...NETWORK_POLICY_DEFAULTS.prometheus, namespace: np.prometheusNamespace } : undefined,
      clientNamespaces: np.clientNamespaces,
      adminClientNamespaces: np.adminClientNamespaces,
    },
  };
}

export function deployStack(config: StackConfig, name = "ai-gateway"): { gateway: AiGateway; outputs: StackOutputs } {
  let gateway: AiGateway;
  try {
    gateway = new AiGateway(name, toAiGatewayArgs(config));
  } catch (err) {
    // The gateway's own loader found the problem: say which stack key holds it.
    if (err instanceof ConfigError) {
      const project = pulumi.getProject();
      throw new StackConfigError(err.problems.map((p) => (p.startsWith("upstreamKeys[") ? `${project}:${p}` : `${project}:gateway: ${p}`)));
    }
    throw err;
  }
  return {
    gateway,
    outputs: {
      namespace: gateway.namespace,
      serviceName: gateway.serviceName,
      serviceUrl: gateway.serviceUrl,
      adminServiceUrl: gateway.adminServiceUrl,
      ingressHost: gateway.ingressHost,
      ingressUrl: gateway.ingressUrl,
      imageReference: gateway.imageReference,
      adapterRulesYaml: gateway.autoscaler?.podsMetricName !== undefined ? gateway.autoscaler.adapterRulesYaml : pulumi.output(undefined),
    },
  };
}
