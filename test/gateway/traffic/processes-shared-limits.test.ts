/**
 * Three real gateway processes (the compiled `npm start` entry point) sharing one Redis: under
 * concurrent load they admit exactly the per-key requests-per-minute limit in total. The key
 * comes from the environment (`${ALICE_KEY}`) and never shows in their output or in Redis.
 */
import { spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore } from "../../helpers/redis-store-check";
import { chat } from "./http-helpers";
import { dumpRedis } from "./redis-dump";

const ALICE_KEY = "sk-alice-proc-5e3b9d1c70";

describe("three gateway processes sharing one Redis", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  const gateways: SpawnedGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    const config = {
      server: { host: "127.0.0.1", port: 0 },
      healthCheck: { enabled: false },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      // A loaded test machine can stall a process past the default 500 ms command timeout, which
      // (correctly) falls back to local limits; that is the outage test's subject, not this one's.
      redis: { url: redis.url, commandTimeoutMs: 5_000 },
      keys: [{ name: "alice", key: "${ALICE_KEY}", limits: { requestsPerMinute: 15 } }],
    };
    for (let i = 0; i < 3; i++) gateways.push(await spawnGateway(config, { ALICE_KEY }));
  });
  afterAll(async () => {
    for (const g of gateways) {
      g.kill("SIGTERM");
      await g.exited;
    }
    await upstream.stop();
    await redis.stop();
  });

  it("admit exactly the per-key requests-per-minute limit in total", async () => {
    // 15 per minute: a slot refills every 4 s, far longer than this burst takes.
    const startedAt = Date.now();
    const responses = await Promise.all(Array.from({ length: 90 }, (_, i) => chat(gateways[i % 3].url, { model: "m" }, { authorization: `Bearer ${ALICE_KEY}` })));
    // A busy machine can stretch the burst past 4 s: each full 4 s refills one more request.
    const refills = Math.floor((Date.now() - startedAt) / 4_000);
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    const admitted = statuses.filter((s) => s === 200).length;
    // Per-process limits would admit 45.
    if (admitted < 15 || admitted > 15 + refills) process.stderr.write(gateways.map((g) => g.output()).join("\n----\n"));
    expect(admitted).toBeGreaterThanOrEqual(15);
    expect(admitted).toBeLessThanOrEqual(15 + refills);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90 - admitted);
    expect(upstream.completions).toHaveLength(admitted);
    expect(await dumpRedis(redis.url)).not.toContain(ALICE_KEY);
    for (const g of gateways) expect(g.output()).not.toContain(ALICE_KEY);
    await expectRedisIsTheStore(gateways.map((g) => g.url), redis.url, ["aigw:rl:{k:k-*}:rpm"]);
  });
});
