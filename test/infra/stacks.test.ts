/**
 * Both stacks (Pulumi.dev.yaml and Pulumi.prod.yaml) run through the real program under mocks:
 * the exact set of resources each creates, the key fields that distinguish them, the wiring
 * between components, and the outputs other stacks read.
 */
import { parse } from "yaml";
import { customResources, runStack, stateOf, valueOf } from "../helpers/pulumi-mocks";

const SECRETS = {
  "ai-gateway:adminKey": "admin-key-for-tests-0123",
  "ai-gateway:upstreamKeys": { "gpt-4o/openai": "sk-openai", "gpt-4o-mini/openai": "sk-openai", "deepseek-chat/deepseek": "sk-deepseek" },
};

test("dev: one small replica, in-cluster Redis, plain-HTTP ingress, nothing else", async () => {
  const { mocks, outputs } = await runStack("dev");
  expect(customResources(mocks.resources)).toEqual([
    "docker:index/image:Image ai-gateway-image-build",
    "kubernetes:apps/v1:Deployment ai-gateway-deployment",
    "kubernetes:apps/v1:StatefulSet ai-gateway-redis-statefulset",
    "kubernetes:core/v1:ConfigMap ai-gateway-config-configmap",
    "kubernetes:core/v1:Namespace ai-gateway-namespace",
    "kubernetes:core/v1:Secret ai-gateway-config-secret",
    "kubernetes:core/v1:Secret ai-gateway-redis-auth",
    "kubernetes:core/v1:Service ai-gateway-redis-headless",
    "kubernetes:core/v1:Service ai-gateway-redis-service",
    "kubernetes:core/v1:Service ai-gateway-service",
    "kubernetes:core/v1:ServiceAccount ai-gateway-sa",
    "kubernetes:networking.k8s.io/v1:Ingress ai-gateway-ingress-ingress",
    "kubernetes:policy/v1:PodDisruptionBudget ai-gateway-pdb",
    "random:index/randomPassword:RandomPassword ai-gateway-redis-password",
  ]);
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "ai-gateway-deployment");
  expect(deployment.spec.replicas).toBe(1);
  const pod = deployment.spec.template.spec;
  expect(pod.containers[0].resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
  // 2s preStop + 60s (maxStreamMs) drain + 10s.
  expect(pod.terminationGracePeriodSeconds).toBe(72);
  const redis = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "ai-gateway-redis-statefulset");
  expect(redis.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(["--maxmemory", "64mb"]));
  const ingress = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:Ingress", "ai-gateway-ingress-ingress");
  expect(ingress.spec.tls).toBeUndefined();
  expect(await valueOf(outputs.namespace)).toBe("ai-gateway");
  expect(await valueOf(outputs.serviceUrl)).toBe("http://ai-gateway.ai-gateway.svc.cluster.local:80");
  expect(await valueOf(outputs.ingressHost)).toBe("ai-gateway.localtest.me");
  expect(await valueOf(outputs.ingressUrl)).toBe("http://ai-gateway.localtest.me");
  expect(await valueOf(outputs.imageReference)).toMatch(/^localhost:5001\/ai-gateway@sha256:[0-9a-f]{64}$/);
});

