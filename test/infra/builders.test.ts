/**
 * The pure builders, without resources: the gateway config document (placeholders, env naming,
 * preview-time validation with the gateway's own loader), shutdown timing, ingress annotations
 * and timeouts, controller tuning, HPA behaviour and labels.
 */
import { createHash } from "node:crypto";
import { parse } from "yaml";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { ConfigError } from "../../gateway/src/config/validate";
import { buildHpaBehavior } from "../../infra/builders/autoscaling";
import { buildGatewayConfigDocument, upstreamKeyEnvName } from "../../infra/builders/gateway-config-doc";
import { buildControllerTuningData, buildIngressAnnotations, proxyReadTimeoutFor } from "../../infra/builders/ingress";
import { componentLabels, selectorLabels } from "../../infra/builders/labels";
import { deriveShutdownGraceMs, shutdownTiming } from "../../infra/builders/shutdown";
import { installMocks, valueOf } from "../helpers/pulumi-mocks";

installMocks();

const base: GatewayConfigInput = {
  models: [
    { name: "gpt-4.1", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }, { name: "azure-eu", baseUrl: "https://eu.example.com/v1" }] },
    { name: "mock", targets: [{ name: "m", baseUrl: "mock://m" }] },
  ],
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("gateway config document", () => {
  test("upstream keys become sanitised ${UPSTREAM_KEY_<MODEL>_<TARGET>} placeholders", () => {
    expect(upstreamKeyEnvName("gpt-4.1", "azure-eu")).toBe("UPSTREAM_KEY_GPT_4_1_AZURE_EU");
    const doc = buildGatewayConfigDocument(base, { upstreamKeyRefs: ["gpt-4.1/openai", "gpt-4.1/azure-eu"] });
    const yaml = parse(doc.yaml) as GatewayConfigInput;
    expect(yaml.models[0].targets.map((t) => t.apiKey)).toEqual(["${UPSTREAM_KEY_GPT_4_1_OPENAI}", "${UPSTREAM_KEY_GPT_4_1_AZURE_EU}"]);
    expect(yaml.models[1].targets[0].apiKey).toBeUndefined();
    expect(doc.upstreamKeyEnv).toEqual({ "gpt-4.1/openai": "UPSTREAM_KEY_GPT_4_1_OPENAI", "gpt-4.1/azure-eu": "UPSTREAM_KEY_GPT_4_1_AZURE_EU" });
    // The effective config is what the gateway loads, the stand-in filled in.
    expect(doc.effective.models[0].targets[0].apiKey).toMatch(/^stand-in-/);
  });

  test("Redis and admin key come from the Secret; the config's own Redis tuning stays", () => {
    const doc = buildGatewayConfigDocument(
      { ...base, redis: { keyPrefix: "gw:" } as never, limits: { store: "redis" } },
      { redis: { password: true }, adminKey: true },
    );
    const yaml = parse(doc.yaml);
    expect(yaml.redis).toEqual({ keyPrefix: "gw:", url: "${REDIS_URL}", password: "${REDIS_PASSWORD}" });
    expect(yaml.auth.adminKey).toBe("${GATEWAY_ADMIN_KEY}");
    expect(doc.secretEnvNames.sort()).toEqual(["GATEWAY_ADMIN_KEY", "REDIS_PASSWORD", "REDIS_URL"]);
    expect(doc.effective.limits.store).toBe("redis");
  });

  test("an admin key without Redis is refused at preview: it would leave client authentication off", () => {
    expect(problemsOf(() => buildGatewayConfigDocument(base, { adminKey: true }))).toEqual([
      expect.stringMatching(/^auth\.adminKey: without a redis section there are no runtime keys, so client authentication would stay off/),
    ]);
    expect(buildGatewayConfigDocument({ ...base, auth: { required: true } }, { adminKey: true }).effective.auth.required).toBe(true);
  });

  test("the pod listens on 0.0.0.0 and drains for as long as the longest stream", () => {
    const doc = buildGatewayConfigDocument({ ...base, upstreamDefaults: { maxStreamMs: 300_000 }, server: { shutdownGraceMs: 5_000 } });
    expect(doc.effective.server.host).toBe("0.0.0.0");
    expect(doc.effective.server.shutdownGraceMs).toBe(300_000);
    // A longer grace than the longest stream is kept.
    expect(deriveShutdownGraceMs({ ...base, server: { shutdownGraceMs: 900_000 } })).toBe(900_000);
    // Schema defaults: maxStreamMs 600000 wins over shutdownGraceMs 30000.
    expect(deriveShutdownGraceMs(base)).toBe(600_000);
  });

  test("the checksum is the YAML's sha256 and changes with the config", () => {
    const a = buildGatewayConfigDocument(base);
    expect(a.checksum).toBe(createHash("sha256").update(a.yaml).digest("hex"));
    expect(buildGatewayConfigDocument(base).checksum).toBe(a.checksum);
    expect(buildGatewayConfigDocument({ ...base, logging: { level: "debug" } }).checksum).not.toBe(a.checksum);
  });

  test("a wrong config fails with the gateway's own messages", () => {
    expect(problemsOf(() => buildGatewayConfigDocument({ ...base, models: [{ ...base.models[0], fallbacks: ["nope"] }], bogus: 1 } as never))).toEqual([
      "(root): unknown field(s) bogus",
    ]);
    expect(problemsOf(() => buildGatewayConfigDocument({ ...base, models: [{ ...base.models[0], fallbacks: ["nope"] }] }))).toEqual([
      'models[0].fallbacks[0]: unknown model "nope"',
    ]);
    expect(problemsOf(() => buildGatewayConfigDocument({ ...base, limits: { store: "redis" } }))).toEqual(['limits.store: "redis" needs a redis section']);
  });

  test("secrets written into the config itself are refused: they would sit in a ConfigMap", () => {
    const literal: GatewayConfigInput = {
      models: [{ name: "m", targets: [{ name: "t", baseUrl: "https://x/v1", apiKey: "sk-live" }] }],
      auth: { adminKey: "a-very-long-admin-key" },
      keys: [{ name: "k", key: "clear-client-key" }],
    };
    const problems = problemsOf(() => buildGatewayConfigDocument(literal));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^models\[0\]\.targets\[0\]\.apiKey: a literal key would be stored in a ConfigMap; pass it as upstreamKeys\["m\/t"\]/);
    expect(problems[1]).toMatch(/^auth\.adminKey:/);
    expect(problems[2]).toMatch(/^keys\[0\]\.key:/);
  });

  test("upstream key refs must name a target, and must not collide once sanitised", () => {
    expect(problemsOf(() => buildGatewayConfigDocument(base, { upstreamKeyRefs: ["gpt-4.1/nope"] }))).toEqual([
      'upstreamKeys["gpt-4.1/nope"]: no model "gpt-4.1" with a target "nope" (expected "model/target")',
    ]);
    const clash: GatewayConfigInput = { models: [{ name: "a-b", targets: [{ name: "t", baseUrl: "mock://t" }] }, { name: "a.b", targets: [{ name: "t", baseUrl: "mock://t" }] }] };
    expect(problemsOf(() => buildGatewayConfigDocument(clash, { upstreamKeyRefs: ["a-b/t", "a.b/t"] }))[0]).toMatch(/UPSTREAM_KEY_A_B_T is also the one of "a-b\/t"/);
  });

  test("a ${VAR} nothing provides fails at preview; extra secret env provides it", () => {
    const withClientKey: GatewayConfigInput = { ...base, keys: [{ name: "k", key: "${CLIENT_KEY_K}" }] };
    expect(problemsOf(() => buildGatewayConfigDocument(withClientKey))).toEqual(["keys[0].key: environment variable CLIENT_KEY_K is not set"]);
    expect(buildGatewayConfigDocument(withClientKey, { extraSecretEnvNames: ["CLIENT_KEY_K"] }).secretEnvNames).toEqual(["CLIENT_KEY_K"]);
  });

  test("a host the Service cannot reach is refused", () => {
    expect(problemsOf(() => buildGatewayConfigDocument({ ...base, server: { host: "127.0.0.1" } }))[0]).toMatch(/^server\.host: "127\.0\.0\.1" is unreachable/);
  });
});

