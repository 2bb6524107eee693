/**
 * Redis, AlertRules (ServiceMonitor side), IngressTuning and GatewayNetworkPolicy under Pulumi
 * mocks: exact children, key fields, argument errors.
 */
import { Redis } from "../../infra/components/redis";
import { AlertRules } from "../../infra/components/alert-rules";
import { IngressTuning } from "../../infra/components/ingress-tuning";
import { GatewayNetworkPolicy } from "../../infra/components/network-policy";
import { MOCK_PASSWORD_PREFIX } from "../../infra/render/mocks";
import { childrenOf, installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";

const mocks = installMocks();

describe("Redis", () => {
  test("in the cluster: generated password, auth Secret, Services and a StatefulSet that never evicts state", async () => {
    const redis = new Redis("rd", { namespace: "ns" });
    expect(childrenOf(redis)).toEqual([
      "kubernetes:apps/v1:StatefulSet rd-statefulset",
      "kubernetes:core/v1:Secret rd-auth",
      "kubernetes:core/v1:Service rd-headless",
      "kubernetes:core/v1:Service rd-service",
      "random:index/randomPassword:RandomPassword rd-password",
    ]);
    expect((await stateOf(mocks, "random:index/randomPassword:RandomPassword", "rd-password")).length).toBe(32);
    const sts = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "rd-statefulset");
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe("rd-headless");
    const pod = sts.spec.template.spec;
    const [container] = pod.containers;
    expect(container.command).toEqual(["redis-server"]);
    expect(container.args).toEqual([
      "--port", "6379", "--requirepass", "$(REDIS_PASSWORD)", "--maxmemory", "256mb", "--maxmemory-policy", "noeviction",
      "--appendonly", "no", "--save", "", "--dir", "/data",
    ]);
    expect(container.env[0]).toEqual({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: expect.stringMatching(/^rd-auth-/), key: "password" } } });
    // Limit above maxmemory: room for fragmentation and the AOF rewrite fork.
    expect(container.resources.limits.memory).toBe("512Mi");
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999 });
    expect(pod.volumes).toEqual([{ name: "data", emptyDir: {} }]);
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();

    const headless = await stateOf(mocks, "kubernetes:core/v1:Service", "rd-headless");
    expect(headless.spec.clusterIP).toBe("None");
    expect(await valueOf(redis.url)).toBe("redis://rd.ns.svc.cluster.local:6379");
    expect(await valueOf(redis.password)).toMatch(new RegExp(`^${MOCK_PASSWORD_PREFIX}`));
  });

  test("with storage: a PVC per replica and AOF persistence; tuning from the args", async () => {
    new Redis("rd-pvc", { namespace: "ns", inCluster: { storageSize: "2Gi", storageClassName: "fast", maxmemory: "64mb", maxmemoryPolicy: "noeviction" } });
    const sts = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "rd-pvc-statefulset");
    expect(sts.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(["64mb", "noeviction"]));
    expect(sts.spec.template.spec.containers[0].args.join(" ")).toContain("--appendonly yes");
    expect(sts.spec.template.spec.volumes).toBeUndefined();
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "2Gi" } } });
  });

  test("for the cache: the same children, allkeys-lru in its own memory, labels that do not select the state Redis", async () => {
    const state = new Redis("rd-state", { namespace: "ns", instance: "gw" });
    const cache = new Redis("rd-cache", { namespace: "ns", instance: "gw", purpose: "cache", inCluster: { maxmemory: "128mb" } });
    expect(childrenOf(cache)).toEqual([
      "kubernetes:apps/v1:StatefulSet rd-cache-statefulset",
      "kubernetes:core/v1:Secret rd-cache-auth",
      "kubernetes:core/v1:Service rd-cache-headless",
      "kubernetes:core/v1:Service rd-cache-service",
      "random:index/randomPassword:RandomPassword rd-cache-password",
    ]);
    const sts = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "rd-cache-statefulset");
    expect(sts.spec.template.spec.containers[0].args).toEqual([
      "--port", "6379", "--requirepass", "$(REDIS_PASSWORD)", "--maxmemory", "128mb", "--maxmemory-policy", "allkeys-lru",
      "--appendonly", "no", "--save", "", "--dir", "/data",
    ]);
    expect(cache.selector).toEqual({ "app.kubernetes.io/name": "ai-gateway", "app.kubernetes.io/instance": "gw", "app.kubernetes.io/component": "cache-redis" });
    const stateSts = await stateOf(mocks, "kubernetes:apps/v1:StatefulSet", "rd-state-statefulset");
    expect(stateSts.spec.template.metadata.labels).not.toMatchObject(sts.spec.selector.matchLabels);
    expect(sts.spec.template.metadata.labels).not.toMatchObject(stateSts.spec.selector.matchLabels);
    expect(await valueOf(cache.url)).toBe("redis://rd-cache.ns.svc.cluster.local:6379");
    expect(state.selector!["app.kubernetes.io/component"]).toBe("redis");
  });

  test("external: nothing created, URL and password passed through as secrets", async () => {
    const redis = new Redis("rd-ext", { namespace: "ns", externalUrl: "rediss://cache.example.com:6380", externalPassword: "pw" });
    expect(childrenOf(redis)).toEqual([]);
    expect(await valueOf(redis.url)).toBe("rediss://cache.example.com:6380");
    expect(await valueOf(redis.password)).toBe("pw");
    expect(redis.selector).toBeUndefined();
  });

  test("refuses in-cluster and external together, and a password without a URL", () => {
    expect(() => new Redis("rd-both", { namespace: "ns", externalUrl: "redis://x", inCluster: {} })).toThrow("set externalUrl or inCluster, not both");
    expect(() => new Redis("rd-pw", { namespace: "ns", externalPassword: "pw" })).toThrow(/externalPassword needs externalUrl/);
  });

  test("refuses an evicting policy on the state Redis: limits, spend and keys must never be evicted", () => {
    expect(() => new Redis("rd-ttl", { namespace: "ns", inCluster: { maxmemoryPolicy: "volatile-ttl" } })).toThrow(
      "Redis: the state Redis must run noeviction, not volatile-ttl (limits, spend and keys must never be evicted; the cache gets its own Redis)",
    );
    expect(() => new Redis("rd-cache-lfu", { namespace: "ns", purpose: "cache", inCluster: { maxmemoryPolicy: "allkeys-lfu" } })).not.toThrow();
  });
});

