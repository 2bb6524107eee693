/**
 * Redis outages: with failOpen the store keeps admitting on local limits, counts the errors,
 * raises aigw_store_fallback, and goes back to shared limits once Redis answers again;
 * fail closed refuses with GW_ERR_STORE_UNAVAILABLE.
 */
import type { Redis } from "ioredis";
import { GatewayError } from "../../../gateway/src/errors";
import { FailoverStore } from "../../../gateway/src/limits/failover-store";
import { MemoryStore } from "../../../gateway/src/limits/memory-store";
import { RedisStore } from "../../../gateway/src/limits/redis-store";
import type { AdmitInput } from "../../../gateway/src/limits/store";
import { createRedisClient, waitForReady, type RedisClient } from "../../../gateway/src/store/redis-client";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually, recordingLogger, recordingMetrics } from "./fakes";

const rpm = (limit: number): AdmitInput => ({ budgets: [], rates: [{ key: "rl:k:rpm", limit, periodMs: 60_000, cost: 1 }], concurrency: null });

describe("FailoverStore", () => {
  let redis: TestRedis;
  let clients: RedisClient[] = [];
  let stores: FailoverStore[] = [];

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const c of clients) c.disconnect();
    stores = [];
    clients = [];
    await redis.stop();
  });

  async function replica(failOpen: boolean) {
    const metrics = recordingMetrics();
    const logger = recordingLogger();
    const config = { url: redis.url, keyPrefix: "f:", failOpen, commandTimeoutMs: 200 };
    const client = createRedisClient(config, { logger, metrics });
    clients.push(client);
    expect(await waitForReady(client, 5_000)).toBe(true);
    const store = new FailoverStore(new RedisStore(client, { prefix: "f:" }), new MemoryStore(), { failOpen, probe: () => client.ping(), probeIntervalMs: 50, metrics, logger });
    stores.push(store);
    return { store, metrics, logger, client };
  }

  it("serves on local limits while Redis is down, then shares limits again after it restarts", async () => {
    const a = await replica(true);
    const b = await replica(true);
    expect(a.metrics.storeFallback.get()).toBe(0);
    for (let i = 0; i < 3; i++) expect((await a.store.admit(rpm(5))).allowed).toBe(true);

    await redis.stop();
    // Requests are still served, each replica on its own local limit.
    const during = await a.store.admit(rpm(5));
    expect(during.allowed).toBe(true);
    // Settles on the local store (through the outage ledger, which charges Redis once it is back).
    expect(during.store.kind).toBe("memory");
    expect(a.store.degraded).toBe(true);
    expect(a.metrics.storeFallback.get()).toBe(1);
    expect(a.metrics.storeErrors.get({ store: "redis" })).toBeGreaterThanOrEqual(1);
    expect(a.logger.lines.some((l) => l.level === "error" && /local limits/.test(l.msg ?? ""))).toBe(true);
    for (let i = 0; i < 4; i++) expect((await b.store.admit(rpm(5))).allowed).toBe(true);

    await redis.start(); // an empty Redis on the same port
    await eventually(() => !a.store.degraded && !b.store.degraded);
    expect(a.metrics.storeFallback.get()).toBe(0);
    expect(a.logger.lines.some((l) => /reachable again/.test(l.msg ?? ""))).toBe(true);
    // Shared again, and the outage's five local admissions (one on a, four on b) were charged to
    // the new Redis: the limit is used up for the fleet, not handed out afresh.
    expect(a.logger.lines.some((l) => /charged to the shared store/.test(l.msg ?? ""))).toBe(true);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).store.admit(rpm(5))));
    expect(results.filter((r) => r.allowed)).toHaveLength(0);
    expect(await a.client.exists("f:rl:k:rpm")).toBe(1);
  });

  it("settles an admission on the store that made it, even across an outage", async () => {
    const a = await replica(true);
    const conc = { budgets: [], rates: [], concurrency: { key: "conc:k", limit: 1, leaseId: "x" } };
    const admitted = await a.store.admit(conc);
    await redis.stop();
    // Settling on the dead Redis is counted, not thrown; the lease would expire on its own.
    // Its spend is not dropped: it lands on the local store that now serves admissions.
    const spends = [{ key: "spend:k:2025-06", addNano: 7_000, ttlMs: 60_000 }];
    await expect(admitted.store.settle({ rates: [], concurrency: { key: "conc:k", leaseId: "x" }, spends })).resolves.toEqual({ spentNano: [Number.NaN] });
    expect(a.store.degraded).toBe(true);
    expect(a.metrics.storeErrors.get({ store: "redis" })).toBeGreaterThanOrEqual(1);
    const budget = await a.store.admit({ budgets: [{ key: "spend:k:2025-06", limitNano: 7_000 }], rates: [], concurrency: null });
    expect(budget).toMatchObject({ allowed: false, failed: { kind: "budget", index: 0 }, spentNano: [7_000] });
    const local = await a.store.admit(conc);
    expect(local.allowed).toBe(true);
    await local.store.settle({ rates: [], concurrency: { key: "conc:k", leaseId: "x" }, spends: [] });
    expect((await a.store.admit(conc)).allowed).toBe(true);
  });

  it("refuses with GW_ERR_STORE_UNAVAILABLE when fail closed", async () => {
    const a = await replica(false);
    await redis.stop();
    const err = await a.store.admit(rpm(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("GW_ERR_STORE_UNAVAILABLE");
    expect((err as GatewayError).status).toBe(503);
    expect(a.metrics.storeFallback.get()).toBe(1);
    await redis.start();
    await eventually(() => !a.store.degraded);
    expect((await a.store.admit(rpm(5))).allowed).toBe(true);
  });
});
