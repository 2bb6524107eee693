/**
 * Failed admin authentications are logged (client address and path, never the presented key)
 * and throttled per client address, fleet-wide through Redis: a brute force gets 429 with
 * Retry-After after the allowed failures, on either replica, while other addresses and the real
 * admin key from another address still get in.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { startTrafficGateway } from "./http-helpers";

const ADMIN_KEY = "sk-admin-Throttle-0123456789abcdef";

describe("admin authentication throttle over HTTP, two replicas on one Redis", () => {
  let redis: TestRedis;
  let gateways: TestGateway[] = [];
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
    await redis.stop();
  });

  async function replicas(): Promise<TestGateway[]> {
    for (let i = 0; i < 2; i++) {
      gateways.push(await startTrafficGateway({
        models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }],
        redis: { url: redis.url },
        server: { trustProxy: true },
        auth: { adminKey: ADMIN_KEY, adminThrottle: { failures: 5, windowMs: 600_000 } },
      }));
    }
    return gateways;
  }

  const admin = (gw: TestGateway, key: string, from: string, path = "/admin/keys") =>
    fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}`, "x-forwarded-for": from } });

  it("answers 429 with Retry-After after the allowed failures, logs each failure without the key", async () => {
    const [a, b] = await replicas();
    const guesses = Array.from({ length: 12 }, (_, i) => `sk-admin-guess-${i}-${"x".repeat(20)}`);
    const statuses: number[] = [];
    for (const [i, guess] of guesses.entries()) {
      const res = await admin(i % 2 ? b : a, guess, "198.51.100.66", `/admin/keys?try=${i}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
      } else await res.text();
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, ...Array(7).fill(429)]);
    // Even the right key from the throttled address waits: it is not compared any more.
    expect((await admin(a, ADMIN_KEY, "198.51.100.66")).status).toBe(429);
    // Another address is not affected, and authenticated requests do not use up its allowance.
    for (let i = 0; i < 8; i++) expect((await admin(b, ADMIN_KEY, "192.0.2.10")).status).toBe(200);
    expect((await admin(b, "wrong-key-0123456789", "192.0.2.10")).status).toBe(401);

    const logs = [...a.logs(), ...b.logs()];
    const failed = logs.filter((l) => l.event === "admin_auth_failed");
    expect(failed).toHaveLength(6);
    expect(failed[0]).toMatchObject({ clientIp: "198.51.100.66", method: "GET", path: "/admin/keys", reason: "wrong_key", level: "warn" });
    expect(logs.filter((l) => l.event === "admin_auth_throttled").map((l) => l.clientIp)).toEqual(expect.arrayContaining(["198.51.100.66"]));
    const raw = a.rawLogs() + b.rawLogs();
    for (const guess of [...guesses, "wrong-key-0123456789", ADMIN_KEY]) expect(raw).not.toContain(guess);
  });

  it("parallel guesses cannot overshoot the allowance", async () => {
    const [a, b] = await replicas();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => admin(i % 2 ? b : a, `sk-guess-${i}-0123456789`, "198.51.100.77").then(async (r) => (await r.text(), r.status))));
    expect(results.filter((s) => s === 401)).toHaveLength(5);
    expect(results.filter((s) => s === 429)).toHaveLength(25);
  });
});
