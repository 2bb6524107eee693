/**
 * The private admin surface in the cluster, across the components: the pod's admin listener is a
 * named container port, the Service's `admin` port leads to it, the ServiceMonitor scrapes it,
 * only Prometheus may reach it, and neither the HTTPRoute (prod) nor the Ingress (dev) routes to
 * it. The rendered gateway config, loaded by the real gateway, really serves /metrics there only.
 */
import { Writable } from "node:stream";
import { parse } from "yaml";
import { parseConfigText } from "../../gateway/src/config/load";
import { startGateway } from "../../gateway/src/gateway";
import { buildGatewayConfigDocument } from "../../infra/builders/gateway-config-doc";
import { validateManifest } from "../helpers/manifest-validator";
import { runStack, stateOf } from "../helpers/pulumi-mocks";

type Port = { name: string; port: number; targetPort: string; containerPort?: number };
const byName = (ports: Port[]) => Object.fromEntries(ports.map((p) => [p.name, p]));

/** Where each object of the stack sends or admits traffic, by port name and number. */
async function surfaceOf(mocks: Awaited<ReturnType<typeof runStack>>["mocks"]) {
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "ai-gateway-deployment");
  const service = await stateOf(mocks, "kubernetes:core/v1:Service", "ai-gateway-service");
  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "ai-gateway-config-configmap");
  const container = deployment.spec.template.spec.containers[0];
  return { deployment, service, configMap, container, containerPorts: byName(container.ports), servicePorts: byName(service.spec.ports) };
}

describe("prod (Gateway API)", () => {
  test("the admin port is named end to end, scraped by the ServiceMonitor, reachable from monitoring only, and never routed", async () => {
    const { mocks } = await runStack("prod");
    const { deployment, service, configMap, container, containerPorts, servicePorts } = await surfaceOf(mocks);
    expect(parse(configMap.data["config.yaml"]).server).toMatchObject({ host: "0.0.0.0", adminHost: "0.0.0.0", adminPort: 8081 });
    expect(containerPorts).toEqual({ http: { name: "http", containerPort: 8080, protocol: "TCP" }, admin: { name: "admin", containerPort: 8081, protocol: "TCP" } });
    expect(servicePorts).toEqual({
      http: { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      admin: { name: "admin", port: 8081, targetPort: "admin", protocol: "TCP" },
    });
    // Probes stay on the public port: /healthz and /readyz answer on both listeners.
    expect([container.livenessProbe, container.readinessProbe, container.startupProbe].map((p) => p.httpGet.port)).toEqual(["http", "http", "http"]);
    // Scraped through the admin port, no pod annotations (a second scraper would double every series).
    const monitor = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "ai-gateway-alerts-servicemonitor");
    expect(monitor.spec.endpoints).toEqual([{ port: "admin", path: "/metrics", interval: "15s", scheme: "http" }]);
    expect(Object.keys(deployment.spec.template.metadata.annotations).filter((k) => k.startsWith("prometheus.io/"))).toEqual([]);
    // The public route: /v1 only, to the Service's public port.
    const route = await stateOf(mocks, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "ai-gateway-route-httproute");
    expect(route.spec.rules.map((r: { matches: unknown }) => r.matches)).toEqual([[{ path: { type: "PathPrefix", value: "/v1" } }]]);
    expect(route.spec.rules.flatMap((r: { backendRefs: { port: number }[] }) => r.backendRefs.map((b) => b.port))).toEqual([servicePorts.http.port]);
    // The Gateway's proxies reach the public port, Prometheus the admin port, nothing else either.
    const policy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ai-gateway-netpol-gateway");
    const rules = policy.spec.ingress.map((rule: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }) => ({
      from: rule.from.map((p) => p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
      ports: rule.ports.map((p) => p.port),
    }));
    expect(rules).toEqual([
      { from: ["gateway-system"], ports: [containerPorts.http.containerPort] },
      { from: ["monitoring"], ports: [containerPorts.admin.containerPort] },
    ]);
    for (const manifest of [
      { apiVersion: "v1", kind: "Service", metadata: service.metadata, spec: service.spec },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: deployment.metadata, spec: deployment.spec },
      { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: policy.metadata, spec: policy.spec },
      { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: monitor.metadata, spec: monitor.spec },
    ]) {
      expect(validateManifest(manifest)).toEqual([]);
    }
  });
});

describe("dev (ingress-nginx)", () => {
  test("the Ingress routes /v1 to the public Service port only", async () => {
    const { mocks } = await runStack("dev");
    const { servicePorts } = await surfaceOf(mocks);
    const ingress = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:Ingress", "ai-gateway-ingress-ingress");
    const paths = ingress.spec.rules.flatMap((r: { http: { paths: { path: string; backend: { service: { port: { number: number } } } }[] } }) => r.http.paths);
    expect(paths.map((p: { path: string; backend: { service: { port: { number: number } } } }) => [p.path, p.backend.service.port.number])).toEqual([["/v1", servicePorts.http.port]]);
    expect(servicePorts.admin.port).not.toBe(servicePorts.http.port);
  });
});

describe("the rendered config, served by the real gateway", () => {
  test("/metrics answers on the admin listener only; the public one has the API", async () => {
    const { yaml } = buildGatewayConfigDocument({ healthCheck: { enabled: false }, models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }] });
    const rendered = parseConfigText(yaml, {});
    expect(rendered.server).toMatchObject({ host: "0.0.0.0", adminHost: "0.0.0.0", port: 8080, adminPort: 8081 });
    // The same listeners on free loopback ports: the pod's fixed ports may be taken here.
    const config = { ...rendered, server: { ...rendered.server, host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 } };
    const gateway = await startGateway(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(200);
      expect((await fetch(`${gateway.adminUrl}/metrics`)).status).toBe(200);
      expect((await fetch(`${gateway.adminUrl}/v1/models`)).status).toBe(404);
    } finally {
      await gateway.shutdown(0);
    }
  });
});