describe("shutdown timing", () => {
  test("terminationGracePeriodSeconds exceeds preStop plus the drain, which covers maxStreamMs", () => {
    const t = shutdownTiming({ ...base, upstreamDefaults: { maxStreamMs: 300_000 } }, 10);
    expect(t).toEqual({ preStopSeconds: 10, shutdownGraceMs: 300_000, terminationGracePeriodSeconds: 320 });
    expect(t.terminationGracePeriodSeconds).toBeGreaterThan(t.preStopSeconds + t.shutdownGraceMs / 1000);
    expect(shutdownTiming({ ...base, upstreamDefaults: { maxStreamMs: 60_500 } }, 2).terminationGracePeriodSeconds).toBe(2 + 61 + 10);
    expect(() => shutdownTiming(base, -1)).toThrow(/preStopSeconds/);
  });
});

describe("ingress", () => {
  test("annotations: the article's values, streaming without buffering, TLS redirect and cert-manager", async () => {
    const annotations = await valueOf(buildIngressAnnotations({ tls: true, clusterIssuer: "letsencrypt" }));
    expect(annotations).toEqual({
      "nginx.ingress.kubernetes.io/ssl-redirect": "true",
      "nginx.ingress.kubernetes.io/proxy-body-size": "50m",
      "nginx.ingress.kubernetes.io/proxy-connect-timeout": "10",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "120",
      "nginx.ingress.kubernetes.io/proxy-send-timeout": "120",
      "nginx.ingress.kubernetes.io/proxy-buffering": "off",
      "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
      "cert-manager.io/cluster-issuer": "letsencrypt",
    });
    expect((await valueOf(buildIngressAnnotations({ tls: false })))["nginx.ingress.kubernetes.io/ssl-redirect"]).toBe("false");
    expect(() => buildIngressAnnotations({ tls: true, clusterIssuer: "a", issuer: "b" })).toThrow(/not both/);
  });

  test("nginx waits longer than the gateway's own deadline before answering 504", () => {
    const defaults = buildGatewayConfigDocument(base).effective;
    expect(proxyReadTimeoutFor(defaults)).toBe(130); // deadlineMs 120s + 10s
    expect(proxyReadTimeoutFor({ upstreamDefaults: { ...defaults.upstreamDefaults, deadlineMs: 30_000, timeoutMs: 20_000 } })).toBe(120);
    expect(proxyReadTimeoutFor({ upstreamDefaults: { ...defaults.upstreamDefaults, deadlineMs: 300_000 } })).toBe(310);
  });

  test("controller tuning: the article's keepalive and worker settings", async () => {
    expect(await valueOf(buildControllerTuningData())).toEqual({
      "upstream-keepalive-connections": "256",
      "upstream-keepalive-timeout": "60",
      "upstream-keepalive-requests": "1000",
      "keep-alive": "60",
      "max-worker-connections": "10240",
    });
  });
});

test("HPA behaviour: the article's scale-up and scale-down policies", () => {
  expect(buildHpaBehavior()).toEqual({
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: "Percent", value: 100, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
  });
});

test("selector labels are a stable subset of the full labels", () => {
  const full = componentLabels("prod", "gateway", { team: "x" });
  expect(selectorLabels("prod", "gateway")).toEqual({
    "app.kubernetes.io/name": "ai-gateway",
    "app.kubernetes.io/instance": "prod",
    "app.kubernetes.io/component": "gateway",
  });
  expect(full).toMatchObject({ ...selectorLabels("prod", "gateway"), team: "x", "app.kubernetes.io/managed-by": "pulumi" });
  // Extras cannot override the selector.
  expect(componentLabels("prod", "gateway", { "app.kubernetes.io/component": "evil" })["app.kubernetes.io/component"]).toBe("gateway");
});
