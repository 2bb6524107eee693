/**
 * Three gateway instances sharing one real Redis, over HTTP: together they admit exactly the
 * per-key requests-per-minute limit and exactly the token limit under concurrent load. Then
 * Redis is killed mid-test: requests are still served on local limits, the fallback is
 * visible in /metrics, and once Redis restarts the limits are shared again.
 */
import { countChatTokens } from "../../../gateway/src/limits/tokens";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore } from "../../helpers/redis-store-check";
import type { TestGateway } from "../../helpers/gateway-harness";
import { eventually } from "./fakes";
import { chat, metricValue, ParkedUpstream, startTrafficGateway, type GatewayInput } from "./http-helpers";

describe("three gateways sharing one Redis", () => {
  let redis: TestRedis;
  let gateways: TestGateway[] = [];
  let stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(stops.map((stop) => stop()));
    gateways = [];
    stops = [];
    await redis.stop();
  });

  async function fleet(input: Omit<GatewayInput, "redis">, n = 3): Promise<TestGateway[]> {
    for (let i = 0; i < n; i++) gateways.push(await startTrafficGateway({ ...input, redis: { url: redis.url } }));
    return gateways;
  }

  it("admit exactly the requests-per-minute limit under concurrent load", async () => {
    const upstream = await MockUpstream.start("up");
    stops.push(() => upstream.stop());
    // 20 per minute: a slot refills every 3 s, far longer than this burst takes.
    const gws = await fleet({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "alice", key: "sk-alice-0123456789", limits: { requestsPerMinute: 20 } }],
    });
    const startedAt = Date.now();
    const responses = await Promise.all(Array.from({ length: 90 }, (_, i) => chat(gws[i % 3].url, { model: "m" }, { authorization: "Bearer sk-alice-0123456789" })));
    // A busy machine can stretch the burst past 3 s: each full 3 s refills one more request.
    const refills = Math.floor((Date.now() - startedAt) / 3_000);
    const statuses = responses.map((r) => r.status);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(20 + refills);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90 - admitted);
    expect(upstream.completions).toHaveLength(admitted);
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("20");
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(((await refused.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: "rate_limit_exceeded", type: "rate_limit_error" });
    const ok = responses.find((r) => r.status === 200)!;
    expect(ok.headers.get("x-ratelimit-limit-requests")).toBe("20");
    expect(ok.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+m)?[\d.]+s$/);
    await Promise.all(responses.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));
    await expectRedisIsTheStore(gws.map((g) => g.url), redis.url, ["aigw:rl:{k:k-*}:rpm"]);
  });

  it("admit exactly the token limit under concurrent load (reservations held until release)", async () => {
    const upstream = await ParkedUpstream.start();
    stops.push(() => upstream.stop());
    const body = { model: "m", max_tokens: 50 };
    const reserved = countChatTokens({ messages: [{ role: "user", content: "hello world" }] }) + 50;
    const gws = await fleet({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "bob", key: "sk-bob-0123456789", limits: { tokensPerMinute: reserved * 7 } }],
    });
    const pending = Array.from({ length: 45 }, (_, i) => chat(gws[i % 3].url, body, { "x-api-key": "sk-bob-0123456789" }));
    const refused: Response[] = [];
    for (const p of pending) void p.then((r) => r.status === 429 && refused.push(r));
    // Every request is either refused or parked upstream before any settles.
    await eventually(() => refused.length + upstream.received === 45);
    expect(upstream.received).toBe(7);
    expect(refused).toHaveLength(38);
    expect(refused[0].headers.get("x-ratelimit-limit-tokens")).toBe(String(reserved * 7));
    upstream.release();
    const responses = await Promise.all(pending);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(7);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    await expectRedisIsTheStore(gws.map((g) => g.url), redis.url, ["aigw:rl:{k:k-*}:tpm"]);
  });

  it("keep serving when Redis is killed mid-test, and share limits again after it restarts", async () => {
    const upstream = await MockUpstream.start("up");
    stops.push(() => upstream.stop());
    const [a, b] = await fleet(
      {
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        keys: [{ name: "carol", key: "sk-carol-0123456789", limits: { requestsPerMinute: 10 } }],
      },
      2,
    );
    const send = (g: TestGateway) => chat(g.url, { model: "m" }, { authorization: "Bearer sk-carol-0123456789" }).then(async (r) => (await r.arrayBuffer(), r.status));
    expect(await send(a)).toBe(200);
    expect(await send(b)).toBe(200);
    expect(await metricValue(a.url, "aigw_store_fallback")).toBe(0);

    await redis.stop();
    const outageAt = Date.now();
    // Still served, on each replica's local limit.
    expect(await send(a)).toBe(200);
    expect(await send(b)).toBe(200);
    expect(await metricValue(a.url, "aigw_store_fallback")).toBe(1);
    expect(await metricValue(a.url, 'aigw_store_errors_total{store="redis"}')).toBeGreaterThanOrEqual(1);
    expect(a.logs().some((l) => l.level === "error" && /local limits/.test(String(l.msg)))).toBe(true);

    await redis.start();
    await eventually(async () => (await metricValue(a.url, "aigw_store_fallback")) === 0 && (await metricValue(b.url, "aigw_store_fallback")) === 0);
    // Shared again: the restarted (empty) Redis grants 10 in total across both replicas, less the
    // two admitted locally during the outage (charged to it when it came back, less what refilled
    // since: one every 6 s of a slow run).
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 2 ? a : b)));
    const refilled = Math.min(2, Math.floor((Date.now() - outageAt) / 6_000));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(8);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(8 + refilled);
    await expectRedisIsTheStore([a.url, b.url], redis.url, ["aigw:rl:{k:k-*}:rpm"]);
  });
});
