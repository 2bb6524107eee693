/**
 * Pods roll only for config changes the gateway cannot reload: under Pulumi mocks, the same
 * gateway deployed with more models, keys, prices and another log level keeps its pod template
 * annotation (the mounted ConfigMap, under its stable name, carries the change and the gateway
 * reloads it), while a restart-only field (the Redis address, a timeout of the listener) changes it.
 */
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { buildGatewayConfigDocument } from "../../infra/builders/gateway-config-doc";
import { AiGateway } from "../../infra/components/ai-gateway";
import { installMocks, stateOf } from "../helpers/pulumi-mocks";

const mocks = installMocks();
const DIGEST = `ghcr.io/acme/ai-gateway@sha256:${"c".repeat(64)}`;
const base: GatewayConfigInput = {
  models: [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }],
};
const reloadable: GatewayConfigInput = {
  models: [
    { name: "gpt-4o", strategy: "latency", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }, { name: "azure", baseUrl: "https://x.openai.azure.com/v1" }] },
    { name: "gpt-4o-mini", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] },
  ],
  keys: [{ name: "web", keyHash: "a".repeat(64), plan: "free" }],
  plans: { free: { requestsPerMinute: 20 } },
  teams: { web: { monthlyBudgetUsd: 100 } },
  pricing: { "gpt-4o": { inputPerMTok: 2.5, outputPerMTok: 10 } },
  logging: { level: "debug" },
  upstreamDefaults: { timeoutMs: 30_000, maxAttempts: 2 },
};

async function deployed(name: string, config: GatewayConfigInput) {
  new AiGateway(name, { namespace: "ns", createNamespace: false, image: { imageReference: DIGEST }, config, replicas: 2 });
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", `${name}-deployment`);
  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", `${name}-config-configmap`);
  return { annotation: deployment.spec.template.metadata.annotations["checksum/config"] as string, volume: deployment.spec.template.spec.volumes[0].configMap.name as string, configMap };
}

test("reloadable changes keep the pod template; the stable-named ConfigMap carries them", async () => {
  const before = await deployed("roll-a", base);
  const after = await deployed("roll-b", reloadable);
  expect(after.annotation).toBe(before.annotation);
  expect(after.configMap.data["config.yaml"]).not.toBe(before.configMap.data["config.yaml"]);
  expect(after.configMap.metadata.name).toBe("roll-b-config-configmap");
  expect(after.volume).toBe("roll-b-config-configmap");
  const resource = mocks.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "roll-b-config-configmap");
  expect(resource).toBeDefined();
});

test("restart-only changes roll the pods", async () => {
  const before = await deployed("roll-c", base);
  const listener = await deployed("roll-d", { ...base, server: { headersTimeoutMs: 5_000 } });
  const stream = await deployed("roll-e", { ...base, upstreamDefaults: { maxStreamMs: 900_000 } });
  expect(listener.annotation).not.toBe(before.annotation);
  expect(stream.annotation).not.toBe(before.annotation);
  expect(stream.annotation).not.toBe(listener.annotation);
});

test("the restart checksum covers exactly the restart-only fields", () => {
  const doc = (config: GatewayConfigInput, redis?: boolean) => buildGatewayConfigDocument(config, redis ? { redis: { password: true } } : {});
  const a = doc(base);
  expect(doc(reloadable).restartChecksum).toBe(a.restartChecksum);
  expect(doc(reloadable).checksum).not.toBe(a.checksum);
  // Adding Redis (its address comes from the Secret, which rolls the pods on its own when it changes).
  expect(doc(base, true).restartChecksum).not.toBe(a.restartChecksum);
  expect(doc({ ...base, cache: { enabled: true } }).restartChecksum).not.toBe(a.restartChecksum);
  expect(doc({ ...base, cache: { ttlMs: 1_000 } }).restartChecksum).toBe(a.restartChecksum);
  expect(a.restartChecksum).toMatch(/^[0-9a-f]{64}$/);
});
