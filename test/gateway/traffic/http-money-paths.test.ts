/**
 * Spend over HTTP, seen from outside (the aigw_budget_used_ratio gauges, Redis keys, 429
 * insufficient_quota): streamed answers spend like plain ones; a team budget binds every key
 * of the team; during a Redis outage spend is counted on the local store and the local budget
 * refuses; a settlement that fails on a dying Redis keeps its spend locally.
 * Price: 8 completion tokens at $50 000 per MTok = $0.40 a request, and each request reserves
 * that worst case at admission (limits.defaultMaxTokens 8): a request whose $0.40 does not fit
 * what is left is refused up front.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { expectRedisIsTheStore, redisKeys } from "../../helpers/redis-store-check";
import { eventually } from "./fakes";
import { chat, metricValue, ParkedUpstream, startTrafficGateway, type GatewayInput } from "./http-helpers";

const PRICING = { m: { inputPerMTok: 0, outputPerMTok: 50_000 } };
const A = "sk-money-a-0c1d2e3f4a";
const B = "sk-money-b-5b6c7d8e9f";
const C = "sk-money-c-a1b2c3d4e5";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

async function send(url: string, key: string, body: Record<string, unknown> = { model: "m" }): Promise<number> {
  const res = await chat(url, body, bearer(key));
  await res.arrayBuffer();
  return res.status;
}

describe.each(["memory", "redis"] as const)("money paths over HTTP (%s store)", (store) => {
  let redis: TestRedis | null = null;
  let upstream: MockUpstream;
  let gw: TestGateway | null = null;

  beforeEach(async () => {
    if (store === "redis") redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    await upstream.stop();
    await redis?.stop();
    redis = null;
  });

  const start = async (input: Omit<GatewayInput, "models" | "redis">) => {
    gw = await startTrafficGateway({ models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], pricing: PRICING, limits: { defaultMaxTokens: 8 }, ...(redis ? { redis: { url: redis.url } } : {}), ...input });
    return gw;
  };

  it("streamed answers spend the budget (from the usage chunk the gateway asked for), then 429 insufficient_quota", async () => {
    const { url } = await start({ keys: [{ name: "a", key: A, team: "t", limits: { monthlyBudgetUsd: 1 } }] });
    const gauge = 'aigw_budget_used_ratio{key="a",team="t"}';
    const stream = { model: "m", stream: true };
    const first = await chat(url, stream, bearer(A));
    const text = await first.text();
    expect(text).toContain("[DONE]");
    expect(text).not.toContain('"usage":{'); // the client did not ask for usage, and still pays
    await eventually(async () => (await metricValue(url, gauge)) === 0.4);
    expect(await send(url, A, stream)).toBe(200);
    await eventually(async () => (await metricValue(url, gauge)) === 0.8);
    // $0.80 spent: another $0.40 would end at $1.20, so it is refused before it starts.
    const refused = await chat(url, stream, bearer(A));
    expect(refused.status).toBe(429);
    expect(await errorCode(refused)).toMatchObject({ code: "insufficient_quota" });
    expect(upstream.completions).toHaveLength(2);
    if (redis) await expectRedisIsTheStore(url, redis.url, ["aigw:spend:{k:k-*}*"]);
  });

  it("a team budget binds every key of the team, not other teams", async () => {
    const { url } = await start({
      teams: { lab: { monthlyBudgetUsd: 1 }, ops: { monthlyBudgetUsd: 1 } },
      keys: [
        { name: "a", key: A, team: "lab" },
        { name: "b", key: B, team: "lab" },
        { name: "c", key: C, team: "ops" },
      ],
    });
    const teamGauge = 'aigw_team_budget_used_ratio{team="lab"}';
    expect(await send(url, A)).toBe(200);
    await eventually(async () => (await metricValue(url, teamGauge)) === 0.4);
    expect(await send(url, B)).toBe(200);
    await eventually(async () => (await metricValue(url, teamGauge)) === 0.8);
    // $0.80 of the team's $1 spent: neither key's next $0.40 fits.
    for (const key of [A, B]) {
      const refused = await chat(url, { model: "m" }, bearer(key));
      expect(refused.status).toBe(429);
      expect(await errorCode(refused)).toMatchObject({ code: "insufficient_quota", message: expect.stringContaining('team "lab"') });
    }
    expect(await metricValue(url, 'aigw_rejections_total{reason="team_budget"}')).toBe(2);
    expect(await send(url, C)).toBe(200); // another team is untouched
    if (redis) await expectRedisIsTheStore(url, redis.url, ["aigw:teamspend:{t:lab}:*", "aigw:teamspend:{t:ops}:*"]);
  });
});

describe("spend while Redis is down", () => {
  let redis: TestRedis;
  let gw: TestGateway | null = null;
  const stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    for (const stop of stops.splice(0)) await stop();
    await redis.stop();
  });

  it("is counted on the local store during the outage: the local budget refuses with insufficient_quota", async () => {
    const upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    stops.push(() => upstream.stop());
    gw = await startTrafficGateway({ models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], pricing: PRICING, limits: { defaultMaxTokens: 8 }, redis: { url: redis.url }, keys: [{ name: "a", key: A, limits: { monthlyBudgetUsd: 1 } }] });
    expect(await send(gw.url, A)).toBe(200);
    await expectRedisIsTheStore(gw.url, redis.url, ["aigw:spend:{k:k-*}*"]);
    await redis.stop();
    // The local store starts at $0: $0.40, $0.80, then the next $0.40 does not fit $1.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(await send(gw.url, A));
      await eventually(async () => (await metricValue(gw!.url, "aigw_store_fallback")) === 1);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(await metricValue(gw.url, 'aigw_rejections_total{reason="budget"}')).toBe(1);
  });

  it("keeps the spend of a settlement that fails on a dying Redis, on the local store", async () => {
    const parked = await ParkedUpstream.start();
    stops.push(() => parked.stop());
    // $0.40 a request (4 completion tokens at $100 000 per MTok, reserved at admission), budget $0.90.
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: parked.baseUrl }] }],
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 100_000 } },
      limits: { defaultMaxTokens: 4 },
      redis: { url: redis.url },
      keys: [{ name: "a", key: A, limits: { monthlyBudgetUsd: 0.9 } }],
    });
    // Admitted on Redis, then Redis dies while the answer is on its way: the settlement fails.
    const inFlight = chat(gw.url, { model: "m" }, bearer(A));
    await eventually(() => parked.received === 1);
    await redis.stop();
    parked.release();
    const answered = await inFlight;
    expect(answered.status).toBe(200); // the client is not punished for the store
    await answered.arrayBuffer();
    await eventually(async () => ((await metricValue(gw!.url, 'aigw_store_errors_total{store="redis"}')) ?? 0) >= 1);
    // That $0.40 counts locally: one more request fits ($0.80 of $0.90), the next is refused.
    // (Dropped, the local store would start at $0 and admit two.)
    const during: number[] = [];
    for (let i = 0; i < 2; i++) {
      const received = parked.received;
      const res = chat(gw.url, { model: "m" }, bearer(A));
      // Admitted requests park upstream until released; refused ones answer at once.
      await Promise.race([res, eventually(() => parked.received > received, 10_000)]);
      parked.release();
      const r = await res;
      await r.arrayBuffer();
      during.push(r.status);
    }
    expect(during).toEqual([200, 429]);
  });
});
