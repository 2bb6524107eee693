/**
 * The whole gateway deployment in one component: namespace, image, Redis, config and Secret,
 * Deployment with Service and PDB, HPA, alerts, ingress and network policies. Each part is its own
 * component and can be used alone; this one wires their outputs together and checks, before
 * creating anything, the settings that only make sense together.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig as ValidGatewayConfig, GatewayConfigInput } from "../../gateway/src/config/schema";
import { knownValue } from "../builders/known-input";
import { buildGatewayConfigDocument } from "../builders/gateway-config-doc";
import { CONTROLLER_TUNING_DEFAULTS, proxyReadTimeoutFor } from "../builders/ingress";
import { AlertRules, type AlertRulesArgs } from "./alert-rules";
import { checkAutoscalerArgs, GatewayAutoscaler, type GatewayAutoscalerArgs } from "./gateway-autoscaler";
import { GatewayConfig } from "./gateway-config";
import { GatewayDeployment, type GatewayDeploymentArgs } from "./gateway-deployment";
import { GatewayDashboard, type GatewayDashboardArgs } from "./grafana-dashboard";
import { checkGatewayImageArgs, GatewayImage, type GatewayImageArgs } from "./gateway-image";
import { checkIngressTuningArgs, IngressTuning, type IngressTuningArgs } from "./ingress-tuning";
import { checkGatewayRouteArgs, GatewayRoute, type GatewayRouteArgs } from "./gateway-route";
import { routeTimeoutSecondsFor } from "../builders/http-route";
import { GatewayNetworkPolicy, type GatewayNetworkPolicyArgs } from "./network-policy";
import { checkRedisArgs, Redis, type RedisArgs } from "./redis";

type Wired<T, K extends keyof T> = Omit<T, K | "instance">;

export interface AiGatewayArgs {
  namespace: pulumi.Input<string>;
  /** Create the namespace, with Pod Security `restricted` enforced (default true). */
  createNamespace?: boolean;
  image: GatewayImageArgs;
  /** The gateway config (see GatewayConfig): checked before anything is created when given plainly, else once known. */
  config: pulumi.Input<GatewayConfigInput>;
  upstreamKeys?: Record<string, pulumi.Input<string>>;
  adminKey?: pulumi.Input<string>;
  extraSecretEnv?: Record<string, pulumi.Input<string>>;
  /**
   * A Secret made outside Pulumi (External Secrets, sealed secrets) holding the upstream keys of
   * `upstreamKeyRefs` as `UPSTREAM_KEY_<MODEL>_<TARGET>`; added to the pods' envFrom.
   */
  existingSecret?: { name: pulumi.Input<string>; upstreamKeyRefs: pulumi.Input<string[]> };
  /** A fixed replica count (exclusive with autoscaling). */
  replicas?: pulumi.Input<number>;
  autoscaling?: Wired<GatewayAutoscalerArgs, "namespace" | "deploymentName" | "job">;
  deployment?: Pick<
    GatewayDeploymentArgs,
    "resources" | "preStopSeconds" | "maxUnavailable" | "servicePort" | "adminServicePort" | "serviceAccountAnnotations" | "env" | "spreadWhenUnsatisfiable" | "scrapeAnnotations" | "serviceType" | "loadBalancerClass" | "serviceAnnotations" | "scheduling"
  >;
  /** Shared state for the replicas (noeviction); without it the gateway keeps limits in memory per pod. */
  redis?: Wired<RedisArgs, "namespace" | "purpose">;
  /**
   * The response cache's own Redis (allkeys-lru, its own maxmemory), shared by the replicas; needs
   * `cache.enabled`. Without it each pod caches in memory: the cache never uses the state Redis.
   */
  cacheRedis?: Wired<RedisArgs, "namespace" | "purpose">;
  monitoring?: Wired<AlertRulesArgs, "namespace" | "serviceName" | "serviceSelector">;
  /** Opt-in Grafana dashboard ConfigMap; in the gateway's namespace unless one is given. */
  dashboard?: Wired<GatewayDashboardArgs, "namespace"> & { namespace?: pulumi.Input<string> };
  ingress?: Wired<IngressTuningArgs, "namespace" | "serviceName" | "servicePort">;
  /** The Gateway API way in: an HTTPRoute for `/v1` attached to the platform's Gateway. */
  route?: Wired<GatewayRouteArgs, "namespace" | "serviceName" | "servicePort" | "timeoutSeconds"> & { timeoutSeconds?: pulumi.Input<number> };
  networkPolicy?: Wired<GatewayNetworkPolicyArgs, "namespace" | "gatewaySelector" | "gatewayPort" | "redis" | "cacheRedis">;
}

