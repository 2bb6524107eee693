/**
 * The stack's configuration (Pulumi.<stack>.yaml), read once and validated with zod, because
 * `config.requireObject<T>()` only casts. Unknown keys are errors too: a typo must not silently
 * fall back to a default. Secret values (upstream keys, admin key, external Redis passwords) are
 * wrapped with `pulumi.secret` as soon as they are read.
 */
import * as pulumi from "@pulumi/pulumi";
import { z, type ZodIssue } from "zod";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { DIGEST_REFERENCE } from "./components/gateway-image";

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label: lowercase letters, digits and '-'");
const quantity = z.string().regex(/^[0-9.]+[a-zA-Z]*$/, 'a Kubernetes quantity such as "500m" or "1Gi"');
const positiveInt = z.number().int().positive();
const labels = z.record(z.string());

const imageSchema = z
  .object({
    reference: z.string().regex(DIGEST_REFERENCE, "must pin a digest: registry/repo@sha256:<64 hex>").optional(),
    build: z
      .object({ imageName: z.string().min(1), platform: z.string().optional(), context: z.string().optional(), dockerfile: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((i) => (i.reference === undefined) !== (i.build === undefined), "set exactly one of reference or build");

const resourceList = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).strict();

const redisSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("none") }).strict(),
  z
    .object({
      mode: z.literal("in-cluster"),
      image: z.string().optional(),
      maxmemory: z.string().regex(/^[0-9]+(b|kb|mb|gb)?$/i, 'a Redis size such as "256mb"').optional(),
      maxmemoryPolicy: z
        .enum(["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
        .optional(),
      storageSize: quantity.optional(),
      storageClassName: z.string().optional(),
    })
    .strict(),
  z.object({ mode: z.literal("external"), url: z.string().regex(/^rediss?:\/\/[^\s]+$/, "a redis:// or rediss:// URL") }).strict(),
]);

const stackConfigSchema = z
  .object({
    namespace: dnsLabel,
    createNamespace: z.boolean().default(true),
    image: imageSchema,
    replicas: positiveInt.optional(),
    autoscaling: z
      .object({
        minReplicas: positiveInt.optional(),
        maxReplicas: positiveInt.optional(),
        targetCpuUtilization: z.number().int().min(1).max(100).optional(),
        requestsPerSecondPerPod: z.number().positive().optional(),
        keda: z.object({ prometheusServerAddress: z.string().url() }).strict().optional(),
      })
      .strict()
      .optional(),
    resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).strict().optional(),
    /** The knobs every chart has (checked in depth by the Kubernetes schemas at render and by the API server). */
    pod: z
      .object({
        imagePullSecrets: z.array(z.string().min(1)).optional(),
        nodeSelector: labels.optional(),
        tolerations: z.array(z.record(z.unknown())).optional(),
        affinity: z.record(z.unknown()).optional(),
        priorityClassName: z.string().min(1).optional(),
        annotations: labels.optional(),
        labels: labels.optional(),
        env: z.record(z.string()).optional(),
        envFrom: z.array(z.record(z.unknown())).optional(),
        extraVolumes: z.array(z.object({ name: z.string().min(1) }).passthrough()).optional(),
        extraVolumeMounts: z.array(z.object({ name: z.string().min(1), mountPath: z.string().min(1) }).passthrough()).optional(),
      })
      .strict()
      .optional(),
    /** Upstream keys from a Secret made outside Pulumi (External Secrets): never in Pulumi config. */
    existingSecret: z.object({ name: z.string().min(1), upstreamKeyRefs: z.array(z.string().min(1)).default([]) }).strict().optional(),
    preStopSeconds: z.number().int().nonnegative().optional(),
    /** The state Redis: limits, spend, keys. It runs noeviction (its maxmemoryPolicy may only be that). */
    redis: redisSchema.default({ mode: "none" }),
    /** The response cache's own Redis (allkeys-lru by default); without it each pod caches in memory. */
    cacheRedis: redisSchema.default({ mode: "none" }),
    /** The Gateway API way in: an HTTPRoute for /v1 on the platform's Gateway. */
    gatewayApi: z
      .object({
        parentRefs: z
          .array(z.object({ name: z.string().min(1), namespace: dnsLabel.optional(), sectionName: z.string().min(1).optional() }).strict())
          .min(1, "at least one Gateway"),
        hostnames: z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/, "a host name")).optional(),
        scheme: z.enum(["http", "https"]).optional(),
        timeoutSeconds: positiveInt.optional(),
      })
      .strict()
      .optional(),
    /** The gateway Service: type, load balancer class and annotations (ClusterIP by default). */
    service: z
      .object({
        type: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).optional(),
        loadBalancerClass: z.string().min(1).optional(),
        annotations: labels.optional(),
      })
      .strict()
      .optional(),
    ingress: z
      .object({
        host: z.string().regex(/^[a-z0-9.-]+$/, "a host name"),
        className: z.string().optional(),
        tls: z.object({ secretName: z.string().optional(), clusterIssuer: z.string().optional(), issuer: z.string().optional() }).strict().optional(),
        proxyBodySize: z.string().optional(),
        controllerTuning: z
          .object({
            namespace: dnsLabel,
            configMapName: z.string(),
            upstreamKeepaliveConnections: positiveInt.optional(),
            upstreamKeepaliveTimeoutSeconds: positiveInt.optional(),
            upstreamKeepaliveRequests: positiveInt.optional(),
            keepAliveSeconds: positiveInt.optional(),
            maxWorkerConnections: positiveInt.optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    monitoring: z
      .object({
        ruleLabels: labels.optional(),
        serviceMonitorLabels: labels.optional(),
        alertLabels: labels.optional(),
        runbookBaseUrl: z.string().url().optional(),
        thresholds: z
          .object({
            ttftP95Seconds: z.number().positive(),
            upstreamLatencyP95Seconds: z.number().positive(),
            errorRatio: z.number().gt(0).lt(1),
            errorMinFailures: z.number().int().positive(),
            memoryLimitRatio: z.number().gt(0).lte(1),
            rateLimitRejectionRatio: z.number().gt(0).lt(1),
            budgetUsedRatio: z.number().gt(0).lte(1),
            shedRatio: z.number().gt(0).lt(1),
          })
          .partial()
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** Opt-in: a Grafana dashboard ConfigMap for the dashboard sidecar. */
    dashboard: z
      .object({
        namespace: dnsLabel.optional(),
        folder: z.string().min(1).optional(),
        sidecarLabels: labels.optional(),
        uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/, "letters, digits, - and _ (at most 40)").optional(),
      })
      .strict()
      .optional(),
    networkPolicy: z
      .object({
        ingressControllerNamespace: dnsLabel.optional(),
        /** Labels of the proxy pods in that namespace (default: ingress-nginx's). */
        ingressControllerPodLabels: labels.optional(),
        prometheusNamespace: dnsLabel.optional(),
        clientNamespaces: z.array(dnsLabel).optional(),
        /** Namespaces that may call the admin port (/admin/…); Prometheus always may. */
        adminClientNamespaces: z.array(dnsLabel).optional(),
      })
      .strict()
      .optional(),
    /** The gateway config; checked in depth by GatewayConfig with the gateway's own loader. */
    gateway: z.object({ models: z.array(z.unknown()).min(1, "at least one model") }).passthrough(),
    // Secrets: set with `pulumi config set --secret`.
    upstreamKeys: z.record(z.string().min(1)).default({}),
    adminKey: z.string().min(16).optional(),
    redisPassword: z.string().optional(),
    cacheRedisPassword: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.replicas !== undefined && c.autoscaling !== undefined) {
      ctx.addIssue({ code: "custom", path: ["replicas"], message: "set replicas or autoscaling, not both" });
    }
    if (c.redisPassword !== undefined && c.redis.mode !== "external") {
      ctx.addIssue({ code: "custom", path: ["redisPassword"], message: 'only for redis.mode "external" (in-cluster Redis generates one)' });
    }
    if (c.cacheRedisPassword !== undefined && c.cacheRedis.mode !== "external") {
      ctx.addIssue({ code: "custom", path: ["cacheRedisPassword"], message: 'only for cacheRedis.mode "external" (in-cluster Redis generates one)' });
    }
    if (c.redis.mode === "in-cluster" && c.redis.maxmemoryPolicy !== undefined && c.redis.maxmemoryPolicy !== "noeviction") {
      ctx.addIssue({
        code: "custom",
        path: ["redis", "maxmemoryPolicy"],
        message: "the state Redis must run noeviction (limits, spend and keys must never be evicted); the cache gets its own Redis (cacheRedis)",
      });
    }
  });

type ParsedStackConfig = z.output<typeof stackConfigSchema>;

export type StackConfig = Omit<ParsedStackConfig, "gateway" | "upstreamKeys" | "adminKey" | "redisPassword" | "cacheRedisPassword"> & {
  gateway: GatewayConfigInput;
  secrets: {
    upstreamKeys: Record<string, pulumi.Output<string>>;
    adminKey?: pulumi.Output<string>;
    redisPassword?: pulumi.Output<string>;
    cacheRedisPassword?: pulumi.Output<string>;
  };
};

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack config:\n  - ${problems.join("\n  - ")}`);
    this.name = "StackConfigError";
  }
}

function formatIssue(project: string, issue: ZodIssue): string {
  const [key, ...rest] = issue.path;
  const where = key === undefined ? project : `${project}:${String(key)}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
  if (issue.code === "unrecognized_keys") {
    return key === undefined
      ? `unknown config key(s) ${issue.keys.map((k) => `${project}:${k}`).join(", ")}`
      : `${where}: unknown field(s) ${issue.keys.join(", ")}`;
  }
  return `${where}: ${issue.message}`;
}

/** Pulumi hands every value over as a string, objects and numbers JSON-encoded. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Validates the project's keys of a Pulumi config map (`{"ai-gateway:namespace": "…"}`); keys of
 * other namespaces (`kubernetes:context`) are left to their owners.
 */
export function parseStackConfig(project: string, raw: Record<string, string>): StackConfig {
  const prefix = `${project}:`;
  const mine: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (key.startsWith(prefix)) mine[key.slice(prefix.length)] = decode(value);
  const parsed = stackConfigSchema.safeParse(mine);
  if (!parsed.success) throw new StackConfigError(parsed.error.issues.map((i) => formatIssue(project, i)));
  const { upstreamKeys, adminKey, redisPassword, cacheRedisPassword, gateway, ...rest } = parsed.data;
  return {
    ...rest,
    gateway: gateway as GatewayConfigInput,
    secrets: {
      upstreamKeys: Object.fromEntries(Object.entries(upstreamKeys).map(([k, v]) => [k, pulumi.secret(v)])),
      adminKey: adminKey === undefined ? undefined : pulumi.secret(adminKey),
      redisPassword: redisPassword === undefined ? undefined : pulumi.secret(redisPassword),
      cacheRedisPassword: cacheRedisPassword === undefined ? undefined : pulumi.secret(cacheRedisPassword),
    },
  };
}

/** The running stack's config: call once, from main.ts. */
export function loadStackConfig(): StackConfig {
  return parseStackConfig(pulumi.getProject(), pulumi.runtime.allConfig());
}
