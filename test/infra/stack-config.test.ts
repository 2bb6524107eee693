/**
 * Stack config errors are clear: each names the `project:key` path and what is wrong, unknown
 * keys are refused, and a gateway config problem comes back with the gateway's own message.
 */
import { parseStackConfig, StackConfigError } from "../../infra/config";
import { PROJECT, runStack, stackConfigMap } from "../helpers/pulumi-mocks";

function problems(extra: Record<string, unknown>, stack = "prod"): string[] {
  try {
    parseStackConfig(PROJECT, stackConfigMap(stack, extra));
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a StackConfigError");
}

test("both stack files parse; defaults fill in", () => {
  const dev = parseStackConfig(PROJECT, stackConfigMap("dev"));
  expect(dev).toMatchObject({ namespace: "ai-gateway", replicas: 1, createNamespace: true, redis: { mode: "in-cluster", maxmemory: "64mb" } });
  const prod = parseStackConfig(PROJECT, stackConfigMap("prod"));
  expect(prod.autoscaling).toMatchObject({ minReplicas: 3, maxReplicas: 20 });
  expect(prod.secrets.upstreamKeys).toEqual({});
  // Other providers' keys (kubernetes:context) are not ours to judge.
  expect(() => parseStackConfig(PROJECT, stackConfigMap("dev", { "kubernetes:context": "kind-dev" }))).not.toThrow();
});

test("each problem names its key and says what is wrong", () => {
  expect(problems({ "ai-gateway:namespace": "Bad_Name" })).toEqual(["ai-gateway:namespace: a DNS label: lowercase letters, digits and '-'"]);
  expect(problems({ "ai-gateway:image": { reference: "ghcr.io/acme/gw:latest" } })).toEqual([
    "ai-gateway:image.reference: must pin a digest: registry/repo@sha256:<64 hex>",
  ]);
  expect(problems({ "ai-gateway:image": {} })).toEqual(["ai-gateway:image: set exactly one of reference or build"]);
  expect(problems({ "ai-gateway:replicas": 2 })).toEqual(["ai-gateway:replicas: set replicas or autoscaling, not both"]);
  expect(problems({ "ai-gateway:autoscaling": { targetCpuUtilization: 170 } })).toEqual([
    "ai-gateway:autoscaling.targetCpuUtilization: Number must be less than or equal to 100",
  ]);
  expect(problems({ "ai-gateway:redis": { mode: "cluster" } })[0]).toMatch(/^ai-gateway:redis\.mode: Invalid discriminator value/);
  expect(problems({ "ai-gateway:adminKey": "short" })).toEqual(["ai-gateway:adminKey: String must contain at least 16 character(s)"]);
  expect(problems({ "ai-gateway:redisPassword": "pw" })).toEqual(['ai-gateway:redisPassword: only for redis.mode "external" (in-cluster Redis generates one)']);
  expect(problems({ "ai-gateway:cacheRedisPassword": "pw" })).toEqual(['ai-gateway:cacheRedisPassword: only for cacheRedis.mode "external" (in-cluster Redis generates one)']);
  // Cache pressure must never evict limits, spend or keys: the state Redis may not evict at all.
  expect(problems({ "ai-gateway:redis": { mode: "in-cluster", maxmemoryPolicy: "volatile-ttl" } })).toEqual([
    "ai-gateway:redis.maxmemoryPolicy: the state Redis must run noeviction (limits, spend and keys must never be evicted); the cache gets its own Redis (cacheRedis)",
  ]);
  expect(problems({ "ai-gateway:cacheRedis": { mode: "in-cluster", maxmemoryPolicy: "lru" } })[0]).toMatch(/^ai-gateway:cacheRedis\.maxmemoryPolicy: Invalid enum value/);
  expect(problems({ "ai-gateway:gateway": { models: [] } })).toEqual(["ai-gateway:gateway.models: at least one model"]);
});

test("unknown keys and fields are errors, not silently ignored", () => {
  expect(problems({ "ai-gateway:replica": 2 })).toEqual(["unknown config key(s) ai-gateway:replica"]);
  expect(problems({ "ai-gateway:ingress": { host: "a.example.com", tsl: {} } })).toEqual(["ai-gateway:ingress: unknown field(s) tsl"]);
});

test("a wrong gateway config fails the program with the gateway's message, under the stack key", async () => {
  const prod = stackConfigMap("prod");
  const gateway = JSON.parse(prod["ai-gateway:gateway"]);
  gateway.models[0].fallbacks = ["gpt-5-nonexistent"];
  await expect(runStack("prod", { "ai-gateway:gateway": gateway })).rejects.toThrow(
    'invalid stack config:\n  - ai-gateway:gateway: models[0].fallbacks[0]: unknown model "gpt-5-nonexistent"',
  );
  await expect(runStack("prod", { "ai-gateway:upstreamKeys": { "gpt-4o/azure": "k" } })).rejects.toThrow(
    /ai-gateway:upstreamKeys\["gpt-4o\/azure"\]: no model "gpt-4o" with a target "azure"/,
  );
});
