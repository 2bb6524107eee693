/**
 * The admin API on a real Redis Cluster (three masters, one replica each): the fleet's daily
 * spend rollups, read for a month (one hash per day, the days spread over every slot) and
 * written by every flush, and runtime keys created, used and listed. A pipeline of commands on
 * keys of several slots is refused by the cluster client, so a month's spend answered 500 and
 * a flush spanning two days failed (and was retried) forever.
 */
import { startTestGateway, eventually, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedisCluster, type TestRedisCluster } from "../../helpers/redis-cluster";
import { keySlot } from "../../../gateway/src/store/key-slot";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { createRedisClient, waitForReady } from "../../../gateway/src/store/redis-client";
import { RollupStore } from "../../../gateway/src/budget/rollup-store";
import { emptyCounters } from "../../../gateway/src/budget/rollup";
import { recordingLogger, recordingMetrics } from "../traffic/fakes";
import { chat } from "../traffic/http-helpers";

const ADMIN = "admin-key-cluster-spend-0123";
const KEY = "sk-cluster-spend-key-0123456789";

describe("admin API on a Redis Cluster", () => {
  let cluster: TestRedisCluster;
  let upstream: MockUpstream;
  let gw: TestGateway;
  const admin = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" } });

  beforeAll(async () => {
    cluster = await startRedisCluster();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 5 });
    gw = await startTestGateway({
      logging: { level: "warn" },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { cluster: cluster.urls, commandTimeoutMs: 2_000, failOpen: false },
      auth: { adminKey: ADMIN },
      spend: { flushIntervalMs: 100 },
      pricing: { m: { inputPerMTok: 1_000, outputPerMTok: 2_000 } },
      keys: [{ name: "cfg", key: KEY, team: "ops", limits: { requestsPerMinute: 100 } }],
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await upstream.stop();
    await cluster.stop();
  });

  it("answers a month of fleet spend from the rollups, days on many slots", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const days = Array.from({ length: 28 }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
    expect(new Set(days.map((d) => keySlot(redisKeys.spendDay("aigw:", d)))).size).toBeGreaterThan(1);
    for (let i = 0; i < 3; i++) expect((await chat(gw.url, { model: "m" }, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    let body: { scope?: string; totals?: { requests: number } } = {};
    await eventually(async () => {
      const res = await admin(`/admin/spend/teams?month=${month}&interval=day`);
      expect(res.status).toBe(200);
      body = (await res.json()) as typeof body;
      return body.totals?.requests === 3;
    }, 10_000);
    expect(body.scope).toBe("fleet");
  });

  it("creates a runtime key, serves it, and lists it", async () => {
    const created = await admin("/admin/keys", { method: "POST", body: JSON.stringify({ name: "runtime-1", team: "ops", limits: { requestsPerMinute: 2 } }) });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const statuses: number[] = [];
    await eventually(async () => (await chat(gw.url, { model: "m" }, { authorization: `Bearer ${key}` })).status === 200, 10_000);
    for (let i = 0; i < 3; i++) statuses.push((await chat(gw.url, { model: "m" }, { authorization: `Bearer ${key}` })).status);
    expect(statuses).toContain(429);
    const list = (await (await admin("/admin/keys")).json()) as { data: { name: string }[] };
    expect(list.data.map((k) => k.name)).toContain("runtime-1");
  });

  it("flushes a rollup that spans two days (midnight) into the cluster", async () => {
    const client = createRedisClient({ cluster: cluster.urls, commandTimeoutMs: 2_000 }, { logger: recordingLogger(), metrics: recordingMetrics() });
    try {
      expect(await waitForReady(client, 10_000)).toBe(true);
      let errors = 0;
      const store = new RollupStore(client, "flush:", { retentionMonths: 1, flushIntervalMs: 60_000, logger: recordingLogger(), onStoreError: () => errors++ });
      const subject = { key: "k", team: "t", model: "m" };
      const counters = { ...emptyCounters(), requests: 1, output_tokens: 3, cost_nano_usd: 4 };
      const dates = await midnightAcrossMasters(cluster, store);
      for (const date of dates) store.add(date, subject, counters);
      await store.flush();
      expect(errors).toBe(0);
      const read = await store.read(dates);
      expect([...read.keys()].sort()).toEqual(dates);
      await store.close();
    } finally {
      client.disconnect();
    }
  });
});

/** Two consecutive days whose rollup hashes are on different masters. */
async function midnightAcrossMasters(cluster: TestRedisCluster, store: RollupStore): Promise<[string, string]> {
  const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
  for (let n = 0; n < 365; n++) {
    const [a, b] = [day(n), day(n + 1)];
    if ((await cluster.masterOf(keySlot(store.dayKey(a)))) !== (await cluster.masterOf(keySlot(store.dayKey(b))))) return [a, b];
  }
  throw new Error("no two consecutive days on different masters");
}
