/**
 * Keys are identities, not names: limits, spend and cache entries follow a key's immutable id,
 * so a runtime key deleted (or disabled and deleted) and created again under the same name
 * starts with no spend, a full rate limit and an empty per-key cache. Two replicas, one Redis.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway } from "./http-helpers";

const ADMIN_KEY = "sk-admin-identity-0123456789";

describe("a re-created key name, over HTTP on two replicas sharing Redis", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gateways: TestGateway[] = [];
  beforeEach(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    for (let i = 0; i < 2; i++) {
      gateways.push(await startTrafficGateway({
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { url: redis.url },
        auth: { adminKey: ADMIN_KEY },
        // 8 completion tokens at $50 000 per MTok = $0.40 a request.
        pricing: { m: { inputPerMTok: 0, outputPerMTok: 50_000 } },
        cache: { enabled: true, ttlMs: 600_000, scope: "key" },
        // Each request reserves its worst case: 8 tokens, $0.40.
        limits: { defaultMaxTokens: 8 },
      }));
    }
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
    await upstream.stop();
    await redis.stop();
  });

  async function admin(gw: TestGateway, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  }
  const spendGauge = 'aigw_budget_used_ratio{key="a",team="default"}';

  it("starts at zero spend, a full rate limit and an empty cache", async () => {
    const [g1, g2] = gateways;
    const limits = { monthlyBudgetUsd: 1, requestsPerMinute: 4 };
    const first = await admin(g1, "POST", "/admin/keys", { name: "a", limits });
    const old = { authorization: `Bearer ${first.key as string}` };
    // Spend $0.80 of a $1 budget and fill the cache; a third $0.40 request no longer fits.
    expect((await chat(g1.url, { model: "m", temperature: 0 }, old)).headers.get("x-cache")).toBe("MISS");
    expect((await chat(g2.url, { model: "m" }, old)).status).toBe(200);
    await eventually(async () => ((await metricValue(g2.url, spendGauge)) ?? 0) >= 0.8 - 1e-9);
    const refused = await chat(g1.url, { model: "m" }, old);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("insufficient_quota");

    await admin(g1, "POST", "/admin/keys/a/disable");
    await admin(g2, "DELETE", "/admin/keys/a");
    const second = await admin(g2, "POST", "/admin/keys", { name: "a", limits });
    expect(second.id).not.toBe(first.id);
    const fresh = { authorization: `Bearer ${second.key as string}` };
    // The old secret is gone; the new key has its own spend, limit and cache.
    expect((await chat(g1.url, { model: "m" }, old)).status).toBe(401);
    const cached = await chat(g1.url, { model: "m", temperature: 0 }, fresh);
    expect(cached.status).toBe(200);
    expect(cached.headers.get("x-cache")).toBe("MISS");
    expect(cached.headers.get("x-ratelimit-remaining-requests")).toBe("3");
    await eventually(async () => (await metricValue(g1.url, spendGauge)) === 0.4);
  });
});
