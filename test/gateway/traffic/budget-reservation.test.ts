/**
 * Attack: 50 parallel requests, each worth $1 at worst, on a key with a $1 budget. Admission
 * used to check only that spend was below the budget, so all 50 were admitted (a 50× overspend)
 * on one replica or across two. Each request now reserves its worst case at admission
 * (atomically, fleet-wide in Redis) and settles to its real cost: one is admitted, 49 get 429
 * insufficient_quota, and the reservation is released on every exit path.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually } from "./fakes";
import { chat, metricValue, ParkedUpstream, startTrafficGateway } from "./http-helpers";

const KEY = "sk-budget-reserve-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
// 4 completion tokens (the parked upstream's answer, and max_tokens) at $0.25 each: $1 at worst and in fact.
const PRICING = { m: { inputPerMTok: 0, outputPerMTok: 250_000 } };
const ONE_DOLLAR = { model: "m", max_tokens: 4 };
const PARALLEL = 50;
const CRASH_KEY = "sk-budget-crash-0123456789";

/** Fires `PARALLEL` requests spread over `urls`; resolves once each was refused or reached the upstream. */
async function burst(urls: string[], upstream: ParkedUpstream): Promise<{ admitted: number; refusals: { status: number; code: string }[]; finish: () => Promise<number[]> }> {
  const refusals: { status: number; code: string }[] = [];
  const pending = Array.from({ length: PARALLEL }, (_, i) =>
    chat(urls[i % urls.length], ONE_DOLLAR, AUTH).then(async (res) => {
      if (res.status !== 200) refusals.push({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });
      else await res.arrayBuffer();
      return res.status;
    }),
  );
  await eventually(() => refusals.length + upstream.received === PARALLEL, 30_000);
  return { admitted: upstream.received, refusals, finish: () => Promise.all(pending) };
}

/** True once the key's spend is its whole budget (settlement is asynchronous). */
async function budgetSpent(url: string, auth: Record<string, string> = AUTH): Promise<boolean> {
  const res = await chat(url, ONE_DOLLAR, auth);
  const body = await res.text();
  return res.status === 429 && body.includes("has used its monthly budget");
}

describe.each(["memory", "redis"] as const)("budget reservations on one replica (%s store)", (store) => {
  let redis: TestRedis | null = null;
  let upstream: ParkedUpstream;
  let gw: TestGateway;

  beforeEach(async () => {
    if (store === "redis") redis = await startRedis();
    upstream = await ParkedUpstream.start();
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      ...(redis ? { redis: { url: redis.url } } : {}),
      pricing: PRICING,
      teams: { lab: { monthlyBudgetUsd: 1 } },
      keys: [
        { name: "solo", key: KEY, limits: { monthlyBudgetUsd: 1 } },
        { name: "lab-a", key: "sk-lab-a-0123456789", team: "lab", limits: { monthlyBudgetUsd: 100 } },
        { name: "lab-b", key: "sk-lab-b-0123456789", team: "lab", limits: { monthlyBudgetUsd: 100 } },
      ],
    });
  });
  afterEach(async () => {
    await gw.close();
    await upstream.stop();
    await redis?.stop();
    redis = null;
  });

  it("admits one of 50 parallel $1-worst-case requests on a $1 key and refuses the rest with insufficient_quota", async () => {
    const { admitted, refusals, finish } = await burst([gw.url], upstream);
    expect(admitted).toBe(1); // was 50
    expect(refusals).toHaveLength(PARALLEL - 1);
    for (const r of refusals) expect(r).toEqual({ status: 429, code: "insufficient_quota" });
    upstream.release();
    expect((await finish()).filter((s) => s === 200)).toHaveLength(1);
    // Settled to the real cost: exactly the budget, no overspend.
    await eventually(() => budgetSpent(gw.url));
    expect(await metricValue(gw.url, 'aigw_budget_used_ratio{key="solo",team="default"}')).toBe(1);
  });

  it("holds a team budget the same way across the team's keys", async () => {
    const statuses: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      const key = i % 2 ? "sk-lab-a-0123456789" : "sk-lab-b-0123456789";
      statuses.push(chat(gw.url, ONE_DOLLAR, { authorization: `Bearer ${key}` }).then(async (res) => (await res.arrayBuffer(), res.status)));
    }
    await eventually(() => upstream.received >= 1, 10_000);
    upstream.release();
    const done = await Promise.all(statuses);
    expect(done.filter((s) => s === 200)).toHaveLength(1);
    expect(done.filter((s) => s === 429)).toHaveLength(19);
    await eventually(async () => (await metricValue(gw.url, 'aigw_team_budget_used_ratio{team="lab"}')) === 1);
  });

  it("releases the reservation of a request that fails, so the budget is not locked", async () => {
    const failing = await MockUpstream.start("down", { kind: "status", status: 500 });
    const other = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "down", baseUrl: failing.baseUrl }] }],
      ...(redis ? { redis: { url: redis.url, keyPrefix: "other:" } } : {}),
      pricing: PRICING,
      keys: [{ name: "solo", key: KEY, limits: { monthlyBudgetUsd: 1 } }],
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await chat(other.url, ONE_DOLLAR, AUTH);
        expect(res.status).toBe(502); // the upstream failed: never 429 for a reservation left behind
        await res.arrayBuffer();
      }
    } finally {
      await other.close();
      await failing.stop();
    }
  });
});

