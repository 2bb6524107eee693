/**
 * Cache pressure cannot evict limits, through HTTP on real redis-servers: the cache never writes
 * to the state Redis (it lives in its own Redis, `cache.redis`, or in process memory), answers
 * over `cache.maxEntryBytes` are not cached, and limit scripts keep working while large cache
 * writes are in flight.
 */
import { Redis } from "ioredis";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream, type Behavior } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { chat, metricValue, startTrafficGateway, type GatewayInput } from "./http-helpers";

const KiB = 1024;
const LIMITED = { authorization: "Bearer sk-limited-0123456789" };
const FLOODER = { authorization: "Bearer sk-flooder-0123456789" };
const KEYS: GatewayInput["keys"] = [
  { name: "limited", key: "sk-limited-0123456789", limits: { requestsPerMinute: 5 } },
  { name: "flooder", key: "sk-flooder-0123456789" },
];

/** Answers of `bytes` bytes for every request. */
const large = (bytes: number): Behavior => ({ kind: "large", bytes });

/** One cacheable request per index, each a distinct entry. */
function cacheable(url: string, i: number): Promise<Response> {
  return chat(url, { model: "m", temperature: 0, messages: [{ role: "user", content: `flood ${i}` }] }, FLOODER);
}

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
  return Promise.all(responses.map(async (p) => {
    const res = await p;
    await res.arrayBuffer();
    return res.status;
  }));
}

async function keysOf(url: string, pattern: string): Promise<string[]> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await client.keys(pattern);
  } finally {
    client.disconnect();
  }
}

/** The cache is written after the answer is sent: waits (bounded) until a key not in `before` appears. */
async function waitForNewKey(url: string, before: string[]): Promise<void> {
  const known = new Set(before);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await keysOf(url, "aigw:cache:*")).some((key) => !known.has(key))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the fresh answer was never written to the cache's Redis");
}

describe("the cache cannot evict limiter state", () => {
  const servers: { stop(): Promise<void> }[] = [];
  let gateway: TestGateway | null = null;
  afterEach(async () => {
    await gateway?.close();
    gateway = null;
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function redisWith(args: string[]): Promise<TestRedis> {
    const redis = await startRedis({ args });
    servers.push(redis);
    return redis;
  }

  async function upstreamWith(behavior: MockUpstream["behavior"]): Promise<MockUpstream> {
    const upstream = await MockUpstream.start("up", behavior);
    servers.push(upstream);
    return upstream;
  }

  async function gatewayWith(upstream: MockUpstream, input: Omit<GatewayInput, "models">): Promise<TestGateway> {
    gateway = await startTrafficGateway({ models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], keys: KEYS, ...input });
    return gateway;
  }

  it("keeps a 5-per-minute key at exactly 5 after a flood of large cacheable answers, with the state Redis short of memory", async () => {
    // The state Redis as it used to ship: a memory bound and volatile-ttl, which evicts the
    // shortest-lived keys first, i.e. the limiter's. Nothing but limits may use its memory.
    const state = await redisWith(["--maxmemory", "4mb", "--maxmemory-policy", "volatile-ttl"]);
    const upstream = await upstreamWith(large(900 * KiB));
    const gw = await gatewayWith(upstream, { redis: { url: state.url }, cache: { enabled: true, scope: "shared" } });

    expect(await statuses([0, 1, 2].map(() => chat(gw.url, { model: "m", temperature: 1 }, LIMITED)))).toEqual([200, 200, 200]);
    // 30 distinct answers of 900 KiB: 27 MB of cache entries, several times the state Redis's memory.
    for (let batch = 0; batch < 6; batch++) {
      expect(await statuses([0, 1, 2, 3, 4].map((i) => cacheable(gw.url, batch * 5 + i)))).toEqual([200, 200, 200, 200, 200]);
    }
    const after = await statuses([0, 1, 2, 3].map(() => chat(gw.url, { model: "m", temperature: 1 }, LIMITED)));
    expect(after.filter((s) => s === 200)).toHaveLength(2);
    expect(after.filter((s) => s === 429)).toHaveLength(2);
    expect(await keysOf(state.url, "*cache*")).toEqual([]);
    // The cache still works, in process memory.
    const again = await cacheable(gw.url, 29);
    expect(again.headers.get("x-cache")).toBe("HIT");
    await again.arrayBuffer();
  }, 120_000);

  it("writes the cache to its own Redis, and the limiter stays exact and shared (no fallback) while large writes are in flight", async () => {
    const state = await redisWith(["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]);
    const cacheRedis = await redisWith(["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"]);
    const upstream = await upstreamWith(large(900 * KiB));
    const gw = await gatewayWith(upstream, { redis: { url: state.url }, cache: { enabled: true, scope: "shared", redis: { url: cacheRedis.url } } });

    const flood = Array.from({ length: 20 }, (_, i) => cacheable(gw.url, i));
    const limited = Array.from({ length: 7 }, () => chat(gw.url, { model: "m", temperature: 1 }, LIMITED));
    const [flooded, admitted] = await Promise.all([statuses(flood), statuses(limited)]);
    expect(flooded.every((s) => s === 200)).toBe(true);
    expect(admitted.filter((s) => s === 200)).toHaveLength(5);
    expect(admitted.filter((s) => s === 429)).toHaveLength(2);
    expect(await metricValue(gw.url, "aigw_store_fallback")).toBe(0);
    expect(await metricValue(gw.url, 'aigw_store_errors_total{store="redis"}')).toBeNull();
    // Entries went to the cache's Redis (which evicts its own under allkeys-lru), none to the state Redis.
    expect(await keysOf(state.url, "*cache*")).toEqual([]);
    const floodKeys = await keysOf(cacheRedis.url, "aigw:cache:*");
    expect(floodKeys.length).toBeGreaterThan(0);
    // Which flood entries survived allkeys-lru depends on the order the concurrent writes landed
    // in, so the hit is checked on one fresh entry: written after the flood, the newest, never evicted.
    const miss = await cacheable(gw.url, 100);
    expect(miss.headers.get("x-cache")).toBe("MISS");
    await miss.arrayBuffer();
    await waitForNewKey(cacheRedis.url, floodKeys);
    const hit = await cacheable(gw.url, 100);
    expect(hit.headers.get("x-cache")).toBe("HIT");
    await hit.arrayBuffer();
  }, 120_000);

  it("does not cache answers over cache.maxEntryBytes", async () => {
    const upstream = await upstreamWith((request) => large(request.body.includes("flood 1") ? 1536 * KiB : 900 * KiB));
    const gw = await gatewayWith(upstream, { cache: { enabled: true, scope: "shared", maxEntryBytes: 1024 * KiB } });
    const seen: (string | null)[] = [];
    for (const i of [0, 0, 1, 1]) {
      const res = await cacheable(gw.url, i);
      seen.push(res.headers.get("x-cache"));
      await res.arrayBuffer();
    }
    expect(seen).toEqual(["MISS", "HIT", "MISS", "MISS"]);
    expect(upstream.completions).toHaveLength(3);
  }, 60_000);
});
