/**
 * Multi-process mode on a shared Redis (the real entry point, WORKERS=2, real redis-server): what
 * workers admitted is settled whichever way they stop. SIGTERM to the primary with streams open
 * in both workers: every stream finishes, then every concurrency lease is released and every
 * request's spend is in Redis. SIGKILL of every worker holding streams: their leases are not
 * released, and expire after `limits.leaseTtlMs`, so the key's concurrency comes back.
 */
import { Redis } from "ioredis";
import { Agent } from "undici";
import { hashKey, keyIdFromDigest } from "../../../gateway/src/auth/key-hash";
import { redisKeys } from "../../../gateway/src/store/redis-keys";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, testConfig, type SpawnedGateway, killIfRunning } from "../../helpers/gateway-harness";
import { freePort, startRedis, type TestRedis } from "../../helpers/redis-server";
import { chatBody, postJson, streamChat } from "../../chaos/support/http";
import { childPids, parseLines, spawnCluster } from "./support";

const TEST_MS = 120_000;
const KEY = "sk-cluster-settle-0123456789";
const STREAMS = 8;

describe("multi-process mode settles on Redis", () => {
  let redis: TestRedis;
  let check: Redis;
  let slow: MockUpstream;
  let gw: SpawnedGateway | null = null;
  const keyId = keyIdFromDigest(hashKey(KEY));
  const concurrencyKey = "aigw:" + redisKeys.concurrency(keyId);
  const month = () => new Date().toISOString().slice(0, 7);

  beforeAll(async () => {
    redis = await startRedis();
    check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    slow = await MockUpstream.start("slow", { kind: "ok", tokens: 20, interTokenMs: 100 });
  });
  afterEach(async () => {
    await killIfRunning(gw);
    gw = null;
  });
  afterAll(async () => {
    check.disconnect();
    await slow.stop();
    await redis.stop();
  });

  const config = (extra: Record<string, unknown> = {}) =>
    testConfig({
      logging: { level: "info" },
      server: { shutdownGraceMs: 20_000 },
      models: [{ name: "m", targets: [{ name: "slow", baseUrl: slow.baseUrl }] }],
      redis: { url: redis.url, failOpen: false },
      pricing: { m: { inputPerMTok: 1_000, outputPerMTok: 1_000 } },
      keys: [{ name: "k", key: KEY, limits: { concurrent: STREAMS, monthlyBudgetUsd: 1_000 } }],
      ...extra,
    });

  /** STREAMS streams, each on a connection of its own (so both workers take some), all started. */
  async function openStreams(url: string) {
    const agents = Array.from({ length: STREAMS }, () => new Agent({ connections: 1 }));
    const started = new Set<number>();
    const streams = agents.map((a, i) => streamChat(url, chatBody("m", { stream: true }), { dispatcher: a, timeoutMs: 30_000, headers: { authorization: `Bearer ${KEY}` }, onEvent: (n) => n >= 1 && started.add(i) }));
    await eventually(() => started.size === STREAMS, 20_000);
    return { streams, close: () => Promise.all(agents.map((a) => a.close())) };
  }

  it("SIGTERM: every stream finishes, then every lease is released and every request's spend is in Redis", async () => {
    await check.flushall();
    gw = await spawnCluster(config(), 2);
    const open = await openStreams(gw.url);
    expect(await check.zcard(concurrencyKey)).toBe(STREAMS);
    gw.kill("SIGTERM");
    const results = await Promise.all(open.streams);
    expect(await gw.exited).toBe(0);
    await open.close();
    expect(results.filter((s) => s.status !== 200 || !s.done || s.transportError !== null)).toEqual([]);
    expect(await check.zcard(concurrencyKey)).toBe(0);
    const spent = Number(await check.get("aigw:" + redisKeys.keySpend(keyId, month())));
    expect(spent).toBeGreaterThan(0);
    // Each stream costs the same: the total is a multiple of STREAMS, one per stream.
    expect(spent % STREAMS).toBe(0);
  }, TEST_MS);

  it("SIGKILL of the workers: their leases expire after limits.leaseTtlMs and the key's concurrency comes back", async () => {
    await check.flushall();
    // A fixed port: with every worker dead the primary closes the shared socket, and port 0 would
    // give the replacements another one.
    gw = await spawnCluster(config({ limits: { leaseTtlMs: 2_000 }, server: { host: "127.0.0.1", port: await freePort(), shutdownGraceMs: 20_000, overload: { maxEventLoopLagMs: 0, maxAcceptDelayMs: 0 } } }), 2);
    const g = gw;
    const open = await openStreams(g.url);
    expect(await check.zcard(concurrencyKey)).toBe(STREAMS);
    for (const pid of childPids(g.child.pid!)) process.kill(pid, "SIGKILL");
    await Promise.all(open.streams);
    await open.close();
    const killedAt = Date.now();
    // Replacements serve; the dead workers' slots are still held until their leases expire.
    await eventually(() => parseLines(g.output()).json.filter((l) => l.msg === "gateway listening").length === 4, 20_000);
    const agent = new Agent({ connections: 1 });
    const first = await postJson(g.url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { authorization: `Bearer ${KEY}` }, timeoutMs: 30_000 });
    // Refused while the leases live (when the replacements were quick enough to tell).
    if (Date.now() - killedAt < 1_500) expect(first.status).toBe(429);
    else expect([200, 429]).toContain(first.status);
    await eventually(async () => (await check.zcard(concurrencyKey)) === 0, 15_000);
    const after = await postJson(g.url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { authorization: `Bearer ${KEY}` }, timeoutMs: 30_000 });
    expect(after.status).toBe(200);
    await agent.close();
  }, TEST_MS);
});