describe("AlertRules", () => {
  test("a ServiceMonitor on the gateway Service's admin port (never the public one), labelled for Prometheus' selector", async () => {
    const alerts = new AlertRules("al", {
      namespace: "ns",
      serviceName: "gw",
      serviceSelector: { "app.kubernetes.io/name": "ai-gateway" },
      serviceMonitorLabels: { release: "kps" },
    });
    expect(childrenOf(alerts)).toEqual([
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule al-prometheusrule",
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor al-servicemonitor",
    ]);
    const sm = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "al-servicemonitor");
    expect(sm.metadata).toMatchObject({ name: "gw", namespace: "ns", labels: expect.objectContaining({ release: "kps" }) });
    expect(sm.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "ai-gateway" } },
      namespaceSelector: { matchNames: ["ns"] },
      endpoints: [{ port: "admin", path: "/metrics", interval: "15s", scheme: "http" }],
    });
  });
});

describe("IngressTuning", () => {
  test("TLS from cert-manager, the article's annotations, streaming unbuffered, and the controller patch", async () => {
    const ing = new IngressTuning("in", {
      namespace: "ns",
      serviceName: "gw",
      servicePort: 80,
      host: "ai.example.com",
      tls: { clusterIssuer: "letsencrypt" },
      readTimeoutSeconds: 130,
      controllerTuning: { namespace: "ingress-nginx", configMapName: "ingress-nginx-controller" },
    });
    expect(childrenOf(ing)).toEqual([
      "kubernetes:core/v1:ConfigMapPatch in-controller-tuning",
      "kubernetes:networking.k8s.io/v1:Ingress in-ingress",
    ]);
    const ingress = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:Ingress", "in-ingress");
    expect(ingress.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/ssl-redirect": "true",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "130",
      "nginx.ingress.kubernetes.io/proxy-buffering": "off",
      "cert-manager.io/cluster-issuer": "letsencrypt",
    });
    expect(ingress.spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["ai.example.com"], secretName: "in-tls" }],
      rules: [
        { host: "ai.example.com", http: { paths: [{ path: "/v1", pathType: "Prefix", backend: { service: { name: "gw", port: { number: 80 } } } }] } },
      ],
    });
    const patch = await stateOf(mocks, "kubernetes:core/v1:ConfigMapPatch", "in-controller-tuning");
    expect(patch.metadata).toEqual({ name: "ingress-nginx-controller", namespace: "ingress-nginx" });
    expect(patch.data).toEqual({
      "upstream-keepalive-connections": "256",
      "upstream-keepalive-timeout": "60",
      "upstream-keepalive-requests": "1000",
      "keep-alive": "60",
      "max-worker-connections": "10240",
    });
    expect(await valueOf(ing.url)).toBe("https://ai.example.com");
  });

  test("plain HTTP for local clusters: no TLS block, no redirect, no controller patch", async () => {
    const ing = new IngressTuning("in-http", { namespace: "ns", serviceName: "gw", servicePort: 80, host: "gw.localtest.me" });
    expect(childrenOf(ing)).toEqual(["kubernetes:networking.k8s.io/v1:Ingress in-http-ingress"]);
    const ingress = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:Ingress", "in-http-ingress");
    expect(ingress.spec.tls).toBeUndefined();
    expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/ssl-redirect"]).toBe("false");
    expect(await valueOf(ing.url)).toBe("http://gw.localtest.me");
  });

  test("TLS needs a certificate source, and one issuer at most", () => {
    const base = { namespace: "ns", serviceName: "gw", servicePort: 80, host: "h" };
    expect(() => new IngressTuning("in-notls", { ...base, tls: {} })).toThrow(/tls needs a secretName .* or a cert-manager issuer/);
    expect(() => new IngressTuning("in-2iss", { ...base, tls: { issuer: "a", clusterIssuer: "b" } })).toThrow(/not both/);
  });
});

