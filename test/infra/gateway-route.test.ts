/**
 * The Gateway API way in: GatewayRoute's HTTPRoute (exact spec, valid against the Gateway API
 * schema), its argument checks, and AiGateway's wiring (timeouts derived from the gateway config,
 * X-Forwarded-For trusted behind the Gateway); the Service's type knobs.
 */
import { parse } from "yaml";
import { childrenOf, installMocks, stateOf, valueOf } from "../helpers/pulumi-mocks";
import { validateManifest } from "../helpers/manifest-validator";
import { routeTimeoutSecondsFor } from "../../infra/builders/http-route";
import { AiGateway } from "../../infra/components/ai-gateway";
import { GatewayDeployment } from "../../infra/components/gateway-deployment";
import { GatewayRoute } from "../../infra/components/gateway-route";

const mocks = installMocks();
const DIGEST = `registry.example.com/gw@sha256:${"b".repeat(64)}`;
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

test("an HTTPRoute for /v1 only, attached to the given Gateway listener, valid against the schema", async () => {
  const route = new GatewayRoute("rt", {
    namespace: "llm",
    serviceName: "gw",
    servicePort: 80,
    parentRefs: [{ name: "public", namespace: "gateway-system", sectionName: "https" }],
    hostnames: ["ai.example.com"],
    timeoutSeconds: 620,
  });
  expect(childrenOf(route)).toEqual(["kubernetes:gateway.networking.k8s.io/v1:HTTPRoute rt-httproute"]);
  const state = await stateOf(mocks, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "rt-httproute");
  expect(state.metadata).toMatchObject({ name: "rt", namespace: "llm" });
  expect(state.spec).toEqual({
    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateway-system", sectionName: "https" }],
    hostnames: ["ai.example.com"],
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: "/v1" } }],
        backendRefs: [{ group: "", kind: "Service", name: "gw", port: 80, weight: 1 }],
        timeouts: { request: "620s", backendRequest: "620s" },
      },
    ],
  });
  expect(validateManifest({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: state.metadata, spec: state.spec })).toEqual([]);
  expect(await valueOf(route.url)).toBe("https://ai.example.com");
});

test("the schema check catches a malformed route (the validator really validates)", () => {
  const problems = validateManifest({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "bad", namespace: "llm" },
    spec: { parentRefs: [{ name: "public" }], rules: [{ matches: [{ path: { type: "Everything", value: "/v1" } }] }] },
  });
  expect(problems.length).toBeGreaterThan(0);
});

test("no Gateway to attach to is refused before anything is created", () => {
  expect(() => new GatewayRoute("rt-none", { namespace: "llm", serviceName: "gw", servicePort: 80, parentRefs: [], timeoutSeconds: 60 })).toThrow(
    "GatewayRoute: parentRefs needs at least one Gateway",
  );
  expect(mocks.resources.filter((r) => r.name.startsWith("rt-none"))).toEqual([]);
});

test("the route's timeouts cover the failover deadline plus the longest stream", () => {
  expect(routeTimeoutSecondsFor({ upstreamDefaults: { deadlineMs: 120_000, maxStreamMs: 600_000 } as never })).toBe(730);
});

test("AiGateway: a route without an Ingress, timeouts from the config, X-Forwarded-For trusted", async () => {
  const gw = new AiGateway("viaroute", {
    namespace: "llm",
    image: { imageReference: DIGEST },
    config: { models, upstreamDefaults: { deadlineMs: 30_000, maxStreamMs: 90_000 } },
    route: { parentRefs: [{ name: "public", namespace: "gateway-system" }], hostnames: ["llm.example.com"] },
  });
  expect(gw.ingress).toBeUndefined();
  expect(childrenOf(gw)).toContain("ai-gateway:kubernetes:GatewayRoute viaroute-route");
  const route = await stateOf(mocks, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "viaroute-route-httproute");
  expect(route.spec.rules[0].timeouts).toEqual({ request: "130s", backendRequest: "130s" });
  expect(route.spec.rules[0].backendRefs[0].name).toBe(await valueOf(gw.serviceName));
  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "viaroute-config-configmap");
  expect(parse(configMap.data["config.yaml"]).server.trustProxy).toBe(true);
  expect(await valueOf(gw.ingressUrl)).toBe("https://llm.example.com");
});

test("the Service type, load balancer class and annotations are settable", async () => {
  new GatewayDeployment("svc-lb", {
    namespace: "ns",
    image: DIGEST,
    configMapName: "cm",
    secretName: "s",
    configChecksum: "c",
    serviceType: "LoadBalancer",
    loadBalancerClass: "service.k8s.aws/nlb",
    serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" },
  });
  const service = await stateOf(mocks, "kubernetes:core/v1:Service", "svc-lb-service");
  expect(service.spec.type).toBe("LoadBalancer");
  expect(service.spec.loadBalancerClass).toBe("service.k8s.aws/nlb");
  expect(service.metadata.annotations).toEqual({ "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" });
  expect(validateManifest({ apiVersion: "v1", kind: "Service", metadata: service.metadata, spec: service.spec })).toEqual([]);
});
