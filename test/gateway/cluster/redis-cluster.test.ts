/**
 * Limits on a real Redis Cluster (three masters, one replica each, started by the test): slots
 * as Redis computes them, per-slot batching in the limit store, a key with a team budget across
 * two slots, exact limits across two gateway processes, and a master killed under load with its
 * replica promoted, what was admitted during the switch bounded.
 */
import { Agent } from "undici";
import { keySlot } from "../../../gateway/src/store/key-slot";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { createRedisClient, waitForReady, type RedisClient } from "../../../gateway/src/store/redis-client";
import { RedisStore } from "../../../gateway/src/limits/redis-store";
import type { AdmitInput } from "../../../gateway/src/limits/store";
import { recordingLogger, recordingMetrics } from "../traffic/fakes";
import { eventually, spawnGateway, startTestGateway, type SpawnedGateway, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedisCluster, type TestRedisCluster } from "../../helpers/redis-cluster";
import { metricValue } from "../../helpers/http-client";
import { chatBody, postJson } from "../../chaos/support/http";
import { execFileSync } from "node:child_process";

const HOUR = 3_600_000;
const KEYS = Array.from({ length: 6 }, (_, i) => ({ name: `user${i}`, secret: `sk-cluster-user-${i}-0123456789` }));

describe("limits on a Redis Cluster", () => {
  let cluster: TestRedisCluster;
  let upstream: MockUpstream;
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await upstream.stop();
    await cluster.stop();
  });

  async function connect(): Promise<RedisClient> {
    const client = createRedisClient({ cluster: cluster.urls, commandTimeoutMs: 5_000 }, { logger: recordingLogger(), metrics: recordingMetrics() });
    clients.push(client);
    expect(await waitForReady(client, 10_000)).toBe(true);
    return client;
  }

  it("computes each key's slot as Redis does, and keeps a key's state and its team's on one slot each", () => {
    const samples = ["aigw:" + redisKeys.requestsPerMinute("k-1"), "aigw:" + redisKeys.teamSpend("lab", "2026-11"), "aigw:" + redisKeys.perIp("10.0.0.1"), "plain-key", "a{}b", "{user1000}.following"];
    for (const key of samples) expect({ key, slot: keySlot(key) }).toEqual({ key, slot: Number(execFileSync("redis-cli", ["-p", String(cluster.nodes[0].port), "CLUSTER", "KEYSLOT", key], { encoding: "utf8" }).trim()) });
    const k = "k-abc";
    const own = [redisKeys.requestsPerMinute(k), redisKeys.tokensPerMinute(k), redisKeys.concurrency(k), redisKeys.keySpend(k, "2026-11"), redisKeys.reservations(redisKeys.keySpend(k, "2026-11"))];
    expect(new Set(own.map((key) => keySlot("aigw:" + key))).size).toBe(1);
  });

  it("admits exactly each key's limit when one turn's batch spans many slots and every master", async () => {
    const store = new RedisStore(await connect(), { prefix: "batch:" });
    const ids = Array.from({ length: 40 }, (_, i) => `k-batch-${i}`);
    expect(new Set(ids.map((id) => keySlot("batch:" + redisKeys.requestsPerMinute(id)))).size).toBe(40);
    const input = (id: string): AdmitInput => ({ budgets: [], rates: [{ key: redisKeys.requestsPerMinute(id), limit: 5, periodMs: HOUR, cost: 1, sticky: true }], concurrency: null });
    // 400 admissions in one turn: 10 per key, over 40 slots on three masters.
    const results = await Promise.all(ids.flatMap((id) => Array.from({ length: 10 }, () => store.admit(input(id)))));
    const admitted = new Map<string, number>();
    results.forEach((r, i) => r.allowed && admitted.set(ids[Math.floor(i / 10)], (admitted.get(ids[Math.floor(i / 10)]) ?? 0) + 1));
    expect([...admitted.values()]).toEqual(ids.map(() => 5));
    await store.close();
  });

  it("admits a key with a team budget over two slots, and undoes the key's part when the team refuses", async () => {
    const store = new RedisStore(await connect(), { prefix: "split:" });
    const keyBudget = redisKeys.keySpend("k-split", "2026-11");
    const teamBudget = redisKeys.teamSpend("split-team", "2026-11");
    expect(keySlot("split:" + keyBudget)).not.toBe(keySlot("split:" + teamBudget));
    const request = (lease: string): AdmitInput => ({
      budgets: [
        { key: keyBudget, limitNano: 10_000, reserveNano: 3_000 },
        { key: teamBudget, limitNano: 5_000, reserveNano: 3_000 },
      ],
      rates: [{ key: redisKeys.tokensPerMinute("k-split"), limit: 100, periodMs: HOUR, cost: 40 }],
      concurrency: { key: redisKeys.concurrency("k-split"), limit: 5, leaseId: lease },
      leaseId: lease,
    });
    const first = await store.admit(request("l1"));
    expect(first.allowed).toBe(true);
    expect(first.spentNano).toEqual([0, 0]);
    // The team's $5k holds one $3k reservation: the second is refused by the team budget (index 1)…
    const second = await store.admit(request("l2"));
    expect(second).toMatchObject({ allowed: false, failed: { kind: "budget", index: 1 } });
    // …and its key part was undone: 40 tokens refunded, its slot and key reservation released.
    const client = clients[clients.length - 1];
    await new Promise((r) => setTimeout(r, 200));
    expect(await client.zcard("split:" + redisKeys.concurrency("k-split"))).toBe(1);
    expect(await client.zcard("split:" + redisKeys.reservations(keyBudget))).toBe(1);
    const third = await store.admit({ budgets: [], rates: [{ key: redisKeys.tokensPerMinute("k-split"), limit: 100, periodMs: HOUR, cost: 60 }], concurrency: null });
    expect(third.allowed).toBe(true); // 40 + 60 = 100: the refused request's 40 did not stay
    // Settling the first across both slots adds its spend to both.
    const settled = await first.store.settle({ rates: [], concurrency: { key: redisKeys.concurrency("k-split"), leaseId: "l1" }, spends: [{ key: keyBudget, addNano: 2_000, ttlMs: HOUR }, { key: teamBudget, addNano: 2_000, ttlMs: HOUR }], reservations: [{ key: keyBudget, leaseId: "l1", reserveNano: 3_000 }, { key: teamBudget, leaseId: "l1", reserveNano: 3_000 }] });
    expect(settled.spentNano).toEqual([2_000, 2_000]);
    expect(await client.zcard("split:" + redisKeys.concurrency("k-split"))).toBe(0);
    await store.close();
  });

  describe("two gateway processes", () => {
    const gateways: SpawnedGateway[] = [];
    afterAll(async () => {
      for (const g of gateways) {
        g.kill("SIGTERM");
        await g.exited;
      }
    });

    it("admit exactly each key's requests-per-minute limit in total, keys spread over the masters", async () => {
      const config = {
        server: { host: "127.0.0.1", port: 0 },
        healthCheck: { enabled: false },
        logging: { level: "info" as const, accessLog: false },
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { cluster: cluster.urls.slice(0, 2), commandTimeoutMs: 5_000 },
        keys: KEYS.map((k) => ({ name: k.name, key: k.secret, team: "t", limits: { requestsPerMinute: 12 } })),
        teams: { t: { monthlyBudgetUsd: 1_000 } },
        pricing: { m: { inputPerMTok: 1, outputPerMTok: 1 } },
      };
      for (let i = 0; i < 2; i++) gateways.push(await spawnGateway(config));
      const agent = new Agent({ connections: 16 });
      const startedAt = Date.now();
      const answers = await Promise.all(
        KEYS.flatMap((k, ki) => Array.from({ length: 30 }, (_, i) => postJson(gateways[(i + ki) % 2].url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { authorization: `Bearer ${k.secret}` }, timeoutMs: 30_000 }))),
      );
      await agent.close();
      // 12 a minute: one more every 5 s of a slow run.
      const refills = Math.floor((Date.now() - startedAt) / 5_000);
      const perKey = KEYS.map((_, ki) => answers.slice(ki * 30, ki * 30 + 30).filter((a) => a.status === 200).length);
      for (const n of perKey) {
        expect(n).toBeGreaterThanOrEqual(12);
        expect(n).toBeLessThanOrEqual(12 + refills);
      }
      expect(answers.filter((a) => a.status !== 200 && a.status !== 429)).toEqual([]);
      for (const g of gateways) expect(await metricValue(await (await fetch(`${g.url}/metrics`)).text(), "aigw_store_fallback")).toBe(0);
      // The keys' state sits on more than one master.
      const masters = await cluster.masters();
      const holding = await Promise.all(masters.map(async (port) => Number(execFileSync("redis-cli", ["-p", String(port), "DBSIZE"], { encoding: "utf8" }).trim()) > 0));
      expect(holding.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    }, 120_000);
  });

  describe("a master killed under load", () => {
    let gw: TestGateway | null = null;
    afterAll(async () => {
      await gw?.close();
    });

    it("refuses while the slot has no master (failOpen: false), then goes on with the promoted replica; admitted stays within the limit plus writes lost in the switch", async () => {
      const LIMIT = 60;
      const secret = "sk-cluster-failover-0123456789";
      gw = await startTestGateway({
        logging: { level: "warn" },
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { cluster: cluster.urls, keyPrefix: "fo:", commandTimeoutMs: 1_000, failOpen: false },
        keys: [{ name: "victim", key: secret, limits: { requestsPerMinute: LIMIT } }],
      });
      const url = gw.url;
      const agent = new Agent({ connections: 8 });
      const statuses: number[] = [];
      let killedAt = -1;
      let stop = false;
      // The senders hold once a third of the limit is admitted, until the master is killed: on a
      // busy machine finding the slot's master took long enough for them to admit all of it first.
      let resumeLoad = () => {};
      const killed = new Promise<void>((resolve) => { resumeLoad = resolve; });
      const send = async () => {
        while (!stop) {
          if (killedAt < 0 && statuses.filter((s) => s === 200).length >= LIMIT / 3) await killed;
          const answer = await postJson(url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { authorization: `Bearer ${secret}` }, timeoutMs: 30_000 });
          statuses.push(answer.status);
          if (answer.status !== 200 && answer.status !== 429 && answer.status !== 503) throw new Error(`unexpected ${answer.status}: ${answer.text}`);
          // Until the limit is reached and the promoted replica refuses past it (a slow switch on a
          // busy machine must not use up the run with 503s: they are paced), bounded in count.
          const admittedSoFar = statuses.filter((s) => s === 200).length;
          if (statuses.length >= 3_000 || (killedAt >= 0 && admittedSoFar >= LIMIT && statuses.slice(killedAt).includes(429))) stop = true;
          if (answer.status === 503) await new Promise((r) => setTimeout(r, 20));
        }
      };
      const startedAt = Date.now();
      const load = Promise.all(Array.from({ length: 8 }, send));
      // Kill the master of the key's slot once a third of the limit is admitted.
      while (statuses.filter((s) => s === 200).length < LIMIT / 3) await new Promise((r) => setTimeout(r, 5));
      const victimSlot = await findRpmSlot(cluster);
      const master = await cluster.masterOf(victimSlot);
      const admittedBefore = statuses.filter((s) => s === 200).length;
      await cluster.kill(master);
      killedAt = statuses.length;
      resumeLoad();
      await cluster.waitHealthy(30_000);
      await load;
      await agent.close();
      const admitted = statuses.filter((s) => s === 200).length;
      // GCRA refills one request every 60 s / LIMIT: what the run's length allowed on top of the limit.
      const allowed = LIMIT + Math.floor((Date.now() - startedAt) / (60_000 / LIMIT));
      const refusedDuringSwitch = statuses.slice(killedAt).filter((s) => s === 503).length;
      process.stdout.write(`failover: admitted ${admitted}, allowed ${allowed} (limit ${LIMIT} plus refills), ${admittedBefore} before the kill, ${refusedDuringSwitch} refused with 503 during the switch, ${statuses.length} requests in ${Date.now() - startedAt} ms\n`);
      expect(refusedDuringSwitch).toBeGreaterThan(0);
      expect(await cluster.masterOf(victimSlot)).not.toBe(master);
      // Asynchronous replication may lose the master's last writes before the kill: at most the
      // admissions then in flight (8 connections) may be counted again by the promoted replica.
      expect(admitted).toBeGreaterThanOrEqual(LIMIT);
      expect(admitted).toBeLessThanOrEqual(allowed + 8);
      // After the switch the gateway is back on the cluster.
      await eventually(async () => metricValue(await (await fetch(`${url}/metrics`)).text(), "aigw_store_fallback") === 0, 15_000);
    }, 120_000);
  });
});

/** The slot of the one requests-per-minute key in the cluster (the failover test's key). */
async function findRpmSlot(cluster: TestRedisCluster): Promise<number> {
  for (const port of await cluster.masters()) {
    const keys = execFileSync("redis-cli", ["-p", String(port), "--scan", "--pattern", "fo:rl:*:rpm"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    if (keys.length > 0) return keySlot(keys[0]);
  }
  throw new Error("no rpm key in the cluster");
}
