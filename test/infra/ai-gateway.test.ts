/**
 * AiGateway, the composition: which components it creates for which arguments (and what each
 * of those parents), the checks it runs before creating anything, and the settings it derives
 * from the gateway config (trustProxy behind an ingress, nginx read timeout, drain time).
 */
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { AiGateway, type AiGatewayArgs } from "../../infra/components/ai-gateway";
import { childrenOf, installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { settled } from "../../infra/render/mocks";
import { parse } from "yaml";

const mocks = installMocks();
const DIGEST = `ghcr.io/acme/ai-gateway@sha256:${"b".repeat(64)}`;
const config: GatewayConfigInput = {
  upstreamDefaults: { deadlineMs: 200_000 },
  models: [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }],
};
const full: AiGatewayArgs = {
  namespace: "team-ai",
  image: { imageReference: DIGEST },
  config: { ...config, limits: { store: "redis" } },
  upstreamKeys: { "gpt-4o/openai": "sk" },
  autoscaling: {},
  redis: {},
  monitoring: {},
  ingress: { host: "ai.example.com", tls: { secretName: "wildcard" }, controllerTuning: { namespace: "ingress-nginx", configMapName: "c" } },
  networkPolicy: {},
};
// Without an engine pulumi.log.warn writes to console.warn; keep it for the assertions.
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.join(" ")));
});
afterEach(() => jest.restoreAllMocks());
const customCount = (prefix: string) => mocks.resources.filter((r) => r.custom && r.name.startsWith(prefix)).length;

test("every part is its own component, parented to AiGateway and named after it", async () => {
  const gw = new AiGateway("full", full);
  expect(childrenOf(gw)).toEqual([
    "ai-gateway:docker:GatewayImage full-image",
    "ai-gateway:kubernetes:GatewayAutoscaler full-autoscaler",
    "ai-gateway:kubernetes:GatewayConfig full-config",
    "ai-gateway:kubernetes:GatewayDeployment full",
    "ai-gateway:kubernetes:GatewayNetworkPolicy full-netpol",
    "ai-gateway:kubernetes:IngressTuning full-ingress",
    "ai-gateway:kubernetes:Redis full-redis",
    "ai-gateway:monitoring:AlertRules full-alerts",
    "kubernetes:core/v1:Namespace full-namespace",
  ]);
  expect(childrenOf(gw.gateway)).toEqual([
    "kubernetes:apps/v1:Deployment full-deployment",
    "kubernetes:core/v1:Service full-service",
    "kubernetes:core/v1:ServiceAccount full-sa",
    "kubernetes:policy/v1:PodDisruptionBudget full-pdb",
  ]);
  expect(childrenOf(gw.networkPolicy!)).toEqual([
    "kubernetes:networking.k8s.io/v1:NetworkPolicy full-netpol-gateway",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy full-netpol-redis",
  ]);
  const ns = await stateOf(mocks, "kubernetes:core/v1:Namespace", "full-namespace");
  expect(ns.metadata).toEqual({
    name: "team-ai",
    labels: { "app.kubernetes.io/part-of": "ai-gateway", "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted" },
  });
  // Derived from the gateway config: behind an ingress trust X-Forwarded-For; nginx outwaits the 200s deadline.
  const cm = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "full-config-configmap");
  expect(parse(cm.data["config.yaml"]).server.trustProxy).toBe(true);
  const ingress = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:Ingress", "full-ingress-ingress");
  expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]).toBe("210");
  expect(ingress.spec.tls[0].secretName).toBe("wildcard");
  expect(await valueOf(gw.ingressHost)).toBe("ai.example.com");
});

test("the minimum: an existing namespace, a fixed count, no Redis, ingress, alerts or policies", async () => {
  const gw = new AiGateway("min", { namespace: "existing", createNamespace: false, image: { imageReference: DIGEST }, config, replicas: 2 });
  expect(childrenOf(gw)).toEqual([
    "ai-gateway:docker:GatewayImage min-image",
    "ai-gateway:kubernetes:GatewayConfig min-config",
    "ai-gateway:kubernetes:GatewayDeployment min",
  ]);
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "min-deployment");
  expect(deployment.spec.replicas).toBe(2);
  expect(deployment.metadata.namespace).toBe("existing");
  expect(await valueOf(gw.ingressHost)).toBeUndefined();
  const cm = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "min-config-configmap");
  expect(parse(cm.data["config.yaml"]).server.trustProxy).toBeUndefined();
  // No upstream key for an https target: probably a secret not set yet.
  expect(warnings).toEqual([
    'warning: [runtime] upstream target gpt-4o/openai has no API key; if it needs one, set upstreamKeys["gpt-4o/openai"] as a secret',
  ]);
});

