/**
 * A Redis the gateway replicas share: a single-replica StatefulSet in the cluster with a generated
 * password, or an external Redis by URL. Either way the component exposes `url` and `password`,
 * which GatewayConfig puts in the gateway's Secret. Two purposes, two instances:
 *
 * - `state` (the default): rate limits, spend and runtime keys. It runs `noeviction`: losing any
 *   of it is wrong (a 5-per-minute key got 10 a minute when `volatile-ttl` evicted the limiter's
 *   short-lived keys under cache pressure), so past maxmemory writes fail instead, the gateway
 *   falls back to local limits (or 503 with failOpen false) and an alert fires. No cache here.
 * - `cache`: the response cache, and nothing else: `allkeys-lru` within its own maxmemory, so a
 *   flood of large answers only evicts other cache entries.
 *
 * The memory limit leaves room above maxmemory for fragmentation and the AOF rewrite fork.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { componentLabels, selectorLabels } from "../builders/labels";

export const REDIS_PORT = 6379;
/** The official image's `redis` user. */
const REDIS_UID = 999;

export interface RedisInClusterArgs {
  image?: pulumi.Input<string>;
  maxmemory?: pulumi.Input<string>;
  maxmemoryPolicy?: pulumi.Input<string>;
  resources?: pulumi.Input<k8s.types.input.core.v1.ResourceRequirements>;
  /** A PersistentVolumeClaim of this size with AOF persistence; without it data lives in an emptyDir. */
  storageSize?: pulumi.Input<string>;
  storageClassName?: pulumi.Input<string>;
}

export interface RedisArgs {
  namespace: pulumi.Input<string>;
  /** Run Redis in the cluster with these settings (the default when externalUrl is unset). */
  inCluster?: RedisInClusterArgs;
  /** Use this Redis instead: `redis://` or `rediss://` (exclusive with inCluster). */
  externalUrl?: pulumi.Input<string>;
  externalPassword?: pulumi.Input<string>;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
  /** `state` (limits, spend, keys: noeviction) or `cache` (the response cache: allkeys-lru); default `state`. */
  purpose?: RedisPurpose;
}

export type RedisPurpose = "state" | "cache";