test("prod: HPA 3-20, persistent Redis, a Gateway API route for /v1, alerts, dashboard, network policies, no controller patch", async () => {
  const { mocks, gateway, outputs, warnings } = await runStack("prod", SECRETS);
  expect(await valueOf(gateway.config.keylessTargets)).toEqual([]);
  expect(warnings).toEqual([]);
  expect(customResources(mocks.resources)).toEqual([
    "docker:index/image:Image ai-gateway-image-build",
    "kubernetes:apps/v1:Deployment ai-gateway-deployment",
    "kubernetes:apps/v1:StatefulSet ai-gateway-cache-redis-statefulset",
    "kubernetes:apps/v1:StatefulSet ai-gateway-redis-statefulset",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler ai-gateway-autoscaler-hpa",
    "kubernetes:core/v1:ConfigMap ai-gateway-config-configmap",
    "kubernetes:core/v1:ConfigMap ai-gateway-grafana-dashboard",
    "kubernetes:core/v1:Namespace ai-gateway-namespace",
    "kubernetes:core/v1:Secret ai-gateway-cache-redis-auth",
    "kubernetes:core/v1:Secret ai-gateway-config-secret",
    "kubernetes:core/v1:Secret ai-gateway-redis-auth",
    "kubernetes:core/v1:Service ai-gateway-cache-redis-headless",
    "kubernetes:core/v1:Service ai-gateway-cache-redis-service",
    "kubernetes:core/v1:Service ai-gateway-redis-headless",
    "kubernetes:core/v1:Service ai-gateway-redis-service",
    "kubernetes:core/v1:Service ai-gateway-service",
    "kubernetes:core/v1:ServiceAccount ai-gateway-sa",
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute ai-gateway-route-httproute",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule ai-gateway-alerts-prometheusrule",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor ai-gateway-alerts-servicemonitor",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy ai-gateway-netpol-cache-redis",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy ai-gateway-netpol-gateway",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy ai-gateway-netpol-redis",
    "kubernetes:policy/v1:PodDisruptionBudget ai-gateway-pdb",
    "random:index/randomPassword:RandomPassword ai-gateway-cache-redis-password",
    "random:index/randomPassword:RandomPassword ai-gateway-redis-password",
  ]);
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "ai-gateway-deployment");
  expect("replicas" in deployment.spec).toBe(false);
  // 10s preStop + 300s (maxStreamMs) drain + 10s.
  expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(320);
  const hpa = await stateOf(mocks, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "ai-gateway-autoscaler-hpa");
  expect([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.scaleTargetRef.name]).toEqual([3, 20, deployment.metadata.name]);
  const redis = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "ai-gateway-redis-statefulset");
  expect(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("2Gi");
  // State never evicts; the cache evicts only its own entries, in its own memory.
  expect(redis.spec.template.spec.containers[0].args.join(" ")).toContain("--maxmemory 256mb --maxmemory-policy noeviction");
  const cacheRedis = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "ai-gateway-cache-redis-statefulset");
  expect(cacheRedis.spec.template.spec.containers[0].args.join(" ")).toContain("--maxmemory 256mb --maxmemory-policy allkeys-lru");
  expect(cacheRedis.spec.volumeClaimTemplates).toBeUndefined();
  const route = await stateOf(mocks, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "ai-gateway-route-httproute");
  expect(route.spec.parentRefs).toEqual([{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateway-system", sectionName: "https" }]);
  expect(route.spec.hostnames).toEqual(["ai.example.com"]);
  // Only the API; 120 s deadline + 300 s longest stream + 10 s margin.
  expect(route.spec.rules).toEqual([
    {
      matches: [{ path: { type: "PathPrefix", value: "/v1" } }],
      backendRefs: [{ group: "", kind: "Service", name: "ai-gateway", port: 80, weight: 1 }],
      timeouts: { request: "430s", backendRequest: "430s" },
    },
  ]);
  const gwPolicy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ai-gateway-netpol-gateway");
  expect(gwPolicy.spec.ingress[0].from[0]).toEqual({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway-system" } },
    podSelector: { matchLabels: { "gateway.envoyproxy.io/owning-gateway-name": "public" } },
  });
  const rule = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "ai-gateway-alerts-prometheusrule");
  expect(rule.metadata.labels.release).toBe("kube-prometheus-stack");
  expect(rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules)).toHaveLength(13);
  expect(rule.spec.groups[0].rules[0].labels).toEqual({ owner: "platform", severity: "warning" });
  const dashboard = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "ai-gateway-grafana-dashboard");
  expect([dashboard.metadata.namespace, dashboard.metadata.labels.grafana_dashboard, dashboard.metadata.annotations.grafana_folder]).toEqual(["monitoring", "1", "AI gateway"]);
  expect(JSON.parse(dashboard.data["ai-gateway.json"]).uid).toBe("ai-gateway");

  expect(await valueOf(outputs.ingressUrl)).toBe("https://ai.example.com");
  expect(await valueOf(outputs.serviceName)).toBe("ai-gateway");
  expect(gateway.autoscaler?.podsMetricName).toBe("aigw_http_requests_per_second");
  // The adapter rule is published for the platform's own adapter config, matched on the gateway's job.
  expect(await valueOf(outputs.adapterRulesYaml)).toContain('aigw_requests_total{namespace!="",pod!="",job="ai-gateway"}');
});