test("an external Redis: its URL and password reach the Secret, and no Redis policy is made", async () => {
  const gw = new AiGateway("ext", {
    ...full,
    redis: { externalUrl: "rediss://cache.example.com:6380", externalPassword: "pw" },
  });
  expect(childrenOf(gw.redis!)).toEqual([]);
  expect(childrenOf(gw.networkPolicy!)).toEqual(["kubernetes:networking.k8s.io/v1:NetworkPolicy ext-netpol-gateway"]);
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "ext-config-secret");
  expect(secret.stringData).toMatchObject({ REDIS_URL: "rediss://cache.example.com:6380", REDIS_PASSWORD: "pw" });
});

test("a cache Redis: its own instance and policy, its URL and password in the Secret, cache.redis in the config", async () => {
  const gw = new AiGateway("cached", { ...full, config: { ...config, cache: { enabled: true } }, cacheRedis: { inCluster: { maxmemory: "64mb" } } });
  expect(childrenOf(gw.cacheRedis!)).toEqual([
    "kubernetes:apps/v1:StatefulSet cached-cache-redis-statefulset",
    "kubernetes:core/v1:Secret cached-cache-redis-auth",
    "kubernetes:core/v1:Service cached-cache-redis-headless",
    "kubernetes:core/v1:Service cached-cache-redis-service",
    "random:index/randomPassword:RandomPassword cached-cache-redis-password",
  ]);
  expect(childrenOf(gw.networkPolicy!)).toEqual([
    "kubernetes:networking.k8s.io/v1:NetworkPolicy cached-netpol-cache-redis",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy cached-netpol-gateway",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy cached-netpol-redis",
  ]);
  const sts = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "cached-cache-redis-statefulset");
  expect(sts.spec.template.spec.containers[0].args.join(" ")).toContain("--maxmemory 64mb --maxmemory-policy allkeys-lru");
  const state = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "cached-redis-statefulset");
  expect(state.spec.template.spec.containers[0].args.join(" ")).toContain("--maxmemory-policy noeviction");
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "cached-config-secret");
  expect(secret.stringData.CACHE_REDIS_URL).toBe("redis://cached-cache-redis.team-ai.svc.cluster.local:6379");
  expect(secret.stringData.CACHE_REDIS_PASSWORD).toBe(await valueOf(gw.cacheRedis!.password));
  expect((await valueOf(gw.config.effectiveConfig)).cache).toMatchObject({ enabled: true, redis: { url: "redis://redis.invalid:6379" } });
});

test("wrong combinations fail before any resource is created", async () => {
  const cases: [string, AiGatewayArgs, RegExp][] = [
    ["bad-replicas", { ...full, replicas: 3 }, /set replicas or autoscaling, not both/],
    ["bad-image", { ...full, image: {} }, /exactly one of build or imageReference/],
    ["bad-redis", { ...full, redis: { externalUrl: "redis://x", inCluster: {} } }, /externalUrl or inCluster, not both/],
    ["bad-hpa", { ...full, autoscaling: { minReplicas: 4, maxReplicas: 3 } }, /maxReplicas \(3\)/],
    ["bad-tls", { ...full, ingress: { host: "h", tls: {} } }, /tls needs a secretName/],
    ["bad-config", { ...full, config: { ...config, limits: { store: "redis" } }, redis: undefined }, /limits.store: "redis" needs a redis section/],
    ["bad-state-policy", { ...full, redis: { inCluster: { maxmemoryPolicy: "volatile-ttl" } } }, /the state Redis must run noeviction/],
    ["bad-cache-redis", { ...full, cacheRedis: {} }, /cacheRedis: the gateway config does not enable the cache/],
    [
      "bad-keepalive",
      { ...full, ingress: { host: "h", controllerTuning: { namespace: "n", configMapName: "c", upstreamKeepaliveTimeoutSeconds: 70 } } },
      /upstream keepalive timeout \(70s\) must be shorter than the gateway's server.keepAliveTimeoutMs \(65000ms\)/,
    ],
  ];
  for (const [name, args, error] of cases) expect(() => new AiGateway(name, args)).toThrow(error);
  // Pulumi records a registration only once it settles: count after the runtime has.
  await settled();
  for (const [name] of cases) expect({ name, created: customCount(name) }).toEqual({ name, created: 0 });
});
