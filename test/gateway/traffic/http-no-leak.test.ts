/**
 * A client key never appears in clear anywhere the gateway writes: Redis (every key and
 * value), logs, /metrics, or error bodies; not for config keys, runtime keys, wrong keys
 * or the admin key. And with no traffic-control config at all the gateway is passthrough.
 */
import { loadConfig } from "../../../gateway/src/config/load";
import { createTrafficControl } from "../../../gateway/src/traffic";
import { startGateway } from "../../../gateway/src/gateway";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore } from "../../helpers/redis-store-check";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway } from "./http-helpers";
import { dumpRedis } from "./redis-dump";
import { Writable } from "node:stream";

const CONFIG_KEY = "sk-config-key-4f1c2a9be7";
const WRONG_KEY = "sk-wrong-key-77aa0c31d2";
const ADMIN_KEY = "admin-key-9d8c7b6a5f4e";

describe("secrets stay secret", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { url: redis.url },
      auth: { adminKey: ADMIN_KEY, perIp: { requests: 100, windowMs: 10_000 } },
      cache: { enabled: true },
      // 8 tokens (reserved and answered) at $50 000 per MTok: $0.40; the fourth does not fit $1.
      limits: { defaultMaxTokens: 8 },
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 50_000 } },
      teams: { t: { monthlyBudgetUsd: 5 } },
      keys: [{ name: "cfg", key: CONFIG_KEY, team: "t", limits: { requestsPerMinute: 10, tokensPerMinute: 100_000, concurrent: 2, monthlyBudgetUsd: 1 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await redis.stop();
  });

  it("never writes a clear key to Redis, logs, metrics or error bodies", async () => {
    const bodies: string[] = [];
    const created = await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ name: "rt", limits: { requestsPerMinute: 1 } }) });
    expect(created.status).toBe(201);
    const runtimeKey = ((await created.json()) as { key: string }).key;
    // [key, body, expected status, expected error code]
    const steps: [string, Record<string, unknown>, number, string | null][] = [
      [CONFIG_KEY, { model: "m", temperature: 0 }, 200, null], // $0.40
      [CONFIG_KEY, { model: "m", temperature: 0 }, 200, null], // cache hit: $0
      [CONFIG_KEY, { model: "m", stream: true }, 200, null], // $0.80 in all
      [CONFIG_KEY, { model: "m" }, 429, "insufficient_quota"], // $0.40 more does not fit $1 (4 of 10 requests used)
      [runtimeKey, { model: "m" }, 200, null],
      [runtimeKey, { model: "m" }, 429, "rate_limit_exceeded"], // over its request limit
      [WRONG_KEY, { model: "m" }, 401, "invalid_api_key"],
      [ADMIN_KEY, { model: "m" }, 401, "invalid_api_key"],
    ];
    for (const [key, body, status, code] of steps) {
      // The budget refusal must come from the settled spend of the stream before it.
      if (code === "insufficient_quota") await eventually(async () => ((await metricValue(gw.url, 'aigw_budget_used_ratio{key="cfg",team="t"}')) ?? 0) >= 0.8 - 1e-9);
      const res = await chat(gw.url, body, { authorization: `Bearer ${key}` });
      const text = await res.text();
      bodies.push(`${res.status} ${[...res.headers].join(" ")} ${text}`);
      expect({ status: res.status, code: code && ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null) }).toEqual({ status, code });
    }
    bodies.push(await (await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${WRONG_KEY}` } })).text());
    bodies.push(await (await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
    expect(bodies.filter((b) => b.startsWith("429"))).toHaveLength(2);
    expect(bodies.filter((b) => b.startsWith("401"))).toHaveLength(2);
    // Spend is kept under the key's id (k-…), not its name.
    await eventually(async () => /spend:{k:k-[0-9a-f]{24}}:/.test(await dumpRedis(redis.url)));

    const places = {
      redis: await dumpRedis(redis.url),
      logs: gw.rawLogs(),
      metrics: await (await fetch(`${gw.url}/metrics`)).text(),
      responses: bodies.join("\n"),
    };
    expect(places.redis).toMatch(/rl:{k:k-[0-9a-f]{24}}:rpm/); // the dump is not empty (state is under key ids)
    await expectRedisIsTheStore(gw.url, redis.url, ["aigw:spend:{k:k-*}*", "aigw:teamspend:{t:t}:*", "aigw:rl:{k:k-*}:rpm"]);
    expect(places.logs).toContain("budget_threshold");
    for (const [where, text] of Object.entries(places)) {
      for (const secret of [CONFIG_KEY, WRONG_KEY, ADMIN_KEY, runtimeKey]) {
        if (text.includes(secret)) throw new Error(`${where} contains a clear key`);
      }
    }
  });
});

describe("no traffic-control config", () => {
  it("is passthrough with the embedded default config (npm start with no Redis)", async () => {
    const config = loadConfig([], { PORT: "0" });
    const traffic = createTrafficControl(config, {});
    expect(traffic.passthrough).toBe(true);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const gateway = await startGateway(config, { logDestination: sink, trafficControl: (c, d) => createTrafficControl(c, d) });
    try {
      const res = await chat(gateway.url, { model: "mock-mini" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
      await res.arrayBuffer();
    } finally {
      await gateway.shutdown(0);
      await traffic.close();
    }
  });
});
