/**
 * The Redis limit store against a real redis-server: atomic admission across clients (as
 * replicas), settlement, concurrency leases, NOSCRIPT recovery, and agreement with the memory
 * store on the same sequence.
 */
import { Redis } from "ioredis";
import { MemoryStore } from "../../../gateway/src/limits/memory-store";
import { RedisStore } from "../../../gateway/src/limits/redis-store";
import type { AdmitInput, LimitStore } from "../../../gateway/src/limits/store";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually } from "./fakes";

const HOUR = 3_600_000;

describe("RedisStore", () => {
  let redis: TestRedis;
  let clients: Redis[] = [];
  let stores: RedisStore[] = [];
  let prefixCounter = 0;
  let prefix = "";

  const client = () => {
    const c = new Redis(redis.url, { enableAutoPipelining: true, maxRetriesPerRequest: 0 });
    clients.push(c);
    return c;
  };
  const store = (leaseTtlMs?: number, leaseMaxMs?: number) => {
    const s = new RedisStore(client(), { prefix, leaseTtlMs, leaseMaxMs });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(() => {
    prefix = `t${++prefixCounter}:`;
  });
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.quit()));
    stores = [];
    clients = [];
  });

  it("three replicas admit exactly the requests-per-minute limit under concurrent load", async () => {
    const replicas = [store(), store(), store()];
    // Per hour, so that nothing refills while the burst runs (exactness, not timing, is tested).
    const input: AdmitInput = { budgets: [], rates: [{ key: "rl:k:rpm", limit: 50, periodMs: HOUR, cost: 1 }], concurrency: null };
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => replicas[i % 3].admit(input)));
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused.failed).toEqual({ kind: "rate", index: 0 });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.rates[0].remaining).toBe(0);
  });

  it("three replicas admit exactly the token limit, and a refusal on tokens takes no request slot", async () => {
    const replicas = [store(), store(), store()];
    const input: AdmitInput = {
      budgets: [],
      rates: [
        { key: "rl:k:rpm", limit: 1_000, periodMs: HOUR, cost: 1 },
        { key: "rl:k:tpm", limit: 1_000, periodMs: HOUR, cost: 7 },
      ],
      concurrency: null,
    };
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => replicas[i % 3].admit(input)));
    expect(results.filter((r) => r.allowed)).toHaveLength(142); // floor(1000 / 7)
    const last = await replicas[0].admit({ ...input, rates: [input.rates[0]] });
    expect(last.rates[0].remaining).toBe(1_000 - 143);
  });

  it("settles a reservation with real usage, shared by every replica", async () => {
    const [a, b] = [store(), store()];
    const tpm = { key: "rl:k:tpm", limit: 1_000, periodMs: 3_600_000 };
    expect((await a.admit({ budgets: [], rates: [{ ...tpm, cost: 900 }], concurrency: null })).allowed).toBe(true);
    expect((await b.admit({ budgets: [], rates: [{ ...tpm, cost: 200 }], concurrency: null })).allowed).toBe(false);
    await a.settle({ rates: [{ ...tpm, delta: -850 }], concurrency: null, spends: [] });
    const after = await b.admit({ budgets: [], rates: [{ ...tpm, cost: 200 }], concurrency: null });
    expect(after.allowed).toBe(true);
    expect(after.rates[0].remaining).toBe(750);
  });

  it("holds concurrency slots fleet-wide and releases them on settle", async () => {
    const [a, b] = [store(), store()];
    const conc = (id: string) => ({ budgets: [], rates: [], concurrency: { key: "conc:k", limit: 2, leaseId: id } });
    expect((await a.admit(conc("a1"))).allowed).toBe(true);
    expect((await b.admit(conc("b1"))).allowed).toBe(true);
    expect(await a.admit(conc("a2"))).toMatchObject({ allowed: false, failed: { kind: "concurrency", index: 0 } });
    await b.settle({ rates: [], concurrency: { key: "conc:k", leaseId: "b1" }, spends: [] });
    expect((await a.admit(conc("a3"))).allowed).toBe(true);
    expect(a.heldLeases).toBe(2);
  });

  it("frees the slots of a replica that stops renewing (crash), and keeps renewed ones", async () => {
    // The crashed lease lives 1 s; the live one 20 s, renewed every ~6.7 s: a stalled machine
    // cannot expire it during the test, and its renewal is seen as its expiry moving on.
    const crashed = store(1_000);
    const live = store(20_000);
    const conc = (id: string) => ({ budgets: [], rates: [], concurrency: { key: "conc:k", limit: 2, leaseId: id } });
    expect((await crashed.admit(conc("dead"))).allowed).toBe(true);
    expect((await live.admit(conc("alive"))).allowed).toBe(true);
    const firstExpiry = Number(await clients[0].zscore(`${prefix}conc:k`, "alive"));
    await crashed.close(); // stops renewing, as a dead process would
    const probe = store(1_000);
    let attempt = 0;
    await eventually(async () => {
      const id = `probe${++attempt}`;
      const r = await probe.admit(conc(id));
      if (r.allowed) await probe.settle({ rates: [], concurrency: { key: "conc:k", leaseId: id }, spends: [] });
      return r.allowed;
    }, 15_000);
    await live.renewLeases();
    expect(Number(await clients[0].zscore(`${prefix}conc:k`, "alive"))).toBeGreaterThan(firstExpiry);
    const members = await clients[0].zrange(`${prefix}conc:k`, 0, -1);
    expect(members).toContain("alive");
    expect(members).not.toContain("dead");
  });

  it("stops renewing a lease past leaseMaxMs, so a release that never comes frees the slot", async () => {
    const s = store(1_000, 1_500);
    const conc = (id: string) => ({ budgets: [], rates: [], concurrency: { key: "conc:k", limit: 1, leaseId: id } });
    expect((await s.admit(conc("lost"))).allowed).toBe(true);
    expect(s.heldLeases).toBe(1);
    // Never settled; renewed (every 333 ms) until 1.5 s after admission, then let expire.
    await eventually(async () => (await s.admit(conc(`p${Date.now()}`))).allowed, 15_000, 100);
    expect(s.heldLeases).toBe(1); // the probe that got in; "lost" is forgotten
    expect(await clients[0].zscore(`${prefix}conc:k`, "lost")).toBeNull();
  });

  it("counts spend atomically with a TTL and refuses at the budget", async () => {
    const [a, b] = [store(), store()];
    const spends = [{ key: "spend:k:2025-01", addNano: 1_000, ttlMs: 60_000 }];
    const totals = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).settle({ rates: [], concurrency: null, spends })));
    expect(totals.map((t) => t.spentNano[0]).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => n * 1_000));
    expect(await clients[0].pttl(`${prefix}spend:k:2025-01`)).toBeGreaterThan(0);
    const budget = { budgets: [{ key: "spend:k:2025-01", limitNano: 10_000 }], rates: [{ key: "rl:k:rpm", limit: 10, periodMs: HOUR, cost: 1 }], concurrency: null };
    const refused = await a.admit(budget);
    expect(refused).toMatchObject({ allowed: false, failed: { kind: "budget", index: 0 }, retryAfterMs: -1, spentNano: [10_000] });
    expect(refused.rates[0].remaining).toBe(10); // nothing consumed
  });

  it("recovers when Redis forgets its scripts (NOSCRIPT after a restart or SCRIPT FLUSH)", async () => {
    const s = store();
    const input = { budgets: [], rates: [{ key: "rl:k:rpm", limit: 10, periodMs: HOUR, cost: 1 }], concurrency: null };
    await s.admit(input);
    await clients[0].script("FLUSH");
    expect((await s.admit(input)).rates[0].remaining).toBe(8);
  });

  it("agrees with the memory store on the same sequence", async () => {
    const memory = new MemoryStore();
    const shared = store();
    const stores: LimitStore[] = [memory, shared];
    const steps: AdmitInput[] = [];
    for (let i = 0; i < 40; i++) {
      steps.push({
        budgets: [{ key: "spend:k:m", limitNano: 5_000 }],
        rates: [
          { key: "rl:k:rpm", limit: 25, periodMs: HOUR, cost: 1 },
          { key: "rl:k:tpm", limit: 500, periodMs: HOUR, cost: (i * 37) % 90 },
        ],
        concurrency: { key: "conc:k", limit: 30, leaseId: `l${i}` },
      });
    }
    const outcomes = await Promise.all(
      stores.map(async (s) => {
        const out: string[] = [];
        for (const [i, step] of steps.entries()) {
          const r = await s.admit(step);
          out.push(JSON.stringify([r.allowed, r.failed, r.rates.map((x) => x.remaining), r.spentNano]));
          if (r.allowed && i % 3 === 0) await r.store.settle({ rates: [{ ...step.rates[1], delta: -5 }], concurrency: { key: "conc:k", leaseId: step.concurrency!.leaseId }, spends: [{ key: "spend:k:m", addNano: 400, ttlMs: HOUR }] });
        }
        return out;
      }),
    );
    await memory.close();
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[0].some((o) => o.startsWith("[false"))).toBe(true);
  });
});
