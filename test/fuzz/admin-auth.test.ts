/**
 * The admin API through the whole gateway: every admin route and method refuses a request
 * without the exact admin key (none, wrong, near misses, the client key, odd encodings and
 * paths), nothing changes in the key store, and the comparison runs in constant time: it is
 * always one timingSafeEqual over two SHA-256 digests, whatever the presented key's length.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { secretMatches } from "../../gateway/src/auth/key-hash";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { openAiError, rawRequest } from "../chaos/support/http";

/** The module object itself (not an import namespace), so the spy is what key-hash.ts calls. */
const nodeCrypto: typeof import("node:crypto") = require("node:crypto");

const SEED = 20_251_122;
const ADMIN_KEY = "sk-admin-7Fq2LmZ9xC4vB8nR1tY6";
const CLIENT_KEY = "sk-client-admin-test-00112233";

const ROUTES: [string, string][] = [
  ["GET", "/admin/keys"],
  ["POST", "/admin/keys"],
  ["POST", "/admin/keys/victim/disable"],
  ["POST", "/admin/keys/victim/enable"],
  ["DELETE", "/admin/keys/victim"],
  ["GET", "/admin"],
  ["GET", "/admin/"],
  ["GET", "/admin/nope"],
  ["GET", "/admin/keys?admin=1"],
  ["GET", "/admin/keys/../keys"],
  ["GET", "/admin//keys"],
  ["GET", "/admin/%6beys"],
  ["POST", "/admin/keys%2Fvictim%2Fdisable"],
];

const near = (key: string): string[] => [
  "",
  " ",
  key.slice(0, -1),
  `${key}x`,
  `${key.slice(0, -1)}${key.at(-1) === "6" ? "7" : "6"}`,
  key.toUpperCase(),
  key.toLowerCase(),
  ` ${key}x`,
  `${key}\t`.slice(0, -1) + "\u00e9",
  CLIENT_KEY,
  "null",
  "undefined",
];

describe("admin API access control", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  let port: number;
  let store: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      redis: { url: redis.url },
      // Hundreds of wrong keys from one address: the throttle (test/gateway/traffic/admin-throttle.test.ts)
      // is opened wide, so every attempt here reaches the key comparison.
      auth: { adminKey: ADMIN_KEY, adminThrottle: { failures: 1_000_000, windowMs: 1_000 } },
      keys: [{ name: "client", key: CLIENT_KEY }],
      models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }],
    });
    port = gw.gateway.port;
    store = new Redis(redis.url);
    // A runtime key the refused requests would disable or delete if they got through.
    const created = await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: '{"name":"victim"}' });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    store.disconnect();
    await gw.close();
    await redis.stop();
  });

  async function storeSnapshot(): Promise<string> {
    const keys = (await store.keys("*")).filter((k) => k.includes("key")).sort();
    const values = await Promise.all(keys.map(async (k) => `${k}=${JSON.stringify((await store.type(k)) === "hash" ? await store.hgetall(k) : await store.get(k).catch(() => null))}`));
    return values.join("\n");
  }

  const send = (method: string, path: string, headers: string) =>
    rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n${headers}\r\n{"name":"evil1"}`);

  it.each(ROUTES)("refuses %s %s without the admin key, or with a near miss, and changes nothing", async (method, path) => {
    const before = await storeSnapshot();
    const credentials = ["", ...near(ADMIN_KEY).map((k) => `Authorization: Bearer ${k}\r\n`), `X-Api-Key: ${ADMIN_KEY.slice(0, -1)}\r\n`, `Authorization: Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString("base64")}\r\n`, `Authorization: ${ADMIN_KEY}\r\n`];
    for (const header of credentials) {
      const answer = await send(method, path, header);
      expect({ header, status: answer.status }).toEqual({ header, status: 401 });
      expect(openAiError(answer.status, answer.headers, answer.body).code).toBe("invalid_api_key");
    }
    expect(await storeSnapshot()).toBe(before);
  });

  it("refuses every randomly mutated or random key (property, fixed seed)", async () => {
    const before = await storeSnapshot();
    const mutated = fc.tuple(fc.nat(ADMIN_KEY.length - 1), fc.string({ minLength: 1, maxLength: 3 })).map(([at, insert]) => ADMIN_KEY.slice(0, at) + insert + ADMIN_KEY.slice(at + 1)).filter((k) => k !== ADMIN_KEY);
    const presented = fc.oneof(mutated, fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 80 }));
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(presented, fc.constantFrom(...ROUTES), async (key, [method, path]) => {
        tried++;
        const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: method === "GET" ? undefined : '{"name":"evil2"}' });
        expect(res.status).toBe(401);
        await res.text();
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(tried).toBe(200);
    expect(await storeSnapshot()).toBe(before);
  });

  it("answers the admin key, in either header", async () => {
    const list = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(list.status).toBe(200);
    const names = ((await list.json()) as { data: { name: string }[] }).data.map((k) => k.name).sort();
    expect(names).toEqual(["client", "victim"]);
    expect((await fetch(`${gw.url}/admin/keys`, { headers: { "x-api-key": ADMIN_KEY } })).status).toBe(200);
  });

  it("compares in constant time: one timingSafeEqual over two 32-byte digests, whatever was presented", async () => {
    const spy = jest.spyOn(nodeCrypto, "timingSafeEqual");
    try {
      for (const key of ["x", ADMIN_KEY.slice(0, 10), ADMIN_KEY.slice(0, -1) + "Z", `${ADMIN_KEY}${"y".repeat(500)}`, ADMIN_KEY]) {
        spy.mockClear();
        const res = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
        await res.text();
        expect(res.status).toBe(key === ADMIN_KEY ? 200 : 401);
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
        expect([a.length, b.length]).toEqual([32, 32]);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it("secretMatches is exact equality for any pair of strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        expect(secretMatches(a, b)).toBe(a === b);
        expect(secretMatches(a, a)).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("has no admin surface at all without an admin key", async () => {
    const plain = await startTestGateway({ models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }] });
    try {
      const res = await fetch(`${plain.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
