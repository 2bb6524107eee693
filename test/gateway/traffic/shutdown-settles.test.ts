/**
 * Shutdown with requests still running (grace 0: every connection closed at once) settles each of
 * them in Redis before the store connection closes: the concurrency leases are released and the
 * streamed output delivered so far is charged. A settlement sent after the connection's QUIT would
 * be lost: the key's slots held until the lease expires, and spend the budget never sees.
 */
import { Redis } from "ioredis";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually } from "./fakes";
import { chat, startTrafficGateway } from "./http-helpers";

const KEY = "sk-shutdown-settle-5d1f0b";
const LATE_KEY = "sk-shutdown-late-admit-93c1e2";
const auth = { authorization: `Bearer ${KEY}` };

describe("shutdown settles the requests it cuts (redis store)", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up");
    // Streams that would run for a minute, and non-streaming requests that never get an answer.
    upstream.behavior = (request) => request.json?.stream === true ? { kind: "ok", tokens: 2_000, interTokenMs: 30 } : { kind: "hang" };
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      upstreamDefaults: { maxAttempts: 1, deadlineMs: 120_000, timeoutMs: 120_000 },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 1_000 } },
      redis: { url: redis.url },
      keys: [{ name: "cut", key: KEY, limits: { concurrent: 20, monthlyBudgetUsd: 100 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await redis.stop();
  });

  it("releases every lease and charges the delivered stream output before it closes Redis", async () => {
    const streams = await Promise.all([1, 2, 3, 4].map(() => chat(gw.url, { model: "m", stream: true, max_tokens: 4_000 }, auth)));
    for (const res of streams) expect(res.status).toBe(200);
    const readers = streams.map((res) => res.body!.getReader());
    // Some output delivered on each stream before the cut.
    await Promise.all(readers.map((r) => r.read()));
    const hanging = [1, 2, 3].map(() => chat(gw.url, { model: "m", max_tokens: 16 }, auth).catch((err: unknown) => err));
    const client = new Redis(redis.url);
    try {
      // The key's id in Redis is derived from the key (not its name): find its lease set.
      let conc = "";
      await eventually(async () => {
        [conc = ""] = await client.keys("aigw:conc:*");
        return conc !== "" && (await client.zcard(conc)) === 7;
      }, 10_000);
      const tag = conc.slice("aigw:conc:".length);
      await eventually(async () => upstream.requests.length >= 7, 10_000);

      await gw.close();

      // Settled before close() returned: nothing left to expire, and the streams' output charged.
      const month = new Date().toISOString().slice(0, 7);
      const spend = `aigw:spend:${tag}:${month}`;
      expect({ leases: await client.zcard(conc), reservations: await client.zcard(`${spend}:resv`), held: Number((await client.get(`${spend}:held`)) ?? 0) }).toEqual({ leases: 0, reservations: 0, held: 0 });
      expect(Number(await client.get(spend))).toBeGreaterThan(0);
    } finally {
      client.disconnect();
      await gw.close();
      await Promise.all(hanging);
      for (const r of readers) await r.cancel().catch(() => undefined);
    }
  });

  it("settles admissions Redis answered only after the connections were closed", async () => {
    const second = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      upstreamDefaults: { maxAttempts: 1, deadlineMs: 120_000, timeoutMs: 120_000 },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 1_000 } },
      redis: { url: redis.url, failOpen: false },
      keys: [{ name: "late", key: LATE_KEY, limits: { concurrent: 50, monthlyBudgetUsd: 100 } }],
    });
    const client = new Redis(redis.url);
    const pauser = new Redis(redis.url);
    try {
      // Redis holds every command for a moment: the admissions below wait in it while the
      // gateway shuts down, and come back after the client connections are gone.
      await pauser.client("PAUSE", 800, "ALL");
      const late = Array.from({ length: 10 }, () => chat(second.url, { model: "m", max_tokens: 16 }, { authorization: `Bearer ${LATE_KEY}` }).catch((err: unknown) => err));
      await new Promise((r) => setTimeout(r, 300));
      await second.close();
      await Promise.all(late);
      const [conc] = await client.keys("aigw:conc:*");
      const leases = conc === undefined ? 0 : await client.zcard(conc);
      const [held] = await client.keys("aigw:spend:*:held");
      const reserved = held === undefined ? 0 : Number(await client.get(held));
      expect({ leases, reserved }).toEqual({ leases: 0, reserved: 0 });
    } finally {
      client.disconnect();
      pauser.disconnect();
      await second.close();
    }
  });
});
