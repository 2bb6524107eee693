/** Cache keys, the deterministic rule, and the byte-bounded LRU. */
import { cacheKey, canonicalJson } from "../../../gateway/src/cache/cache-key";
import { cacheDecision } from "../../../gateway/src/cache/cacheable";
import { decodeEntry, encodeEntry } from "../../../gateway/src/cache/cache-store";
import { MemoryCache } from "../../../gateway/src/cache/memory-cache";

const body = { model: "m", temperature: 0, messages: [{ role: "user", content: "hi" }] };

describe("cache keys", () => {
  it("writes canonical JSON with sorted keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it("ignores field order and fields that do not change the answer", () => {
    const base = cacheKey("shared", "chat.completions", "m", body);
    expect(cacheKey("shared", "chat.completions", "m", { messages: body.messages, temperature: 0, model: "m", stream: false, user: "u1", metadata: { a: 1 } })).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs by scope, route, model and content", () => {
    const base = cacheKey("shared", "chat.completions", "m", body);
    expect(cacheKey("key:alice", "chat.completions", "m", body)).not.toBe(base);
    expect(cacheKey("shared", "completions", "m", body)).not.toBe(base);
    expect(cacheKey("shared", "chat.completions", "n", body)).not.toBe(base);
    expect(cacheKey("shared", "chat.completions", "m", { ...body, max_tokens: 5 })).not.toBe(base);
  });
});

describe("cacheDecision", () => {
  it("caches non-streaming temperature-0 requests and embeddings", () => {
    expect(cacheDecision("chat.completions", body, false, {})).toBe("cacheable");
    expect(cacheDecision("embeddings", { input: "x" }, false, {})).toBe("cacheable");
  });

  it("bypasses streams, sampling and other routes unless the client opts in", () => {
    expect(cacheDecision("chat.completions", body, true, {})).toBe("bypass");
    expect(cacheDecision("chat.completions", { ...body, temperature: 0.7 }, false, {})).toBe("bypass");
    expect(cacheDecision("chat.completions", { messages: [] }, false, {})).toBe("bypass");
    expect(cacheDecision("chat.completions", { ...body, temperature: 0.7 }, false, { "x-gateway-cache": "on" })).toBe("cacheable");
    expect(cacheDecision("images.generations", { prompt: "x" }, false, { "x-gateway-cache": "on" })).toBe("bypass");
  });

  it("lets the client bypass with x-gateway-cache: off or cache-control", () => {
    expect(cacheDecision("chat.completions", body, false, { "x-gateway-cache": "off" })).toBe("bypass");
    expect(cacheDecision("chat.completions", body, false, { "cache-control": "no-cache" })).toBe("bypass");
    expect(cacheDecision("embeddings", { input: "x" }, false, { "cache-control": "no-store" })).toBe("bypass");
  });
});

describe("entries", () => {
  it("round-trip through their byte encoding", () => {
    const value = { status: 200, contentType: "application/json", body: Buffer.from('{"a":"\\n"}') };
    expect(decodeEntry(encodeEntry(value))).toEqual(value);
    expect(decodeEntry(Buffer.from("garbage"))).toBeNull();
  });
});

describe("MemoryCache", () => {
  const entry = (size: number) => ({ status: 200, contentType: "application/json", body: Buffer.alloc(size, 120) });

  it("expires entries after their TTL", async () => {
    let now = 0;
    const cache = new MemoryCache(1_000_000, () => now);
    await cache.set("a", entry(10), 1_000);
    now = 999;
    expect(await cache.get("a")).not.toBeNull();
    now = 1_000;
    expect(await cache.get("a")).toBeNull();
    expect(cache.size).toBe(0);
    expect(cache.usedBytes).toBe(0);
  });

  it("stays within its byte budget, evicting the least recently used", async () => {
    const cache = new MemoryCache(3_000);
    await cache.set("a", entry(700), 60_000);
    await cache.set("b", entry(700), 60_000);
    await cache.set("c", entry(700), 60_000);
    expect(await cache.get("a")).not.toBeNull(); // a is now the most recent
    await cache.set("d", entry(700), 60_000);
    expect(cache.usedBytes).toBeLessThanOrEqual(3_000);
    expect(await cache.get("b")).toBeNull();
    expect(await cache.get("a")).not.toBeNull();
    expect(await cache.get("d")).not.toBeNull();
  });

  it("does not store an entry larger than the whole cache, and replaces on re-set", async () => {
    const cache = new MemoryCache(1_000);
    await cache.set("big", entry(2_000), 60_000);
    expect(cache.size).toBe(0);
    await cache.set("a", entry(100), 60_000);
    const before = cache.usedBytes;
    await cache.set("a", entry(100), 60_000);
    expect(cache.usedBytes).toBe(before);
  });
});
