/**
 * A Redis outage with failOpen, and what happens when Redis comes back: what a replica admitted
 * and spent on its local limits while Redis was away is added to the shared state, so a key that
 * used its limit during the outage does not get it again at once, and the outage's spend counts
 * against the shared budget. Before, the replica went back to Redis as if nothing had been
 * admitted (twice the limit in one window) and the outage's spend was never charged to the fleet.
 * One real gateway (in-process), real redis-server killed and restarted empty on its port.
 */
import { Redis } from "ioredis";
import { hashKey, keyIdFromDigest } from "../../../gateway/src/auth/key-hash";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { createTrafficControl } from "../../../gateway/src/traffic";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { metricValue } from "../../helpers/http-client";
import { chat } from "../traffic/http-helpers";

const KEY = "sk-outage-reconcile-0123456789";
const LIMIT = 6;

describe("Redis coming back after an outage (failOpen)", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 5 });
    gw = await startTestGateway(
      {
        logging: { level: "info" },
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { url: redis.url, failOpen: true, commandTimeoutMs: 500 },
        pricing: { m: { inputPerMTok: 1_000, outputPerMTok: 1_000 } },
        keys: [{ name: "k", key: KEY, limits: { requestsPerMinute: LIMIT, monthlyBudgetUsd: 100 } }],
      },
      { trafficControl: (config, deps) => createTrafficControl(config, { ...deps, redisReadyTimeoutMs: 5_000, redisProbeIntervalMs: 100 }) },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await redis.stop();
  });

  const fallback = async () => metricValue(await (await fetch(`${gw.url}/metrics`)).text(), "aigw_store_fallback");
  const send = async (n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await chat(gw.url, { model: "m" }, { authorization: `Bearer ${KEY}` });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses;
  };

  it("charges the outage's admissions and spend to Redis once it answers again", async () => {
    expect(await send(1)).toEqual([200]);
    await redis.stop("SIGKILL");
    const startedAt = Date.now();
    const during = await send(LIMIT + 2);
    expect(await fallback()).toBe(1);
    // The one before the outage is in the lost Redis: the local store admits its whole (one-replica)
    // limit, and one more every 10 s of a slow run.
    const duringAdmitted = during.filter((s) => s === 200).length;
    expect(duringAdmitted).toBeGreaterThanOrEqual(LIMIT);
    expect(duringAdmitted).toBeLessThanOrEqual(LIMIT + Math.floor((Date.now() - startedAt) / (60_000 / LIMIT)));
    expect(during.filter((s) => s !== 200 && s !== 429)).toEqual([]);

    await redis.start();
    await eventually(async () => (await fallback()) === 0, 15_000);
    // Past the outage's last refusal (one refill, 10 s), so that no refusal the gateway still holds answers for Redis.
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 11_000 - Date.now())));
    const after = await send(LIMIT);
    // One more every 10 s of a slow run; not a fresh limit (the old code admitted all six).
    const refills = Math.floor((Date.now() - startedAt) / (60_000 / LIMIT));
    expect(after.filter((s) => s === 200).length).toBeLessThanOrEqual(refills);
    expect(after.filter((s) => s !== 200 && s !== 429)).toEqual([]);

    // The outage's spend (6 requests) is in the shared budget, with whatever was admitted after.
    const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      const month = new Date().toISOString().slice(0, 7);
      const spent = async () => Number(await check.get("aigw:" + redisKeys.keySpend(keyIdFromDigest(hashKey(KEY)), month)));
      // Every request costs the same: the shared total is the outage's and those admitted after
      // (settled after their answers: waited for).
      const costs = gw.logs().filter((l) => l.msg === "request" && l.status === 200).map((l) => l.costUsd as number);
      expect(new Set(costs).size).toBe(1);
      const perRequestNano = Math.round(costs[0] * 1e9);
      const expected = perRequestNano * (duringAdmitted + after.filter((s) => s === 200).length);
      await eventually(async () => (await spent()) === expected, 5_000).catch(() => undefined);
      expect(await spent()).toBe(expected);
    } finally {
      check.disconnect();
    }
  }, 60_000);
});
