/**
 * `service.type: LoadBalancer` (or NodePort) publishes the API outside the cluster. The admin port
 * (/admin, the console, /metrics with key and team names) must not ride along on that Service:
 * it gets a ClusterIP Service of its own, which the ServiceMonitor scrapes and the
 * `adminServiceUrl` output names. NetworkPolicies are a second lock, not the first (many clusters
 * do not enforce them).
 */
import { runStack, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { validateManifest } from "../helpers/manifest-validator";

type Port = { name: string; port: number; targetPort: string; nodePort?: number };

describe("the admin port when the Service is published outside the cluster", () => {
  test.each(["LoadBalancer", "NodePort"])("service.type %s: the published Service carries the API only; admin has its own ClusterIP Service", async (type) => {
    const { mocks, outputs } = await runStack("prod", { service: { type } });
    const services = mocks.resources.filter((r) => r.type === "kubernetes:core/v1:Service" && (r.state.metadata as { labels?: Record<string, string> }).labels?.["app.kubernetes.io/component"] === "gateway");
    const published = services.filter((s) => (s.state.spec as { type?: string }).type === type);
    expect(published).toHaveLength(1);
    expect(((published[0].state.spec as { ports: Port[] }).ports).map((p) => p.targetPort)).toEqual(["http"]);

    const admin = await stateOf(mocks, "kubernetes:core/v1:Service", "ai-gateway-admin-service");
    expect(admin.spec.type).toBe("ClusterIP");
    expect(admin.spec.ports).toEqual([{ name: "admin", port: 8081, targetPort: "admin", protocol: "TCP" }]);
    // The ServiceMonitor selects it by its labels and scrapes its `admin` port.
    const monitor = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "ai-gateway-alerts-servicemonitor");
    expect(admin.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints.map((e: { port: string }) => e.port)).toEqual(["admin"]);
    expect(await valueOf(outputs.adminServiceUrl)).toBe(`http://${admin.metadata.name}.ai-gateway.svc.cluster.local:8081`);
    expect(await valueOf(outputs.serviceUrl)).not.toContain(admin.metadata.name);
    expect(validateManifest({ apiVersion: "v1", kind: "Service", metadata: admin.metadata, spec: admin.spec })).toEqual([]);
    // The scraped series carry job=<the admin Service's name>: the alerts and the HPA's metric filter on that.
    const rules = await stateOf(mocks, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "ai-gateway-alerts-prometheusrule");
    const exprs: string[] = rules.spec.groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr));
    expect(exprs.filter((e) => e.includes("aigw_")).every((e) => e.includes(`job="${admin.metadata.name}"`))).toBe(true);
  });

  test("ClusterIP (the default): one Service with both ports, as before", async () => {
    const { mocks } = await runStack("prod");
    const gatewayServices = mocks.resources.filter((r) => r.type === "kubernetes:core/v1:Service" && (r.state.metadata as { labels?: Record<string, string> }).labels?.["app.kubernetes.io/component"] === "gateway");
    expect(gatewayServices.map((s) => s.name)).toEqual(["ai-gateway-service"]);
    expect(((gatewayServices[0].state.spec as { ports: Port[] }).ports).map((p) => p.name)).toEqual(["http", "admin"]);
  });
});
