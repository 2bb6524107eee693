/**
 * A key's slot migrated between masters under load, as `redis-cli --cluster reshard` does it
 * (keys moved in MIGRATE batches): the source answers ASK for moved keys and TRYAGAIN for a
 * script whose keys are split between the two; the client follows, so every request is
 * answered 200 or 429 (never 503: failOpen is false) and the key gets its limit, no more.
 * (Found while testing: a slot whose keys stay split for longer than the client's 16 redirections,
 * about 1.6 s, as with keys moved one by one 300 ms apart, makes its scripts fail: 503, or local
 * limits with failOpen.) Real three-master cluster started by the test; an in-process gateway.
 */
import { execFileSync } from "node:child_process";
import { Agent } from "undici";
import { hashKey, keyIdFromDigest } from "../../../gateway/src/auth/key-hash";
import { keySlot } from "../../../gateway/src/store/key-slot";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedisCluster, type TestRedisCluster } from "../../helpers/redis-cluster";
import { chatBody, postJson } from "../../chaos/support/http";

const SECRET = "sk-cluster-reshard-0123456789";
const LIMIT = 40;
const cli = (port: number, ...args: string[]) => execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a slot migrated under load", () => {
  let cluster: TestRedisCluster;
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    gw = await startTestGateway({
      logging: { level: "warn" },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { cluster: cluster.urls, commandTimeoutMs: 2_000, failOpen: false },
      // Refusals answered at once, so the load stays dense through every migration.
      limits: { refusalDelayMs: 0 },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 1 } },
      keys: [{ name: "moving", key: SECRET, limits: { requestsPerMinute: LIMIT, tokensPerMinute: 1_000_000, concurrent: 8, monthlyBudgetUsd: 100 } }],
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await upstream.stop();
    await cluster.stop();
  });

  it("answers every request 200 or 429 while the key's slot moves, and admits the limit", async () => {
    const slot = keySlot("aigw:" + redisKeys.requestsPerMinute(keyIdFromDigest(hashKey(SECRET))));
    const source = await cluster.masterOf(slot);
    const target = (await cluster.masters()).find((p) => p !== source)!;
    const agent = new Agent({ connections: 4 });
    const statuses: number[] = [];
    let stop = false;
    const send = async () => {
      while (!stop && statuses.length < 2_000) {
        const answer = await postJson(gw.url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { authorization: `Bearer ${SECRET}` }, timeoutMs: 30_000 });
        statuses.push(answer.status);
        if (answer.status !== 200 && answer.status !== 429) throw new Error(`unexpected ${answer.status}: ${answer.text}`);
      }
    };
    const startedAt = Date.now();
    const load = Promise.all(Array.from({ length: 4 }, send));
    // Let the key's state exist, then move it key by key, slowly, with the load running.
    while (statuses.filter((s) => s === 200).length < 5) await sleep(5);
    // As `redis-cli --cluster reshard` moves a slot: IMPORTING/MIGRATING, its keys in MIGRATE
    // batches, then the new owner announced to every master. Back and forth, six times.
    let owner = source;
    let moved = 0;
    for (let round = 0; round < 6; round++) {
      const to = round % 2 === 0 ? target : source;
      const fromId = cli(owner, "CLUSTER", "MYID");
      const toId = cli(to, "CLUSTER", "MYID");
      cli(to, "CLUSTER", "SETSLOT", String(slot), "IMPORTING", fromId);
      cli(owner, "CLUSTER", "SETSLOT", String(slot), "MIGRATING", toId);
      for (;;) {
        const keys = cli(owner, "CLUSTER", "GETKEYSINSLOT", String(slot), "10").split("\n").filter(Boolean);
        if (keys.length === 0) break;
        cli(owner, "MIGRATE", "127.0.0.1", String(to), "", "0", "5000", "KEYS", ...keys);
        moved += keys.length;
      }
      for (const port of await cluster.masters()) cli(port, "CLUSTER", "SETSLOT", String(slot), "NODE", toId);
      owner = to;
      await sleep(400);
    }
    await sleep(500);
    stop = true;
    await load;
    await agent.close();
    expect(await cluster.masterOf(slot)).toBe(source);
    expect(moved).toBeGreaterThanOrEqual(6);
    const admitted = statuses.filter((s) => s === 200).length;
    const refills = Math.floor((Date.now() - startedAt) / (60_000 / LIMIT));
    process.stdout.write(`reshard: ${statuses.length} requests, ${admitted} admitted, limit ${LIMIT} + ${refills} refills, ${moved} keys moved\n`);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + refills);
  }, 120_000);
});
