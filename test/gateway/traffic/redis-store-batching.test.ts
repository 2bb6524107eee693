/**
 * RedisStore batching against a real redis-server: the admissions (and settlements) of one
 * event-loop turn cost one script call (counted in INFO commandstats), are decided in arrival
 * order with each caller's own figures, a refusal inside a batch consumes nothing, and a failed
 * call rejects every caller of the batch (FailoverStore still falls back on it).
 */
import { Redis } from "ioredis";
import { FailoverStore } from "../../../gateway/src/limits/failover-store";
import { MemoryStore } from "../../../gateway/src/limits/memory-store";
import { RedisStore } from "../../../gateway/src/limits/redis-store";
import type { AdmitInput, AdmitResult, SettleInput } from "../../../gateway/src/limits/store";
import { createRedisClient, waitForReady, type RedisClient } from "../../../gateway/src/store/redis-client";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually, recordingLogger, recordingMetrics } from "./fakes";

const HOUR = 3_600_000;
const rpm = (limit: number, key = "rl:k:rpm"): AdmitInput => ({ budgets: [], rates: [{ key, limit, periodMs: HOUR, cost: 1 }], concurrency: null });

/** Script calls (EVALSHA, and EVAL: ioredis's first call on a connection) the server has run. */
async function scriptCalls(admin: Redis): Promise<number> {
  const info = await admin.info("commandstats");
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(match[2]);
  return calls;
}

/** Calls of each named command the server has run (commands run by scripts count too). */
async function commandCalls(admin: Redis, names: string[]): Promise<Record<string, number>> {
  const info = await admin.info("commandstats");
  const out: Record<string, number> = {};
  for (const name of names) out[name] = Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return out;
}

/** A reset figure: whole ms, rounded up from a float difference, so exact or one above. */
function expectResetNear(resetMs: number, expected: number): void {
  expect(resetMs).toBeGreaterThanOrEqual(expected);
  expect(resetMs).toBeLessThanOrEqual(expected + 1);
}