describe("GatewayNetworkPolicy", () => {
  test("the ingress controller and clients reach the public port, Prometheus and admin clients the admin port only; only the gateway reaches Redis", async () => {
    const gatewaySelector = { "app.kubernetes.io/component": "gateway" };
    const np = new GatewayNetworkPolicy("np", {
      namespace: "ns",
      gatewaySelector,
      gatewayPort: 8080,
      gatewayAdminPort: 8081,
      clientNamespaces: ["batch-jobs"],
      adminClientNamespaces: ["ops"],
      redis: { selector: { "app.kubernetes.io/component": "redis" }, port: 6379 },
    });
    expect(childrenOf(np)).toEqual([
      "kubernetes:networking.k8s.io/v1:NetworkPolicy np-gateway",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy np-redis",
    ]);
    const gw = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-gateway");
    expect(gw.spec).toEqual({
      podSelector: { matchLabels: gatewaySelector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "batch-jobs" } } },
          ],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
        {
          from: [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } } },
          ],
          ports: [{ protocol: "TCP", port: 8081 }],
        },
      ],
    });
    const redis = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-redis");
    expect(redis.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/component": "redis" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: gatewaySelector } }], ports: [{ protocol: "TCP", port: 6379 }] }],
    });
  });

  test("without an admin port (a gateway with one listener), every allowed source shares the one port", async () => {
    new GatewayNetworkPolicy("np-one", { namespace: "ns", gatewaySelector: { a: "b" }, gatewayPort: 8080 });
    const gw = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-one-gateway");
    expect(gw.spec.ingress).toHaveLength(1);
    expect(gw.spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8080 }]);
    expect(gw.spec.ingress[0].from.map((p: { namespaceSelector: { matchLabels: Record<string, string> } }) => p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"])).toEqual(["ingress-nginx", "monitoring"]);
  });
});
