/**
 * A key with one concurrency slot gets it back on every way a request can end: an upstream
 * error, the deadline, a client that leaves, a stream cut mid-way, a normal answer. In memory
 * and in Redis (where the lease set must end empty). A slot that leaked would refuse the key
 * with 429 forever, so after each exit the next request must get through.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream, NextBehavior, type Behavior } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore, redisKeys } from "../../helpers/redis-store-check";
import { Redis } from "ioredis";
import { eventually } from "./fakes";
import { chat, startTrafficGateway } from "./http-helpers";

const KEY = "sk-conc-one-slot-8c2e4a";
const auth = { authorization: `Bearer ${KEY}` };

describe.each(["memory", "redis"] as const)("concurrency slot released on every exit path (%s store)", (store) => {
  let redis: TestRedis | null = null;
  let upstream: MockUpstream;
  let gw: TestGateway;
  /** The next upstream request answers as told with once(); every later one normally. */
  const script = new NextBehavior();

  beforeAll(async () => {
    if (store === "redis") redis = await startRedis();
    upstream = await MockUpstream.start("up", script.take);
    gw = await startTrafficGateway({
      // Long timeouts, so only the exit under test can free the slot within expectSlotFree's
      // 10 s; "tight" times out its upstream after 1.5 s.
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "tight", targets: [{ name: "up", baseUrl: upstream.baseUrl, timeoutMs: 1_500 }] },
      ],
      upstreamDefaults: { maxAttempts: 1, deadlineMs: 60_000, timeoutMs: 60_000 },
      passiveHealth: { failures: 1_000 },
      ...(redis ? { redis: { url: redis.url } } : {}),
      keys: [{ name: "one", key: KEY, limits: { concurrent: 1 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await redis?.stop();
  });

  /** The slot is free again: a normal request is admitted (release is written after the answer). */
  async function expectSlotFree(): Promise<void> {
    let last = 0;
    await eventually(async () => {
      const res = await chat(gw.url, { model: "m" }, auth);
      await res.arrayBuffer();
      last = res.status;
      return res.status === 200;
    }, 10_000, 50).catch(() => undefined);
    expect({ status: last }).toEqual({ status: 200 });
    if (redis) {
      const client = new Redis(redis.url);
      try {
        await eventually(async () => (await client.zcard("aigw:conc:one")) === 0, 5_000);
      } finally {
        client.disconnect();
      }
    }
  }

  it("holds the slot while a request runs (the check is real)", async () => {
    script.once({ kind: "ok", tokens: 50, interTokenMs: 20 });
    const running = await chat(gw.url, { model: "m", stream: true }, auth);
    expect(running.status).toBe(200);
    const refused = await chat(gw.url, { model: "m" }, auth);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/concurrent/);
    await running.text();
    await expectSlotFree();
    if (redis) await expectRedisIsTheStore(gw.url, redis.url, []);
  });

  it("after an upstream error (502)", async () => {
    script.once({ kind: "status", status: 500 });
    const res = await chat(gw.url, { model: "m" }, auth);
    expect(res.status).toBe(502);
    await res.arrayBuffer();
    await expectSlotFree();
  });

  it("after the upstream timeout (504)", async () => {
    script.once({ kind: "hang" });
    const res = await chat(gw.url, { model: "tight" }, auth);
    expect(res.status).toBe(504);
    await res.arrayBuffer();
    await expectSlotFree();
  });

  it("after a client that leaves while the upstream is still thinking", async () => {
    script.once({ kind: "hang" });
    const before = upstream.completions.length;
    const controller = new AbortController();
    const aborted = fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      signal: controller.signal,
    }).then(
      () => "answered",
      () => "aborted",
    );
    // The request holds the slot and waits upstream (which would hang for 60 s); then the client goes.
    await eventually(() => upstream.completions.length > before);
    controller.abort();
    expect(await aborted).toBe("aborted");
    await expectSlotFree();
  });

  it("after a stream cut mid-way (error event to the client)", async () => {
    script.once({ kind: "cut-stream", afterEvents: 3 });
    const res = await chat(gw.url, { model: "m", stream: true }, auth);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("upstream_stream_interrupted");
    await expectSlotFree();
  });

  it("after a client that leaves mid-stream", async () => {
    script.once({ kind: "ok", tokens: 5_000, interTokenMs: 20 }); // 100 s: only the abort can end it in time
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    await expectSlotFree();
    if (redis) expect(await redisKeys(redis.url, "aigw:conc:*")).toEqual([]);
  });
});