describe("RedisStore batching", () => {
  let redis: TestRedis;
  let admin: Redis;
  let clients: Redis[] = [];
  let stores: RedisStore[] = [];
  let prefixCounter = 0;
  let prefix = "";

  const store = (options: { maxBatch?: number; leaseTtlMs?: number } = {}) => {
    const client = new Redis(redis.url, { enableAutoPipelining: true, maxRetriesPerRequest: 0 });
    clients.push(client);
    const s = new RedisStore(client, { prefix, ...options });
    stores.push(s);
    return s;
  };
  /** Runs `work` and returns its result with the number of script calls it cost. */
  async function counted<T>(work: () => Promise<T>): Promise<{ value: T; calls: number }> {
    const before = await scriptCalls(admin);
    const value = await work();
    return { value, calls: (await scriptCalls(admin)) - before };
  }

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });
  beforeEach(() => {
    prefix = `b${++prefixCounter}:`;
  });
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(clients.map((c) => c.quit()));
    stores = [];
    clients = [];
  });

  it("admits concurrent requests in one script call, the first `limit` callers winning, each with its own figures", async () => {
    const s = store();
    await s.admit(rpm(1, "rl:warmup")); // the connection's first call (EVAL) is out of the way
    const { value: results, calls } = await counted(() => Promise.all(Array.from({ length: 40 }, () => s.admit(rpm(10)))));
    expect(calls).toBe(1);
    expect(results.map((r) => r.allowed)).toEqual(Array.from({ length: 40 }, (_, i) => i < 10));
    const interval = HOUR / 10;
    results.slice(0, 10).forEach((r, i) => {
      expect(r).toMatchObject({ failed: null, retryAfterMs: 0, spentNano: [] });
      expect(r.rates[0].remaining).toBe(9 - i);
      expectResetNear(r.rates[0].resetMs, (i + 1) * interval);
    });
    for (const r of results.slice(10)) {
      expect(r.failed).toEqual({ kind: "rate", index: 0 });
      expect(r.rates[0].remaining).toBe(0);
      expectResetNear(r.rates[0].resetMs, HOUR);
      expectResetNear(r.retryAfterMs, interval); // all at the batch's one instant
    }
    // The refusals wrote nothing: the next slot still opens one interval after the batch.
    const later = await s.admit(rpm(10));
    expect(later.allowed).toBe(false);
    expect(later.retryAfterMs).toBeLessThanOrEqual(interval + 1);
  });

  it("splits a turn into ceil(N / maxBatch) script calls and keeps the arrival order across them", async () => {
    const capped = store({ maxBatch: 16 });
    await capped.admit(rpm(1, "rl:warmup"));
    const few = await counted(() => Promise.all(Array.from({ length: 40 }, () => capped.admit(rpm(20)))));
    expect(few.calls).toBe(3); // 16 + 16 + 8
    expect(few.value.map((r) => r.allowed)).toEqual(Array.from({ length: 40 }, (_, i) => i < 20));
    expect(few.value.slice(0, 20).map((r) => r.rates[0].remaining)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));

    const defaults = store();
    await defaults.admit(rpm(1, "rl:warmup"));
    const many = await counted(() => Promise.all(Array.from({ length: 600 }, (_, i) => defaults.admit(rpm(250, `rl:${i % 2}:rpm`)))));
    expect(many.calls).toBe(3); // 256 + 256 + 88
    // Two keys of 250, alternating: the first 500 callers win, across the three calls.
    expect(many.value.map((r) => r.allowed)).toEqual(Array.from({ length: 600 }, (_, i) => i < 500));
    expect(many.value[255].rates[0].remaining).toBe(250 - 128);
    expect(many.value[256].rates[0].remaining).toBe(250 - 129);
  });

  it("close() sends the calls still queued for this turn and waits for their answers, so a quit right after loses none", async () => {
    const s = store();
    const client = clients.pop()!;
    const settled = s.settle({ rates: [], concurrency: null, spends: [{ key: "spend:closing", addNano: 7, ttlMs: 60_000 }] });
    await s.close();
    await client.quit();
    await settled;
    expect(await admin.get(`${prefix}spend:closing`)).toBe("7");
  });

  it("sends its batches past the client's auto-pipeline, leaving other commands and other clients as they were", async () => {
    const s = store();
    const other = new Redis(redis.url, { enableAutoPipelining: true, maxRetriesPerRequest: 0, lazyConnect: true });
    clients.push(other);
    const [mine] = clients;
    expect(mine.options.autoPipeliningIgnoredCommands).toEqual(["aigwAdmit", "aigwSettle"]);
    expect(other.options.autoPipeliningIgnoredCommands).toEqual([]);
    new RedisStore(mine, { prefix }).close(); // a second store on the client adds nothing
    expect(mine.options.autoPipeliningIgnoredCommands).toEqual(["aigwAdmit", "aigwSettle"]);
    // ioredis opens a pipeline for each auto-pipelined round; count them.
    let pipelines = 0;
    const pipeline = mine.pipeline.bind(mine);
    mine.pipeline = ((...args: Parameters<typeof pipeline>) => {
      pipelines++;
      return pipeline(...args);
    }) as typeof mine.pipeline;
    const [admitted, settled] = await Promise.all([s.admit(rpm(5)), s.settle({ rates: [], concurrency: null, spends: [{ key: "spend:k", addNano: 3, ttlMs: 60_000 }] })]);
    expect(admitted.rates[0].remaining).toBe(4);
    expect(settled.spentNano).toEqual([3]);
    expect(pipelines).toBe(0);
    expect(await mine.get(`${prefix}spend:k`)).toBe("3");
    expect(pipelines).toBe(1);
    await other.connect();
  });

  it("sends lone requests one call each, without waiting for more", async () => {
    const s = store();
    await s.admit(rpm(1, "rl:warmup"));
    const { value, calls } = await counted(async () => {
      const out: AdmitResult[] = [];
      for (let i = 0; i < 5; i++) out.push(await s.admit(rpm(10)));
      return out;
    });
    expect(calls).toBe(5);
    expect(value.map((r) => r.rates[0].remaining)).toEqual([9, 8, 7, 6, 5]);
  });

  it("refuses one request of a batch on its budget without consuming anything for it, and admits the others", async () => {
    const s = store();
    await admin.set(`${prefix}spend:poor`, "10000");
    const request = (budgetKey: string, leaseId: string): AdmitInput => ({
      budgets: [{ key: budgetKey, limitNano: 10_000 }],
      rates: [
        { key: "rl:k:rpm", limit: 10, periodMs: HOUR, cost: 1 },
        { key: "rl:k:tpm", limit: 1_000, periodMs: HOUR, cost: 100 },
      ],
      concurrency: { key: "conc:k", limit: 5, leaseId },
    });
    const { value, calls } = await counted(() => Promise.all([s.admit(request("spend:rich", "b")), s.admit(request("spend:poor", "a")), s.admit(request("spend:rich", "c"))]));
    expect(calls).toBe(1);
    const [b, a, c] = value;
    expect(b).toMatchObject({ allowed: true, failed: null, spentNano: [0] });
    expect(b.rates.map((r) => r.remaining)).toEqual([9, 900]);
    expect(a).toMatchObject({ allowed: false, failed: { kind: "budget", index: 0 }, retryAfterMs: -1, spentNano: [10_000] });
    expect(a.rates.map((r) => r.remaining)).toEqual([9, 900]); // as b left them: a took nothing
    expect(c.rates.map((r) => r.remaining)).toEqual([8, 800]);
    expect((await admin.zrange(`${prefix}conc:k`, 0, -1)).sort()).toEqual(["b", "c"]);
    expect(s.heldLeases).toBe(2);
  });

  it("refuses one request of a batch on its token rate without taking its request slot", async () => {
    const s = store();
    const request = (tokens: number): AdmitInput => ({
      budgets: [],
      rates: [
        { key: "rl:k:rpm", limit: 10, periodMs: HOUR, cost: 1 },
        { key: "rl:k:tpm", limit: 1_000, periodMs: HOUR, cost: tokens },
      ],
      concurrency: { key: "conc:k", limit: 5, leaseId: `l${tokens}` },
    });
    const [first, big, last] = await Promise.all([s.admit(request(600)), s.admit(request(500)), s.admit(request(400))]);
    expect(first.allowed).toBe(true);
    expect(big).toMatchObject({ allowed: false, failed: { kind: "rate", index: 1 } });
    expectResetNear(big.retryAfterMs, 100 * (HOUR / 1_000));
    expect(big.rates.map((r) => r.remaining)).toEqual([9, 400]);
    expect(last.allowed).toBe(true);
    expect(last.rates.map((r) => r.remaining)).toEqual([8, 0]);
    expect((await admin.zrange(`${prefix}conc:k`, 0, -1)).sort()).toEqual(["l400", "l600"]);
  });

  it("decides a concurrent batch exactly as the memory store decides the same requests one by one", async () => {
    const steps: AdmitInput[] = [];
    for (let i = 0; i < 60; i++) {
      steps.push({
        budgets: [{ key: `spend:${i % 3}`, limitNano: 5_000 }],
        rates: [
          { key: `rl:${i % 2}:rpm`, limit: 20, periodMs: HOUR, cost: 1 },
          { key: `rl:${i % 2}:tpm`, limit: 700, periodMs: HOUR, cost: (i * 37) % 90 },
        ],
        concurrency: { key: `conc:${i % 4}`, limit: i % 4 === 3 ? 2 : 30, leaseId: `l${i}` },
      });
    }
    const memory = new MemoryStore();
    // One spend key over its budget in both stores.
    await memory.settle({ rates: [], concurrency: null, spends: [{ key: "spend:1", addNano: 5_000, ttlMs: HOUR }] });
    const s = store();
    await s.settle({ rates: [], concurrency: null, spends: [{ key: "spend:1", addNano: 5_000, ttlMs: HOUR }] });
    const sequential: AdmitResult[] = [];
    for (const step of steps) sequential.push(await memory.admit(step));
    await memory.close();
    const { value: batched, calls } = await counted(() => Promise.all(steps.map((step) => s.admit(step))));
    expect(calls).toBe(1);
    const view = (r: AdmitResult) => [r.allowed, r.failed, r.retryAfterMs === -1 ? -1 : r.retryAfterMs > 0, r.rates.map((x) => x.remaining), r.spentNano];
    expect(batched.map(view)).toEqual(sequential.map(view));
    expect(new Set(batched.map((r) => r.failed?.kind))).toEqual(new Set([undefined, "budget", "rate", "concurrency"]));
  });

  it("reads and writes each key once per batch, however many of the batch's requests share it", async () => {
    const s = store();
    // A period so long that no token comes back while the test runs.
    const tpm = { key: "rl:k:tpm", limit: 1_000_000, periodMs: 100_000 * HOUR };
    const input = (i: number): AdmitInput => ({
      budgets: [{ key: "spend:k", limitNano: 1e12 }],
      rates: [{ key: "rl:k:rpm", limit: 1_000, periodMs: HOUR, cost: 1 }, { ...tpm, cost: 100 }],
      concurrency: { key: "conc:k", limit: 1_000, leaseId: `lease-${i}` },
    });
    const names = ["get", "set", "del", "zadd", "zcard", "zremrangebyscore", "zrem", "pexpire", "incrby"];
    const delta = async (work: () => Promise<unknown>) => {
      const before = await commandCalls(admin, names);
      await work();
      const after = await commandCalls(admin, names);
      return Object.fromEntries(names.map((n) => [n, after[n] - before[n]]).filter(([, d]) => d !== 0));
    };
    const admitted = await delta(() => Promise.all(Array.from({ length: 40 }, (_, i) => s.admit(input(i)))));
    // One spend key and two TATs read; two TATs written; one sweep, count and ZADD of 40 leases.
    expect(admitted).toEqual({ get: 3, set: 2, zadd: 1, zcard: 1, zremrangebyscore: 1, pexpire: 1 });
    expect(await admin.zcard(`${prefix}conc:k`)).toBe(40);
    const settled = await delta(() =>
      Promise.all(Array.from({ length: 40 }, (_, i) => s.settle({ rates: [{ ...tpm, delta: -60 }], concurrency: { key: "conc:k", leaseId: `lease-${i}` }, spends: [{ key: "spend:k", addNano: 10, ttlMs: HOUR }] }))),
    );
    expect(settled).toEqual({ get: 2, set: 1, zrem: 1, incrby: 1, pexpire: 1 });
    expect(await admin.zcard(`${prefix}conc:k`)).toBe(0);
    expect(await admin.get(`${prefix}spend:k`)).toBe("400");
    // 40 × 100 reserved, 40 × 60 refunded.
    const probe = await s.admit({ budgets: [], rates: [{ ...tpm, cost: 0 }], concurrency: null });
    expect(probe.rates[0].remaining).toBe(1_000_000 - 40 * 40);
  });

  it("settles concurrent requests in one script call, in arrival order, with each caller's totals", async () => {
    const s = store();
    const tpm = { key: "rl:k:tpm", limit: 1_000, periodMs: HOUR };
    const leases = ["x", "y", "z"];
    for (const leaseId of leases) expect((await s.admit({ budgets: [], rates: [{ ...tpm, cost: 300 }], concurrency: { key: "conc:k", limit: 3, leaseId } })).allowed).toBe(true);
    expect(s.heldLeases).toBe(3);
    const spend = (key: string, addNano: number) => ({ key, addNano, ttlMs: 60_000 });
    const inputs: SettleInput[] = [
      ...Array.from({ length: 20 }, (): SettleInput => ({ rates: [], concurrency: null, spends: [spend("spend:a", 1_000)] })),
      { rates: [{ ...tpm, delta: -250 }], concurrency: { key: "conc:k", leaseId: "x" }, spends: [spend("spend:a", 500), spend("spend:team", 7)] },
      { rates: [{ ...tpm, delta: -250 }], concurrency: { key: "conc:k", leaseId: "y" }, spends: [] },
      { rates: [], concurrency: { key: "conc:k", leaseId: "z" }, spends: [spend("spend:team", 3)] },
    ];
    const { value, calls } = await counted(() => Promise.all(inputs.map((input) => s.settle(input))));
    expect(calls).toBe(1);
    expect(value.slice(0, 20).map((r) => r.spentNano)).toEqual(Array.from({ length: 20 }, (_, i) => [(i + 1) * 1_000]));
    expect(value.slice(20).map((r) => r.spentNano)).toEqual([[20_500, 7], [], [10]]);
    expect(s.heldLeases).toBe(0);
    expect(await admin.zcard(`${prefix}conc:k`)).toBe(0);
    expect(await admin.pttl(`${prefix}spend:a`)).toBeGreaterThan(0);
    expect(await admin.pttl(`${prefix}spend:team`)).toBeGreaterThan(0);
    // 900 reserved, 500 refunded: 600 of 1,000 free again.
    const probe = await s.admit({ budgets: [], rates: [{ ...tpm, cost: 0 }], concurrency: null });
    expect(probe.rates[0].remaining).toBe(600);
  });

  describe("when Redis fails", () => {
    let own: TestRedis;
    let failing: RedisClient[] = [];
    beforeEach(async () => {
      own = await startRedis();
    });
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      for (const c of failing) c.disconnect();
      failing = [];
      await own.stop();
    });

    async function connect() {
      const logger = recordingLogger();
      const metrics = recordingMetrics();
      const client = createRedisClient({ url: own.url, keyPrefix: prefix, failOpen: true, commandTimeoutMs: 200 }, { logger, metrics });
      failing.push(client);
      expect(await waitForReady(client, 5_000)).toBe(true);
      return { client, logger, metrics };
    }

    it("rejects every caller of the batch, from one script call, then serves again once Redis is back", async () => {
      const { client } = await connect();
      const s = new RedisStore(client, { prefix });
      stores.push(s);
      expect((await s.admit(rpm(100))).allowed).toBe(true);
      const scripted = client as unknown as { aigwAdmit: (...args: unknown[]) => Promise<unknown>; aigwSettle: (...args: unknown[]) => Promise<unknown> };
      let sent = 0;
      for (const name of ["aigwAdmit", "aigwSettle"] as const) {
        // Counted on the client only: an auto-pipeline, were one used, would call a copy on itself.
        const original = scripted[name];
        scripted[name] = function (this: unknown, ...args: unknown[]) {
          if (this === client) sent++;
          return original.apply(this, args);
        };
      }
      await own.stop();
      const admissions = await Promise.allSettled(Array.from({ length: 20 }, () => s.admit(rpm(100))));
      const settlements = await Promise.allSettled(Array.from({ length: 5 }, () => s.settle({ rates: [], concurrency: null, spends: [{ key: "spend:k", addNano: 1, ttlMs: 1_000 }] })));
      expect(sent).toBe(2);
      for (const outcome of [...admissions, ...settlements]) expect(outcome.status).toBe("rejected");
      const reasons = new Set(admissions.map((o) => (o as PromiseRejectedResult).reason));
      expect(reasons.size).toBe(1); // the batch's one error, given to every caller
      expect([...reasons][0]).toBeInstanceOf(Error);

      await own.start();
      expect(await waitForReady(client, 5_000)).toBe(true);
      await eventually(async () => (await s.admit(rpm(100)).then(() => true, () => false)));
      const after = await Promise.all(Array.from({ length: 3 }, () => s.admit(rpm(3, "rl:fresh"))));
      expect(after.map((r) => r.rates[0].remaining)).toEqual([2, 1, 0]);
    });

    it("lets FailoverStore fall back to local limits for every caller of a failed batch", async () => {
      const { client, logger, metrics } = await connect();
      const failover = new FailoverStore(new RedisStore(client, { prefix }), new MemoryStore(), { failOpen: true, probe: () => client.ping(), probeIntervalMs: 50, metrics, logger });
      expect((await failover.admit(rpm(5))).allowed).toBe(true);
      await own.stop();
      const during = await Promise.all(Array.from({ length: 8 }, () => failover.admit(rpm(5))));
      expect(failover.degraded).toBe(true);
      // Local (allowed ones settle through the outage ledger, which charges Redis once it is back).
      for (const r of during) expect(r.store.kind).toBe("memory");
      expect(during.filter((r) => r.allowed)).toHaveLength(5); // the local limit, exactly
      expect(metrics.storeErrors.get({ store: "redis" })).toBe(8);
      await own.start();
      await eventually(() => !failover.degraded);
      const shared = await Promise.all(Array.from({ length: 8 }, () => failover.admit(rpm(5, "rl:after"))));
      expect(shared.filter((r) => r.allowed)).toHaveLength(5);
      expect(await client.exists(`${prefix}rl:after`)).toBe(1);
      await failover.close();
    });
  });
});