test("prod wiring: image digest, Secret and ConfigMap names, checksum, Redis URL, selectors", async () => {
  const { mocks, gateway } = await runStack("prod", SECRETS);
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "ai-gateway-deployment");
  const pod = deployment.spec.template;
  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "ai-gateway-config-configmap");
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "ai-gateway-config-secret");
  const service = await stateOf(mocks, "kubernetes:core/v1:Service", "ai-gateway-service");

  expect(pod.spec.containers[0].image).toBe(await valueOf(gateway.imageReference));
  expect(pod.spec.containers[0].envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
  expect(pod.spec.volumes[0].configMap.name).toBe(configMap.metadata.name);
  expect(pod.metadata.annotations["checksum/config"]).toBe(await valueOf(gateway.config.restartChecksum));

  const config = parse(configMap.data["config.yaml"]);
  expect(config.server).toEqual({ trustProxy: true, host: "0.0.0.0", adminHost: "0.0.0.0", adminPort: 8081, shutdownGraceMs: 300_000, readiness: "any-model" });
  expect(config.models.map((m: { targets: { apiKey: string }[] }) => m.targets[0].apiKey)).toEqual([
    "${UPSTREAM_KEY_GPT_4O_OPENAI}",
    "${UPSTREAM_KEY_GPT_4O_MINI_OPENAI}",
    "${UPSTREAM_KEY_DEEPSEEK_CHAT_DEEPSEEK}",
  ]);
  expect(config.cache).toEqual({ enabled: true, redis: { url: "${CACHE_REDIS_URL}", password: "${CACHE_REDIS_PASSWORD}" } });
  expect(Object.keys(secret.stringData).sort()).toEqual([
    "CACHE_REDIS_PASSWORD",
    "CACHE_REDIS_URL",
    "GATEWAY_ADMIN_KEY",
    "REDIS_PASSWORD",
    "REDIS_URL",
    "UPSTREAM_KEY_DEEPSEEK_CHAT_DEEPSEEK",
    "UPSTREAM_KEY_GPT_4O_MINI_OPENAI",
    "UPSTREAM_KEY_GPT_4O_OPENAI",
  ]);
  expect(secret.stringData.REDIS_URL).toBe("redis://ai-gateway-redis.ai-gateway.svc.cluster.local:6379");
  expect(secret.stringData.REDIS_PASSWORD).toBe(await valueOf(gateway.redis!.password));
  expect(secret.stringData.CACHE_REDIS_URL).toBe("redis://ai-gateway-cache-redis.ai-gateway.svc.cluster.local:6379");
  expect(secret.stringData.CACHE_REDIS_PASSWORD).toBe(await valueOf(gateway.cacheRedis!.password));

  // The ServiceMonitor finds the Service; the policies select the pods they mean to.
  const monitor = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "ai-gateway-alerts-servicemonitor");
  expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
  const gwPolicy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ai-gateway-netpol-gateway");
  expect(pod.metadata.labels).toMatchObject(gwPolicy.spec.podSelector.matchLabels);
  expect(gwPolicy.spec.ingress.map((rule: { ports: unknown }) => rule.ports)).toEqual([[{ protocol: "TCP", port: 8080 }], [{ protocol: "TCP", port: 8081 }]]);
  const redisPolicy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ai-gateway-netpol-redis");
  const redis = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "ai-gateway-redis-statefulset");
  expect(redis.spec.template.metadata.labels).toMatchObject(redisPolicy.spec.podSelector.matchLabels);
  expect(pod.metadata.labels).toMatchObject(redisPolicy.spec.ingress[0].from[0].podSelector.matchLabels);
  // The gateway's selector does not also pick the Redis pods.
  expect(redis.spec.template.metadata.labels).not.toMatchObject(deployment.spec.selector.matchLabels);
  // The cache Redis is fenced the same way, and neither Redis's policy selects the other's pods.
  const cachePolicy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ai-gateway-netpol-cache-redis");
  const cacheRedis = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "ai-gateway-cache-redis-statefulset");
  expect(cacheRedis.spec.template.metadata.labels).toMatchObject(cachePolicy.spec.podSelector.matchLabels);
  expect(pod.metadata.labels).toMatchObject(cachePolicy.spec.ingress[0].from[0].podSelector.matchLabels);
  expect(redis.spec.template.metadata.labels).not.toMatchObject(cachePolicy.spec.podSelector.matchLabels);
  expect(cacheRedis.spec.template.metadata.labels).not.toMatchObject(redisPolicy.spec.podSelector.matchLabels);
});

test("prod without secrets still previews, warning about the keyless upstreams", async () => {
  const { mocks, gateway, warnings } = await runStack("prod");
  const keyless = await valueOf(gateway.config.keylessTargets);
  expect(keyless).toEqual(["gpt-4o/openai", "gpt-4o-mini/openai", "deepseek-chat/deepseek"]);
  expect(warnings).toEqual(
    keyless.map((ref) => `warning: [runtime] upstream target ${ref} has no API key; if it needs one, set upstreamKeys["${ref}"] as a secret`),
  );
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "ai-gateway-config-secret");
  expect(Object.keys(secret.stringData).sort()).toEqual(["CACHE_REDIS_PASSWORD", "CACHE_REDIS_URL", "REDIS_PASSWORD", "REDIS_URL"]);
});
