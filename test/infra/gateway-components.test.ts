/**
 * GatewayImage, GatewayConfig, GatewayDeployment and GatewayAutoscaler under Pulumi mocks: the
 * exact children each creates, their key fields, and the argument errors raised before anything
 * is created.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { GatewayAutoscaler } from "../../infra/components/gateway-autoscaler";
import { GatewayConfig } from "../../infra/components/gateway-config";
import { GatewayDeployment } from "../../infra/components/gateway-deployment";
import { GatewayImage } from "../../infra/components/gateway-image";
import { validateManifest } from "../helpers/manifest-validator";
import { childrenOf, installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { settled } from "../../infra/render/mocks";

const mocks = installMocks();
const DIGEST = `ghcr.io/acme/ai-gateway@sha256:${"a".repeat(64)}`;
const CONFIG: GatewayConfigInput = { models: [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }] };
const createdNamed = (prefix: string) => mocks.resources.filter((r) => r.name.startsWith(prefix));

describe("GatewayImage", () => {
  test("builds gateway/Dockerfile from the repository root and deploys by digest", async () => {
    const image = new GatewayImage("img", { build: { imageName: "ghcr.io/acme/ai-gateway:v1" } });
    expect(childrenOf(image)).toEqual(["docker:index/image:Image img-build"]);
    const build = await stateOf(mocks, "docker:index/image:Image", "img-build");
    expect(build.imageName).toBe("ghcr.io/acme/ai-gateway:v1");
    expect(build.build).toEqual({ context: ".", dockerfile: "gateway/Dockerfile", platform: "linux/amd64" });
    expect(await valueOf(image.imageReference)).toMatch(/^ghcr\.io\/acme\/ai-gateway@sha256:[0-9a-f]{64}$/);
  });

  test("takes a prebuilt image by digest and creates nothing", async () => {
    const image = new GatewayImage("img-pre", { imageReference: DIGEST });
    expect(childrenOf(image)).toEqual([]);
    expect(await valueOf(image.imageReference)).toBe(DIGEST);
  });

  test("refuses both or neither source, and moving tags", () => {
    expect(() => new GatewayImage("img-both", { imageReference: DIGEST, build: { imageName: "x" } })).toThrow("set exactly one of build or imageReference");
    expect(() => new GatewayImage("img-none", {})).toThrow("set exactly one of build or imageReference");
    expect(() => new GatewayImage("img-tag", { imageReference: "ghcr.io/acme/ai-gateway:latest" })).toThrow(/must pin a digest/);
  });
});

describe("GatewayConfig", () => {
  test("a ConfigMap with placeholders and a Secret with the values they name", async () => {
    const cfg = new GatewayConfig("cfg", {
      namespace: "ns",
      config: CONFIG,
      upstreamKeys: { "gpt-4o/openai": pulumi.secret("sk-test") },
      adminKey: "admin-key-0123456789",
      redis: { url: "redis://r.ns.svc.cluster.local:6379", password: pulumi.secret("pw") },
    });
    expect(childrenOf(cfg)).toEqual(["kubernetes:core/v1:ConfigMap cfg-configmap", "kubernetes:core/v1:Secret cfg-secret"]);

    const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "cfg-configmap");
    const yaml = configMap.data["config.yaml"];
    const loaded = parse(yaml);
    expect(loaded.models[0].targets[0].apiKey).toBe("${UPSTREAM_KEY_GPT_4O_OPENAI}");
    expect(loaded.redis).toEqual({ url: "${REDIS_URL}", password: "${REDIS_PASSWORD}" });
    expect(loaded.auth.adminKey).toBe("${GATEWAY_ADMIN_KEY}");
    expect(yaml).not.toMatch(/sk-test|admin-key-0123456789/);
    // One stable name: a change reaches the pods through their volume (the gateway reloads it).
    expect(configMap.metadata).toMatchObject({ namespace: "ns", name: "cfg-configmap" });

    const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "cfg-secret");
    expect(secret.type).toBe("Opaque");
    expect(secret.stringData).toEqual({
      UPSTREAM_KEY_GPT_4O_OPENAI: "sk-test",
      REDIS_URL: "redis://r.ns.svc.cluster.local:6379",
      REDIS_PASSWORD: "pw",
      GATEWAY_ADMIN_KEY: "admin-key-0123456789",
    });
    // Stored as a Pulumi secret (encrypted in the state), even the plain admin key given here.
    const raw = mocks.resources.find((r) => r.name === "cfg-secret")!.inputs.stringData;
    expect(raw[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);

    expect(await valueOf(cfg.checksum)).toBe(createHash("sha256").update(yaml).digest("hex"));
    expect(await valueOf(cfg.configMapName)).toBe(configMap.metadata.name);
  });

  test("a wrong config fails at preview, before any resource exists", async () => {
    const bad = { models: [{ name: "m", fallbacks: ["missing"], targets: [{ name: "t", baseUrl: "mock://t" }] }] };
    expect(() => new GatewayConfig("cfg-bad", { namespace: "ns", config: bad })).toThrow('models[0].fallbacks[0]: unknown model "missing"');
    expect(() => new GatewayConfig("cfg-bad2", { namespace: "ns", config: CONFIG, upstreamKeys: { "gpt-4o/azure": "k" } })).toThrow(
      /no model "gpt-4o" with a target "azure"/,
    );
    await settled(); // registrations are recorded once the runtime settles
    expect(createdNamed("cfg-bad").filter((r) => r.custom)).toEqual([]);
  });
});

describe("GatewayDeployment", () => {
  const args = {
    namespace: "ns",
    image: DIGEST,
    configMapName: "cfg-cm",
    secretName: "cfg-secret",
    configChecksum: "c0ffee",
    shutdownGraceMs: 300_000,
  };

  test("ServiceAccount, Deployment, Service and PodDisruptionBudget", async () => {
    const gw = new GatewayDeployment("gw", args);
    expect(childrenOf(gw)).toEqual([
      "kubernetes:apps/v1:Deployment gw-deployment",
      "kubernetes:core/v1:Service gw-service",
      "kubernetes:core/v1:ServiceAccount gw-sa",
      "kubernetes:policy/v1:PodDisruptionBudget gw-pdb",
    ]);
    const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "gw-deployment");
    expect(deployment.metadata).toMatchObject({ name: "gw", namespace: "ns" });
    // No replica count: an HPA (or the default of 1) owns it.
    expect("replicas" in deployment.spec).toBe(false);
    expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } });

    const template = deployment.spec.template;
    // No prometheus.io annotations by default: the ServiceMonitor scrapes, and both would double every series.
    expect(template.metadata.annotations).toEqual({ "checksum/config": "c0ffee" });
    const pod = template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    // 10s preStop + 300s drain + 10s margin.
    expect(pod.terminationGracePeriodSeconds).toBe(320);
    expect(pod.serviceAccountName).toBe("gw");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.topologySpreadConstraints[0]).toEqual({
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
    });

    const [container] = pod.containers;
    expect(container.image).toBe(DIGEST);
    // The public port and the admin listener's (/metrics, /admin), by name; probes on the public one.
    expect(container.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "admin", containerPort: 8081, protocol: "TCP" },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.lifecycle.preStop.exec.command).toEqual(["/bin/sleep", "10"]);
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    expect(container.env).toContainEqual({ name: "GATEWAY_CONFIG", value: "/etc/ai-gateway/config.yaml" });
    expect(container.envFrom).toEqual([{ secretRef: { name: "cfg-secret" } }]);
    expect(container.volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/ai-gateway", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(pod.volumes[0].configMap).toEqual({ name: "cfg-cm", items: [{ key: "config.yaml", path: "config.yaml" }] });

    const service = await stateOf(mocks, "kubernetes:core/v1:Service", "gw-service");
    expect(service.spec).toEqual({
      type: "ClusterIP",
      selector: deployment.spec.selector.matchLabels,
      ports: [
        { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
        { name: "admin", port: 8081, targetPort: "admin", protocol: "TCP" },
      ],
    });
    const pdb = await stateOf(mocks, "kubernetes:policy/v1:PodDisruptionBudget", "gw-pdb");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    expect(await valueOf(gw.serviceUrl)).toBe("http://gw.ns.svc.cluster.local:80");
    expect(await valueOf(gw.adminServiceUrl)).toBe("http://gw.ns.svc.cluster.local:8081");
  });

  test("a fixed replica count when no HPA owns it; custom ports reach the container, the Service and the opt-in scrape annotations (the admin port)", async () => {
    new GatewayDeployment("gw-fixed", { ...args, replicas: 2, port: 9000, adminPort: 9464, adminServicePort: 9464, scrapeAnnotations: true });
    const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "gw-fixed-deployment");
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].ports).toEqual([
      { name: "http", containerPort: 9000, protocol: "TCP" },
      { name: "admin", containerPort: 9464, protocol: "TCP" },
    ]);
    const service = await stateOf(mocks, "kubernetes:core/v1:Service", "gw-fixed-service");
    expect(service.spec.ports[1]).toEqual({ name: "admin", port: 9464, targetPort: "admin", protocol: "TCP" });
    expect(deployment.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9464",
      "prometheus.io/path": "/metrics",
      "checksum/config": "c0ffee",
    });
  });
});

describe("GatewayAutoscaler", () => {
  const behavior = {
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: "Percent", value: 100, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
  };
  const cpu = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } };

  test("by default an autoscaling/v2 HPA on CPU alone (a Pods metric nobody serves would stop scale-down)", async () => {
    const hpa = new GatewayAutoscaler("as", { namespace: "ns", deploymentName: "gw" });
    expect(childrenOf(hpa)).toEqual(["kubernetes:autoscaling/v2:HorizontalPodAutoscaler as-hpa"]);
    expect(hpa.podsMetricName).toBeUndefined();
    const state = await stateOf(mocks, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "as-hpa");
    expect(state.apiVersion).toBe("autoscaling/v2");
    expect(state.spec).toEqual({ scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gw" }, minReplicas: 3, maxReplicas: 20, metrics: [cpu], behavior });
  });

  test("with requestsPerSecondPerPod, the Pods metric too, and the adapter rule scoped to the gateway's job", async () => {
    const hpa = new GatewayAutoscaler("as-rps", { namespace: "ns", deploymentName: "gw", job: "gw-svc", requestsPerSecondPerPod: 100 });
    expect(childrenOf(hpa)).toEqual(["kubernetes:autoscaling/v2:HorizontalPodAutoscaler as-rps-hpa"]);
    const state = await stateOf(mocks, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "as-rps-hpa");
    expect(state.spec.metrics).toEqual([cpu, { type: "Pods", pods: { metric: { name: "aigw_http_requests_per_second" }, target: { type: "AverageValue", averageValue: "100" } } }]);
    const rules = await valueOf(hpa.adapterRules);
    expect(rules[0].seriesQuery).toBe('aigw_requests_total{namespace!="",pod!="",job="gw-svc"}');
    expect(parse(await valueOf(hpa.adapterRulesYaml))).toEqual(rules);
  });

  test("with keda, a ScaledObject (CPU and a Prometheus requests trigger) and no HPA of its own", async () => {
    const as = new GatewayAutoscaler("as-keda", {
      namespace: "ns",
      deploymentName: "gw",
      job: "gw-svc",
      minReplicas: 2,
      maxReplicas: 6,
      requestsPerSecondPerPod: 50,
      keda: { prometheusServerAddress: "http://prometheus-operated.monitoring:9090" },
    });
    expect(childrenOf(as)).toEqual(["kubernetes:keda.sh/v1alpha1:ScaledObject as-keda-scaledobject"]);
    expect(as.hpa).toBeUndefined();
    const so = await stateOf(mocks, "kubernetes:keda.sh/v1alpha1:ScaledObject", "as-keda-scaledobject");
    expect(so.metadata).toMatchObject({ name: "gw", namespace: "ns" });
    expect(so.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gw" },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      advanced: { horizontalPodAutoscalerConfig: { behavior } },
      triggers: [
        { type: "cpu", metricType: "Utilization", metadata: { value: "70" } },
        {
          type: "prometheus",
          metricType: "AverageValue",
          metadata: { serverAddress: "http://prometheus-operated.monitoring:9090", query: 'sum(rate(aigw_requests_total{namespace="ns",job="gw-svc"}[1m]))', threshold: "50" },
        },
      ],
    });
    expect(validateManifest({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: so.metadata, spec: so.spec })).toEqual([]);
  });

  test("refuses impossible bounds before creating anything", async () => {
    expect(() => new GatewayAutoscaler("as-bad", { namespace: "ns", deploymentName: "gw", minReplicas: 5, maxReplicas: 2 })).toThrow(
      "maxReplicas (2) must be a whole number >= minReplicas (5)",
    );
    expect(() => new GatewayAutoscaler("as-bad0", { namespace: "ns", deploymentName: "gw", minReplicas: 0 })).toThrow(/minReplicas must be/);
    await settled(); // registrations are recorded once the runtime settles
    expect(createdNamed("as-bad").filter((r) => r.custom)).toEqual([]);
  });
});
