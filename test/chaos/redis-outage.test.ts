/**
 * Redis dies and comes back while two gateway replicas share it under load: no request is
 * lost (the replicas fall back to local limits), limits still hold locally during the outage
 * (each replica at its share of the last known fleet size),
 * and once Redis answers again the replicas go back to shared limits that bind across both.
 */
import { Redis } from "ioredis";
import { hashKey, keyIdFromDigest } from "../../gateway/src/auth/key-hash";
import { redisKeys } from "../../gateway/src/store/redis-keys";
import { Agent } from "undici";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { chatBody, postJson, streamChat } from "./support/http";

const LOAD_KEY = "sk-client-load-5b0c9e1d7a";
const TIGHT_KEY = "sk-client-tight-c4e8a2f619";
const LOCAL_KEY = "sk-client-local-91d3b7e02c";
const TIGHT_RPM = 6;

async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

describe("Redis dies and comes back under load", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let replicas: TestGateway[] = [];
  const agent = new Agent({ connections: 64 });

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 6, latencyMs: 5, interTokenMs: 5 });
    const config = {
      // A killed Redis fails commands at once (no offline queue); the timeout only guards a
      // stalled one, and must not trip on a busy test machine while Redis is up.
      redis: { url: redis.url, commandTimeoutMs: 2_000 },
      limits: { store: "redis" as const },
      keys: [
        { name: "load", key: LOAD_KEY, limits: { requestsPerMinute: 1_000_000 } },
        { name: "tight", key: TIGHT_KEY, limits: { requestsPerMinute: TIGHT_RPM } },
        { name: "local", key: LOCAL_KEY, limits: { requestsPerMinute: 4 } },
      ],
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
    };
    replicas = [await startTestGateway(config), await startTestGateway(config)];
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await redis.stop();
    await upstream.stop();
    await agent.close();
  });

  const as = (key: string) => ({ dispatcher: agent, headers: { authorization: `Bearer ${key}` } });

  it("loses no request through the outage, limits locally meanwhile, and shares limits again after", async () => {
    // Phases end on conditions, not on time; the whole test is bounded generously for a busy machine.
    const statuses = new Map<string, number>();
    const record = (phase: string, status: number) => statuses.set(`${phase} ${status}`, (statuses.get(`${phase} ${status}`) ?? 0) + 1);
    let phase = "before";
    let running = true;
    const loop = async (id: number) => {
      for (let i = 0; running; i++) {
        const url = replicas[(id + i) % 2].url;
        const label = phase;
        if (i % 3 === 0) {
          const answer = await streamChat(url, chatBody("m"), as(LOAD_KEY));
          record(label, answer.done && answer.transportError === null && answer.error === null ? answer.status : -1);
        } else record(label, (await postJson(url, "/v1/chat/completions", chatBody("m"), as(LOAD_KEY))).status);
      }
    };
    const loops = Array.from({ length: 8 }, (_, id) => loop(id));
    // Each phase lasts until it has served enough answers, however slow the machine is.
    const served = (p: string) => eventually(() => (statuses.get(`${p} 200`) ?? 0) > 10, 60_000);

    try {
      await served("before");
      // Both replicas have counted the fleet in Redis (heartbeats), so each knows its share.
      await eventually(() => replicas.every((r) => r.logs().some((l) => l.event === "fleet_size" && l.replicas === 2)), 10_000);
      phase = "outage";
      await redis.stop("SIGKILL");
      await eventually(async () => (await metric(replicas[0].url, "aigw_store_fallback")) === 1 && (await metric(replicas[1].url, "aigw_store_fallback")) === 1, 10_000);
      // During the outage each replica still enforces limits, on its own local store, at its
      // share of the fleet's: 4 a minute over 2 replicas is 2 here (the fleet admits 4, not 8).
      const local = [];
      for (let i = 0; i < 3; i++) local.push((await postJson(replicas[0].url, "/v1/chat/completions", chatBody("m"), as(LOCAL_KEY))).status);
      expect(local).toEqual([200, 200, 429]);
      await served("outage");

      phase = "recovery";
      await redis.start();
      await eventually(async () => (await metric(replicas[0].url, "aigw_store_fallback")) === 0 && (await metric(replicas[1].url, "aigw_store_fallback")) === 0, 10_000);
      phase = "after";
      await served("after");
    } finally {
      running = false;
      await Promise.all(loops);
    }

    // Nothing lost: every request of every phase was answered 200, completely.
    const summary = Object.fromEntries(statuses);
    for (const key of Object.keys(summary)) expect(key).toMatch(/ 200$/);
    for (const p of ["before", "outage", "after"]) expect(summary[`${p} 200`]).toBeGreaterThan(10);
    expect(await metric(replicas[0].url, "aigw_store_fallback")).toBe(0);
    expect(await metric(replicas[1].url, "aigw_store_fallback")).toBe(0);

    // Shared limits again: the tight key's allowance is one budget across both replicas.
    const tight: number[] = [];
    for (let i = 0; i < TIGHT_RPM + 1; i++) tight.push((await postJson(replicas[i % 2].url, "/v1/chat/completions", chatBody("m"), as(TIGHT_KEY))).status);
    expect(tight).toEqual([...Array.from({ length: TIGHT_RPM }, () => 200), 429]);
    const check = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await check.connect();
      // The tight key's state lives in the restarted Redis: the limits are shared there again.
      const tightRpm = "aigw:" + redisKeys.requestsPerMinute(keyIdFromDigest(hashKey(TIGHT_KEY)));
      expect(await check.keys(tightRpm)).toEqual([tightRpm]);
    } finally {
      check.disconnect();
    }
    console.log(`redis outage: ${JSON.stringify(summary)}`);
  }, 180_000);
});