export const REDIS_DEFAULTS = {
  image: "redis:7.4-alpine",
  maxmemory: "256mb",
  maxmemoryPolicy: "noeviction",
  resources: { requests: { cpu: "100m", memory: "320Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
};

/** The cache's Redis: evicts least recently used entries within its own memory. */
export const CACHE_REDIS_DEFAULTS = { ...REDIS_DEFAULTS, maxmemoryPolicy: "allkeys-lru" };

/** The argument checks, callable before anything is created (AiGateway runs them all first). */
export function checkRedisArgs(args: Omit<RedisArgs, "namespace">): void {
  if (args.externalUrl !== undefined && args.inCluster !== undefined) {
    throw new Error("Redis: set externalUrl or inCluster, not both");
  }
  if (args.externalUrl === undefined && args.externalPassword !== undefined) {
    throw new Error("Redis: externalPassword needs externalUrl (the in-cluster Redis generates its own)");
  }
  const policy = args.inCluster?.maxmemoryPolicy;
  if ((args.purpose ?? "state") === "state" && typeof policy === "string" && policy !== "noeviction") {
    throw new Error(`Redis: the state Redis must run noeviction, not ${policy} (limits, spend and keys must never be evicted; the cache gets its own Redis)`);
  }
}

export class Redis extends pulumi.ComponentResource {
  /** `redis://host:port` (secret when external: a URL may carry credentials). */
  public readonly url: pulumi.Output<string>;
  public readonly password: pulumi.Output<string> | undefined;
  /** Labels of the Redis pods (in-cluster only), for the NetworkPolicy. */
  public readonly selector: Record<string, string> | undefined;
  public readonly port: number;
  public readonly statefulSet: k8s.apps.v1.StatefulSet | undefined;
  public readonly service: k8s.core.v1.Service | undefined;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:Redis", name, {}, opts);
    checkRedisArgs(args);
    this.port = REDIS_PORT;

    if (args.externalUrl !== undefined) {
      this.url = pulumi.secret(
        pulumi.output(args.externalUrl).apply((url) => {
          if (!/^rediss?:\/\//.test(url)) throw new Error(`Redis: externalUrl must start with redis:// or rediss://`);
          return url;
        }),
      );
      this.password = args.externalPassword === undefined ? undefined : pulumi.secret(args.externalPassword);
      this.selector = undefined;
      this.statefulSet = undefined;
      this.service = undefined;
      this.registerOutputs({ url: this.url });
      return;
    }

    const o = args.inCluster ?? {};
    const instance = args.instance ?? name;
    const cache = args.purpose === "cache";
    const defaults = cache ? CACHE_REDIS_DEFAULTS : REDIS_DEFAULTS;
    // Distinct component labels: the state and cache StatefulSets must not select each other's pods.
    const component = cache ? "cache-redis" : "redis";
    const labels = componentLabels(instance, component);
    this.selector = selectorLabels(instance, component);
    const metadata = { name, namespace: args.namespace, labels };

    const generated = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    this.password = generated.result;
    const auth = new k8s.core.v1.Secret(
      `${name}-auth`,
      { metadata: { namespace: args.namespace, labels }, type: "Opaque", stringData: { password: generated.result } },
      { parent: this },
    );

    // The governing (headless) Service a StatefulSet needs, and the one clients use.
    const headless = new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: { ...metadata, name: `${name}-headless` },
        spec: { clusterIP: "None", selector: this.selector, ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }] },
      },
      { parent: this },
    );
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata, spec: { type: "ClusterIP", selector: this.selector, ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }] } },
      { parent: this },
    );

    const persistent = o.storageSize !== undefined;
    const passwordEnv = (envName: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: auth.metadata.name, key: "password" } } });
    const ping = { exec: { command: ["sh", "-c", "redis-cli -p 6379 ping | grep -q PONG"] } };
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata,
        spec: {
          serviceName: headless.metadata.name,
          replicas: 1,
          selector: { matchLabels: this.selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: REDIS_UID,
                runAsGroup: REDIS_UID,
                fsGroup: REDIS_UID,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "redis",
                  image: o.image ?? defaults.image,
                  // Straight to redis-server: the image's entrypoint only matters when run as root.
                  command: ["redis-server"],
                  args: [
                    "--port", String(REDIS_PORT),
                    "--requirepass", "$(REDIS_PASSWORD)",
                    "--maxmemory", o.maxmemory ?? defaults.maxmemory,
                    "--maxmemory-policy", o.maxmemoryPolicy ?? defaults.maxmemoryPolicy,
                    "--appendonly", persistent ? "yes" : "no",
                    "--save", "",
                    "--dir", "/data",
                  ],
                  // REDISCLI_AUTH lets the probes' redis-cli authenticate without the password in argv.
                  env: [passwordEnv("REDIS_PASSWORD"), passwordEnv("REDISCLI_AUTH")],
                  ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                  resources: o.resources ?? defaults.resources,
                  readinessProbe: { ...ping, periodSeconds: 5, timeoutSeconds: 3 },
                  livenessProbe: { ...ping, initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 5 },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  volumeMounts: [{ name: "data", mountPath: "/data" }],
                },
              ],
              volumes: persistent ? undefined : [{ name: "data", emptyDir: {} }],
            },
          },
          volumeClaimTemplates: persistent
            ? [
                {
                  metadata: { name: "data", labels },
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: o.storageClassName,
                    resources: { requests: { storage: o.storageSize! } },
                  },
                },
              ]
            : undefined,
        },
      },
      { parent: this },
    );

    this.url = pulumi.interpolate`redis://${this.service.metadata.name}.${this.service.metadata.namespace}.svc.cluster.local:${REDIS_PORT}`;
    this.registerOutputs({ url: this.url, serviceName: this.service.metadata.name });
  }
}
