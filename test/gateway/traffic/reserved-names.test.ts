/**
 * Names that are also properties of every object (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`) are refused for plans, teams, keys, models and targets: at config
 * validation (with the field path), at the admin API (400), and a runtime key stored with one
 * before this check is refused rather than served without limits.
 */
import { Redis } from "ioredis";
import { hashKey } from "../../../gateway/src/auth/key-hash";
import { validateConfig } from "../../../gateway/src/config/validate";
import type { TestGateway } from "../../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { chat, startTrafficGateway } from "./http-helpers";

const ADMIN_KEY = "sk-admin-reserved-0123456789";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

describe("reserved names in config", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["plan", { plans: { constructor: { requestsPerMinute: 1 } } }, 'plans.constructor: "constructor" is a reserved name'],
    ["plan", { plans: JSON.parse('{"__proto__":{"requestsPerMinute":1}}') }, 'plans.__proto__: "__proto__" is a reserved name'],
    ["team", { teams: { hasOwnProperty: { monthlyBudgetUsd: 1 } } }, 'teams.hasOwnProperty: "hasOwnProperty" is a reserved name'],
    ["key's plan", { keys: [{ name: "k", key: "sk-0123456789", plan: "constructor" }] }, 'keys[0].plan: "constructor" is a reserved name'],
    ["key's team", { keys: [{ name: "k", key: "sk-0123456789", team: "__proto__" }] }, 'keys[0].team: "__proto__" is a reserved name'],
    ["key", { keys: [{ name: "toString", key: "sk-0123456789" }] }, 'keys[0].name: "toString" is a reserved name'],
    ["model", { models: [{ name: "constructor", targets: [{ name: "t", baseUrl: "mock://t" }] }] }, 'models[0].name: "constructor" is a reserved name'],
    ["target", { models: [{ name: "m", targets: [{ name: "valueOf", baseUrl: "mock://t" }] }] }, 'models[0].targets[0].name: "valueOf" is a reserved name'],
    ["price", { pricing: { toString: { inputPerMTok: 1, outputPerMTok: 1 } } }, 'pricing.toString: "toString" is a reserved name'],
  ])("a %s named like an Object property fails validation with its path", (_what, input, message) => {
    expect(() => validateConfig({ models, ...input })).toThrow(message);
  });
});

describe("reserved names over HTTP, runtime keys in Redis", () => {
  let redis: TestRedis;
  let gateway: TestGateway;
  beforeEach(async () => {
    redis = await startRedis();
    gateway = await startTrafficGateway({ models, redis: { url: redis.url }, auth: { adminKey: ADMIN_KEY }, plans: { default: { requestsPerMinute: 2 }, free: { requestsPerMinute: 5 } } });
  });
  afterEach(async () => {
    await gateway.close();
    await redis.stop();
  });

  const create = (body: Record<string, unknown>) =>
    fetch(`${gateway.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it.each<[string, Record<string, unknown>]>([
    ["plan", { name: "svc", plan: "constructor" }],
    ["plan", { name: "svc", plan: "__proto__" }],
    ["team", { name: "svc", team: "toString" }],
    ["name", { name: "hasOwnProperty" }],
  ])("the admin API refuses a %s named like an Object property: 400 naming the field", async (field, body) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: "invalid_request", param: field, message: expect.stringContaining("reserved name") });
  });

  it("a key stored with plan `constructor` before the check is refused, not served without limits", async () => {
    const secret = "sk-gw-legacy-constructor-0123456789";
    const store = new Redis(redis.url);
    await store.hset("aigw:{keys}:records", hashKey(secret), JSON.stringify({ name: "legacy", team: "default", plan: "constructor", models: [], limits: {} }));
    await store.hset("aigw:{keys}:names", "legacy", hashKey(secret));
    store.disconnect();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(gateway.url, { model: "m" }, { authorization: `Bearer ${secret}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    // A key on a real plan still works, with that plan's limit.
    const created = (await (await create({ name: "svc", plan: "free" })).json()) as { key: string };
    expect((await chat(gateway.url, { model: "m" }, { authorization: `Bearer ${created.key}` })).status).toBe(200);
  });
});