export class AiGateway extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly image: GatewayImage;
  public readonly redis: Redis | undefined;
  public readonly cacheRedis: Redis | undefined;
  public readonly config: GatewayConfig;
  public readonly gateway: GatewayDeployment;
  public readonly autoscaler: GatewayAutoscaler | undefined;
  public readonly alerts: AlertRules | undefined;
  public readonly dashboard: GatewayDashboard | undefined;
  public readonly ingress: IngressTuning | undefined;
  public readonly route: GatewayRoute | undefined;
  public readonly networkPolicy: GatewayNetworkPolicy | undefined;
  public readonly imageReference: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  public readonly serviceUrl: pulumi.Output<string>;
  /** The Service's admin port URL (/metrics, /admin): in the cluster only. */
  public readonly adminServiceUrl: pulumi.Output<string>;
  public readonly ingressHost: pulumi.Output<string | undefined>;
  public readonly ingressUrl: pulumi.Output<string | undefined>;

  constructor(name: string, args: AiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:AiGateway", name, {}, opts);

    // Every check first: nothing is created when the arguments are wrong.
    if (args.replicas !== undefined && args.autoscaling !== undefined) {
      throw new Error("AiGateway: set replicas or autoscaling, not both (the HPA owns the count)");
    }
    checkGatewayImageArgs(args.image);
    if (args.redis) checkRedisArgs(args.redis);
    if (args.cacheRedis) checkRedisArgs({ ...args.cacheRedis, purpose: "cache" });
    if (args.autoscaling) checkAutoscalerArgs(args.autoscaling);
    if (args.ingress) checkIngressTuningArgs(args.ingress);
    if (args.route) checkGatewayRouteArgs(args.route);
    // Behind the ingress or Gateway the client address is in X-Forwarded-For (per-IP limits need it).
    const behindProxy = (c: GatewayConfigInput): GatewayConfigInput =>
      args.ingress || args.route ? { ...c, server: { ...c.server, trustProxy: c.server?.trustProxy ?? true } } : c;
    const knownConfig = knownValue(args.config);
    const knownRefs = knownValue(args.existingSecret?.upstreamKeyRefs ?? []);
    const config: pulumi.Input<GatewayConfigInput> =
      knownConfig !== undefined ? behindProxy(knownConfig) : pulumi.output(args.config).apply((c) => behindProxy(c as GatewayConfigInput));
    const upstreamIdle = args.ingress?.controllerTuning
      ? args.ingress.controllerTuning.upstreamKeepaliveTimeoutSeconds ?? CONTROLLER_TUNING_DEFAULTS.upstreamKeepaliveTimeoutSeconds
      : undefined;
    const checkKeepalive = (effective: ValidGatewayConfig, idle: number | undefined): void => {
      if (typeof idle === "number" && idle * 1000 >= effective.server.keepAliveTimeoutMs) {
        throw new Error(
          `AiGateway: the ingress controller's upstream keepalive timeout (${idle}s) must be shorter than the gateway's ` +
            `server.keepAliveTimeoutMs (${effective.server.keepAliveTimeoutMs}ms), or nginx reuses connections the gateway is closing`,
        );
      }
    };
    if (knownConfig !== undefined && knownRefs !== undefined) {
      const redisPassword = args.redis !== undefined && (args.redis.externalUrl === undefined || args.redis.externalPassword !== undefined);
      const cacheRedisPassword = args.cacheRedis !== undefined && (args.cacheRedis.externalUrl === undefined || args.cacheRedis.externalPassword !== undefined);
      const effective = buildGatewayConfigDocument(behindProxy(knownConfig), {
        upstreamKeyRefs: [...new Set([...Object.keys(args.upstreamKeys ?? {}), ...knownRefs])],
        redis: args.redis ? { password: redisPassword } : undefined,
        cacheRedis: args.cacheRedis ? { password: cacheRedisPassword } : undefined,
        adminKey: args.adminKey !== undefined,
        extraSecretEnvNames: Object.keys(args.extraSecretEnv ?? {}),
      }).effective;
      checkKeepalive(effective, knownValue(upstreamIdle ?? undefined)); // an Output idle time is checked below
    }

    const child = { parent: this };
    if (args.createNamespace ?? true) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        {
          metadata: {
            name: args.namespace,
            labels: {
              "app.kubernetes.io/part-of": "ai-gateway",
              // Every pod here (gateway, Redis) meets the restricted profile; enforce it.
              "pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/warn": "restricted",
            },
          },
        },
        child,
      );
      this.namespace = ns.metadata.name;
    } else {
      this.namespace = pulumi.output(args.namespace);
    }
    const namespace = this.namespace;

    this.image = new GatewayImage(`${name}-image`, args.image, child);

    this.redis = args.redis ? new Redis(`${name}-redis`, { ...args.redis, namespace, instance: name, purpose: "state" }, child) : undefined;
    this.cacheRedis = args.cacheRedis ? new Redis(`${name}-cache-redis`, { ...args.cacheRedis, namespace, instance: name, purpose: "cache" }, child) : undefined;

    this.config = new GatewayConfig(
      `${name}-config`,
      {
        namespace,
        config,
        upstreamKeys: args.upstreamKeys,
        adminKey: args.adminKey,
        extraSecretEnv: args.extraSecretEnv,
        externalUpstreamKeyRefs: args.existingSecret?.upstreamKeyRefs,
        redis: this.redis ? { url: this.redis.url, password: this.redis.password } : undefined,
        cacheRedis: this.cacheRedis ? { url: this.cacheRedis.url, password: this.cacheRedis.password } : undefined,
        instance: name,
      },
      child,
    );

    // The config as the pods load it; an Output config is checked here once known (the sync checks above ran otherwise).
    const effective = pulumi.all([this.config.effectiveConfig, upstreamIdle]).apply(([e, idle]) => (checkKeepalive(e, idle), e));
    const server = effective.apply((e) => e.server);

    this.gateway = new GatewayDeployment(
      name,
      {
        ...args.deployment,
        scheduling: args.existingSecret
          ? { ...args.deployment?.scheduling, envFrom: [...(args.deployment?.scheduling?.envFrom ?? []), { secretRef: { name: args.existingSecret.name } }] }
          : args.deployment?.scheduling,
        namespace,
        image: this.image.imageReference,
        configMapName: this.config.configMapName,
        secretName: this.config.secretName,
        // Rolls pods only for fields a reload cannot apply; the rest reaches them through the volume.
        configChecksum: this.config.restartChecksum,
        port: server.port,
        adminPort: server.apply((s) => s.adminPort!),
        replicas: args.replicas,
        shutdownGraceMs: server.shutdownGraceMs,
        instance: name,
      },
      child,
    );

    this.autoscaler = args.autoscaling
      ? new GatewayAutoscaler(
          `${name}-autoscaler`,
          { ...args.autoscaling, namespace, deploymentName: this.gateway.deploymentName, job: this.gateway.adminServiceName, instance: name },
          child,
        )
      : undefined;

    this.alerts = args.monitoring
      ? new AlertRules(
          `${name}-alerts`,
          { ...args.monitoring, namespace, serviceName: this.gateway.adminServiceName, serviceSelector: this.gateway.selector, instance: name },
          child,
        )
      : undefined;

    this.dashboard = args.dashboard
      ? new GatewayDashboard(`${name}-grafana`, { ...args.dashboard, namespace: args.dashboard.namespace ?? namespace, instance: name }, child)
      : undefined;

    this.ingress = args.ingress
      ? new IngressTuning(
          `${name}-ingress`,
          {
            ...args.ingress,
            readTimeoutSeconds: args.ingress.readTimeoutSeconds ?? effective.apply(proxyReadTimeoutFor),
            namespace,
            serviceName: this.gateway.serviceName,
            servicePort: this.gateway.servicePort,
            instance: name,
          },
          child,
        )
      : undefined;

    this.route = args.route
      ? new GatewayRoute(
          `${name}-route`,
          {
            ...args.route,
            timeoutSeconds: args.route.timeoutSeconds ?? effective.apply(routeTimeoutSecondsFor),
            namespace,
            serviceName: this.gateway.serviceName,
            servicePort: this.gateway.servicePort,
            instance: name,
          },
          child,
        )
      : undefined;

    this.networkPolicy = args.networkPolicy
      ? new GatewayNetworkPolicy(
          `${name}-netpol`,
          {
            ...args.networkPolicy,
            namespace,
            gatewaySelector: this.gateway.selector,
            gatewayPort: server.port,
            gatewayAdminPort: server.apply((s) => s.adminPort!),
            redis: this.redis?.selector ? { selector: this.redis.selector, port: this.redis.port } : undefined,
            cacheRedis: this.cacheRedis?.selector ? { selector: this.cacheRedis.selector, port: this.cacheRedis.port } : undefined,
            instance: name,
          },
          child,
        )
      : undefined;

    this.imageReference = this.image.imageReference;
    this.serviceName = this.gateway.serviceName;
    this.serviceUrl = this.gateway.serviceUrl;
    this.adminServiceUrl = this.gateway.adminServiceUrl;
    // The public host: the Ingress's, else the route's first host name.
    this.ingressHost = this.ingress ? this.ingress.host : this.route ? this.route.host : pulumi.output(undefined);
    this.ingressUrl = this.ingress ? this.ingress.url : this.route ? this.route.url : pulumi.output(undefined);
    this.registerOutputs({
      namespace: this.namespace,
      imageReference: this.imageReference,
      serviceName: this.serviceName,
      serviceUrl: this.serviceUrl,
      adminServiceUrl: this.adminServiceUrl,
      ingressHost: this.ingressHost,
      ingressUrl: this.ingressUrl,
    });
  }
}