describe("budget reservations across two gateway processes sharing one Redis", () => {
  let redis: TestRedis;
  let upstream: ParkedUpstream;
  const gateways: SpawnedGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await ParkedUpstream.start();
    const config = {
      server: { host: "127.0.0.1", port: 0 },
      healthCheck: { enabled: false },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { url: redis.url, commandTimeoutMs: 5_000 },
      // Short leases, so a killed replica's reservation frees within the test; renewed every second.
      limits: { leaseTtlMs: 3_000 },
      pricing: PRICING,
      keys: [
        { name: "solo", key: "${BUDGET_KEY}", limits: { monthlyBudgetUsd: 1 } },
        { name: "crash", key: "${CRASH_KEY}", limits: { monthlyBudgetUsd: 1 } },
      ],
    };
    for (let i = 0; i < 2; i++) gateways.push(await spawnGateway(config, { BUDGET_KEY: KEY, CRASH_KEY }));
  });
  afterAll(async () => {
    for (const g of gateways) {
      g.kill("SIGTERM");
      await g.exited;
    }
    await upstream.stop();
    await redis.stop();
  });

  it("admit one of 50 parallel $1-worst-case requests in total, fleet-wide", async () => {
    const { admitted, refusals, finish } = await burst(gateways.map((g) => g.url), upstream);
    expect(admitted).toBe(1); // was 50 (25 per replica)
    for (const r of refusals) expect(r).toEqual({ status: 429, code: "insufficient_quota" });
    upstream.release();
    expect((await finish()).filter((s) => s === 200)).toHaveLength(1);
    for (const g of gateways) {
      await eventually(() => budgetSpent(g.url), 10_000);
      expect(await metricValue(g.url, 'aigw_budget_used_ratio{key="solo",team="default"}')).toBe(1); // $1 spent, not $50
    }
  });

  it("frees the reservation of a replica killed mid-request once its lease expires", async () => {
    const crash = { authorization: `Bearer ${CRASH_KEY}` };
    /** Sends one $1 request; resolves once it was refused or reached the (parked) upstream. */
    const attempt = async (url: string) => {
      const before = upstream.received;
      let status: number | null = null;
      const response = chat(url, ONE_DOLLAR, crash).then(
        async (r) => {
          status = r.status;
          await r.arrayBuffer();
          return r.status;
        },
        () => -1, // the killed replica's client sees its connection close
      );
      await eventually(() => status !== null || upstream.received > before, 10_000);
      return { admitted: upstream.received > before, response };
    };
    const [doomed, survivor] = gateways;
    expect((await attempt(doomed.url)).admitted).toBe(true);
    doomed.kill("SIGKILL");
    await doomed.exited;
    // The dead replica's reservation still holds the budget…
    const held = await attempt(survivor.url);
    expect(held.admitted).toBe(false);
    expect(await held.response).toBe(429);
    // …until its lease expires (3 s), not forever.
    let admitted: Awaited<ReturnType<typeof attempt>> | null = null;
    await eventually(async () => (admitted = await attempt(survivor.url)).admitted, 15_000);
    upstream.release();
    expect(await admitted!.response).toBe(200);
  });
});
