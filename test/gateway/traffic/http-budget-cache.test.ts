/**
 * Budgets and the response cache through the pipeline, with two gateways sharing one Redis (and
 * a second one, the cache's own, for the shared cache):
 * spend is shared, the 80% gauge moves and logs an event, a request whose worst case does not
 * fit what is left gives 429 insufficient_quota;
 * cached answers give x-cache MISS then HIT, expire with the TTL, count as requests and spend
 * nothing.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore, redisKeys } from "../../helpers/redis-store-check";
import { Redis } from "ioredis";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway, type GatewayInput } from "./http-helpers";

describe("budgets and cache over HTTP, shared through Redis", () => {
  let redis: TestRedis;
  let cacheRedis: TestRedis;
  let upstream: MockUpstream;
  let gateways: TestGateway[] = [];

  beforeEach(async () => {
    redis = await startRedis();
    cacheRedis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
    await upstream.stop();
    await redis.stop();
    await cacheRedis.stop();
  });

  async function pair(input: Omit<GatewayInput, "redis" | "models">): Promise<TestGateway[]> {
    for (let i = 0; i < 2; i++) {
      // Requests reserve 8 completion tokens (what the mock answers), not the default 1024.
      gateways.push(await startTrafficGateway({ models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], redis: { url: redis.url }, limits: { defaultMaxTokens: 8 }, ...input }));
    }
    return gateways;
  }

  it("shares spend across replicas: the 80% gauge and event, then 429 insufficient_quota", async () => {
    // 8 completion tokens at $50 000 per MTok = $0.40 a request; budget $1.
    const [a, b] = await pair({
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 50_000 } },
      teams: { lab: { monthlyBudgetUsd: 100 } },
      keys: [{ name: "dora", key: "sk-dora-0123456789", team: "lab", limits: { monthlyBudgetUsd: 1 } }],
    });
    const key = { authorization: "Bearer sk-dora-0123456789" };
    const gauge = 'aigw_budget_used_ratio{key="dora",team="lab"}';
    expect((await chat(a.url, { model: "m" }, key)).status).toBe(200);
    await eventually(async () => (await metricValue(a.url, gauge)) === 0.4);
    expect((await chat(b.url, { model: "m" }, key)).status).toBe(200);
    await eventually(async () => (await metricValue(b.url, gauge)) === 0.8);
    expect(await metricValue(b.url, 'aigw_team_budget_used_ratio{team="lab"}')).toBeCloseTo(0.008, 9);
    const events = [...a.logs(), ...b.logs()].filter((l) => l.event === "budget_threshold");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ keyName: "dora", team: "lab", threshold: 0.8, level: "warn" });
    // A third $0.40 request would end at $1.20: its worst case does not fit, so it is refused
    // up front (it used to be admitted and overspend, detected after).
    const refused = await chat(b.url, { model: "m" }, key);
    expect(refused.status).toBe(429);
    const error = ((await refused.json()) as { error: { message: string } }).error;
    expect(error).toMatchObject({ code: "insufficient_quota", type: "insufficient_quota" });
    expect(error.message).toContain("may cost up to $0.40");
    expect(await metricValue(b.url, 'aigw_rejections_total{reason="budget"}')).toBe(1);
    expect(await metricValue(b.url, gauge)).toBe(0.8);
    expect(upstream.completions).toHaveLength(2);
    // Spend is kept under the key's id, not its name.
    await expectRedisIsTheStore([a.url, b.url], redis.url, ["aigw:spend:*", "aigw:teamspend:{t:lab}:*"]);
  });

  it("answers deterministic requests from the shared cache: MISS, HIT on another replica, MISS after the TTL", async () => {
    // A TTL far longer than the test, so a slow machine cannot expire the entry between the
    // MISS and the HITs; the expiry is then checked on the entry's own PTTL and by ending it.
    const ttlMs = 120_000;
    const [a, b] = await pair({
      cache: { enabled: true, ttlMs, scope: "shared", redis: { url: cacheRedis.url } },
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 50_000 } },
      keys: [
        { name: "erin", key: "sk-erin-0123456789", limits: { requestsPerMinute: 4, monthlyBudgetUsd: 10 } },
        { name: "fred", key: "sk-fred-0123456789" },
      ],
    });
    const erin = { authorization: "Bearer sk-erin-0123456789" };
    const body = { model: "m", temperature: 0 };
    const miss = await chat(a.url, body, erin);
    expect(miss.headers.get("x-cache")).toBe("MISS");
    const missBody = await miss.text();
    await eventually(async () => (await metricValue(a.url, 'aigw_budget_used_ratio{key="erin",team="default"}')) === 0.04);
    // The entry is written after the response: wait for it rather than assume it.
    await eventually(async () => (await redisKeys(cacheRedis.url, "aigw:cache:*")).length === 1);
    const hit = await chat(b.url, body, erin);
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(await hit.text()).toBe(missBody);
    // Shared scope: another key gets the same answer; sampling requests are not cached.
    const fredHit = await chat(a.url, body, { authorization: "Bearer sk-fred-0123456789" });
    expect(fredHit.headers.get("x-cache")).toBe("HIT");
    await fredHit.arrayBuffer();
    const sampled = await chat(a.url, { ...body, temperature: 1 }, { authorization: "Bearer sk-fred-0123456789" });
    expect(sampled.headers.get("x-cache")).toBeNull();
    await sampled.arrayBuffer();
    expect(upstream.completions).toHaveLength(2);
    expect(await metricValue(a.url, 'aigw_cache_requests_total{result="hit"}')).toBe(1);
    expect(await metricValue(b.url, 'aigw_cache_requests_total{result="hit"}')).toBe(1);
    // The hit counted as a request (2 of 4 used) but spent nothing.
    const third = await chat(b.url, body, erin);
    expect(third.headers.get("x-cache")).toBe("HIT");
    expect(third.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    await third.arrayBuffer();
    expect(await metricValue(b.url, 'aigw_budget_used_ratio{key="erin",team="default"}')).toBe(0.04);
    // The entry carries the configured TTL; once it runs out the next request is a MISS.
    const [entry] = await redisKeys(cacheRedis.url, "aigw:cache:*");
    const client = new Redis(cacheRedis.url);
    try {
      const pttl = await client.pttl(entry);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(ttlMs);
      await client.pexpire(entry, 1); // the TTL running out, without waiting two minutes
    } finally {
      client.disconnect();
    }
    await eventually(async () => {
      const r = await chat(a.url, body, { authorization: "Bearer sk-fred-0123456789" });
      await r.arrayBuffer();
      return r.headers.get("x-cache") === "MISS";
    });
    await expectRedisIsTheStore([a.url, b.url], redis.url, ["aigw:rl:*:rpm", "aigw:spend:*"]);
    // The cache lives in its own Redis, never beside the limits.
    expect(await redisKeys(redis.url, "aigw:cache:*")).toEqual([]);
  });

  it("keeps per-key cache entries private and lets clients bypass the cache", async () => {
    const [a] = await pair({ cache: { enabled: true, scope: "key", redis: { url: cacheRedis.url } }, keys: [{ name: "gus", key: "sk-gus-0123456789" }, { name: "hal", key: "sk-hal-0123456789" }] });
    const body = { model: "m", temperature: 0 };
    await (await chat(a.url, body, { authorization: "Bearer sk-gus-0123456789" })).arrayBuffer();
    const own = await chat(a.url, body, { authorization: "Bearer sk-gus-0123456789" });
    expect(own.headers.get("x-cache")).toBe("HIT");
    const other = await chat(a.url, body, { authorization: "Bearer sk-hal-0123456789" });
    expect(other.headers.get("x-cache")).toBe("MISS");
    const bypass = await chat(a.url, body, { authorization: "Bearer sk-gus-0123456789", "x-gateway-cache": "off" });
    expect(bypass.headers.get("x-cache")).toBeNull();
    const optIn = await chat(a.url, { model: "m", temperature: 0.9 }, { authorization: "Bearer sk-gus-0123456789", "x-gateway-cache": "on" });
    expect(optIn.headers.get("x-cache")).toBe("MISS");
    await Promise.all([own, other, bypass, optIn].map((r) => r.arrayBuffer()));
    await expectRedisIsTheStore(a.url, cacheRedis.url, ["aigw:cache:*"]);
  });
});
