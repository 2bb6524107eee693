/**
 * Token reservation and settlement through the pipeline, for plain and streaming responses:
 * a request reserves prompt + max_tokens at admission; the real usage (from the JSON body or
 * the stream's usage chunk) replaces the reservation when it ends. A stream cut before its
 * usage chunk settles to the gateway's own count (prompt estimate + deltas forwarded), marked
 * estimated (it used to keep its whole reservation).
 */
import { countChatTokens } from "../../../gateway/src/limits/tokens";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore } from "../../helpers/redis-store-check";
import { chat, startTrafficGateway } from "./http-helpers";

const KEY = { authorization: "Bearer sk-tok-0123456789" };
const LIMIT = 1_000;
const prompt = countChatTokens({ messages: [{ role: "user", content: "hello world" }] });

describe.each(["memory", "redis"] as const)("token settlement over HTTP (%s store)", (store) => {
  let redis: TestRedis | null = null;
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeEach(async () => {
    if (store === "redis") redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      ...(redis ? { redis: { url: redis.url } } : {}),
      keys: [{ name: "tok", key: "sk-tok-0123456789", limits: { tokensPerMinute: LIMIT } }],
    });
  });
  /** The redis variant must run on Redis, not on the memory fallback. */
  const expectStore = async () => {
    if (redis) await expectRedisIsTheStore(gw.url, redis.url, ["aigw:rl:{k:k-*}:tpm"]);
  };

  afterEach(async () => {
    await gw.close();
    await upstream.stop();
    await redis?.stop();
    redis = null;
  });

  // The first request reserves ~520 tokens but uses ~20; the second reserves ~900. Only a
  // settled first request leaves room for the second (a refill of 400 tokens takes 24 s).
  const big = { model: "m", max_tokens: 520 - prompt };
  const second = { model: "m", max_tokens: 900 - prompt };

  it("reserves at admission and settles a plain response to its usage", async () => {
    const first = await chat(gw.url, big, KEY);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBe(LIMIT - 520);
    const usage = ((await first.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    const next = await chat(gw.url, second, KEY);
    expect(next.status).toBe(200);
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThanOrEqual(LIMIT - usage - 900);
    await next.arrayBuffer();
    await expectStore();
  });

  it("settles a streaming response with the usage chunk the gateway asked for", async () => {
    const first = await chat(gw.url, { ...big, stream: true }, KEY);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBe(LIMIT - 520);
    const text = await first.text();
    expect(text).toContain("[DONE]");
    expect(text).not.toContain('"usage":{'); // the client did not ask for usage
    const next = await chat(gw.url, { ...second, stream: true }, KEY);
    expect(next.status).toBe(200);
    await next.text();
    await expectStore();
  });

  it("settles a stream cut before its usage chunk to the gateway's own count, marked estimated", async () => {
    upstream.behavior = { kind: "cut-stream", afterEvents: 3 };
    const first = await chat(gw.url, { ...big, stream: true }, KEY);
    expect(first.status).toBe(200);
    await first.text().catch(() => "");
    upstream.behavior = { kind: "ok", tokens: 8 };
    const next = await chat(gw.url, second, KEY);
    expect(next.status).toBe(200);
    // The cut stream was charged its prompt and the few deltas it forwarded, not its 520 tokens.
    expect(Number(next.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThanOrEqual(LIMIT - 900 - prompt - 10);
    await next.arrayBuffer();
    const cut = gw.logs().find((l) => l.msg === "request" && l.usageEstimated === true);
    expect(cut).toMatchObject({ promptTokens: prompt, status: 200 });
    expect(cut!.completionTokens as number).toBeGreaterThan(0);
    await expectStore();
  });
});
