/**
 * `503 store_unavailable` over HTTP, with a real Redis killed under a real gateway: fail-closed
 * limits refuse instead of admitting on local limits; a runtime key that must be looked up in
 * Redis cannot be; the admin API cannot read or change keys. Each answer is OpenAI-shaped,
 * says retry, and names no key.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore } from "../../helpers/redis-store-check";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway } from "./http-helpers";

const CLIENT_KEY = "sk-closed-client-3d9a0c71e5";
const ADMIN_KEY = "admin-key-closed-5a1e9b2c7d";

interface ErrorBody {
  error: { message: string; type: string; param: unknown; code: string };
}

async function expectStoreUnavailable(res: Response, retryAfter = true): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, retryAfter: res.headers.get("retry-after") }).toEqual({ status: 503, retryAfter: retryAfter ? "1" : null });
  expect((JSON.parse(text) as ErrorBody).error).toMatchObject({ type: "server_error", code: "store_unavailable" });
  for (const secret of [CLIENT_KEY, ADMIN_KEY]) expect(text).not.toContain(secret);
}

describe("store_unavailable over HTTP with Redis down", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway | null = null;

  beforeEach(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    await upstream.stop();
    await redis.stop();
  });

  const models = () => [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }];

  it("fail-closed limits answer 503 store_unavailable while Redis is down, and serve again once it is back", async () => {
    gw = await startTrafficGateway({ models: models(), redis: { url: redis.url, failOpen: false }, keys: [{ name: "c", key: CLIENT_KEY, limits: { requestsPerMinute: 2 } }] });
    const auth = { authorization: `Bearer ${CLIENT_KEY}` };
    expect((await chat(gw.url, { model: "m" }, auth)).status).toBe(200);
    await expectRedisIsTheStore(gw.url, redis.url, ["aigw:rl:{k:k-*}:rpm"]);
    const before = upstream.completions.length;

    await redis.stop();
    await expectStoreUnavailable(await chat(gw.url, { model: "m" }, auth));
    await expectStoreUnavailable(await chat(gw.url, { model: "m", stream: true }, auth));
    expect(upstream.completions).toHaveLength(before); // refused before any upstream call
    expect(await metricValue(gw.url, "aigw_store_fallback")).toBe(1);

    await redis.start();
    await eventually(async () => (await metricValue(gw!.url, "aigw_store_fallback")) === 0);
    expect((await chat(gw.url, { model: "m" }, auth)).status).toBe(200);
  });

  it("a runtime key that is not cached cannot be looked up: 503 store_unavailable, not 401 and not admitted", async () => {
    gw = await startTrafficGateway({ models: models(), redis: { url: redis.url }, auth: { adminKey: ADMIN_KEY } });
    const created = await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ name: "late" }) });
    expect(created.status).toBe(201);
    const runtimeKey = ((await created.json()) as { key: string }).key;

    await redis.stop();
    // A presented key the replica has never seen must be looked up in Redis, which is down.
    const unknown = await chat(gw.url, { model: "m" }, { authorization: "Bearer sk-never-seen-0123456789abcdef" });
    await expectStoreUnavailable(unknown);
    expect(await metricValue(gw.url, 'aigw_rejections_total{reason="store_unavailable"}')).toBeGreaterThanOrEqual(1);
    // The key created here is in this replica's snapshot: it still works.
    const known = await chat(gw.url, { model: "m" }, { authorization: `Bearer ${runtimeKey}` });
    expect(known.status).toBe(200);
    await known.arrayBuffer();
    expect(gw.rawLogs()).not.toContain(runtimeKey);
  });

  it("the admin API answers 503 store_unavailable for listing, creating and changing keys while Redis is down", async () => {
    gw = await startTrafficGateway({ models: models(), redis: { url: redis.url }, auth: { adminKey: ADMIN_KEY } });
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    expect((await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: admin, body: JSON.stringify({ name: "before" }) })).status).toBe(201);

    await redis.stop();
    // (The admin API sends no Retry-After: an operator retries by hand.)
    await expectStoreUnavailable(await fetch(`${gw.url}/admin/keys`, { headers: admin }), false);
    await expectStoreUnavailable(await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: admin, body: JSON.stringify({ name: "during" }) }), false);
    await expectStoreUnavailable(await fetch(`${gw.url}/admin/keys/before/disable`, { method: "POST", headers: admin }), false);
    await expectStoreUnavailable(await fetch(`${gw.url}/admin/keys/before`, { method: "DELETE", headers: admin }), false);
    // A wrong admin key is still refused as such, before any store access.
    expect((await fetch(`${gw.url}/admin/keys`, { headers: { authorization: "Bearer admin-wrong-0123456789" } })).status).toBe(401);
    expect(gw.rawLogs()).not.toContain(ADMIN_KEY);
  });
});
