/**
 * Builds the gateway's TrafficControl from config: client keys, per-IP limit, rate limits and
 * budgets on the memory or Redis store (with local fallback), and the response cache.
 * With none of them configured it is `passthrough` and costs the pipeline nothing.
 */
import { auditApi } from "../admin/api/audit";
import { keysApi } from "../admin/api/keys";
import { createAdminRouter, type AdminModule } from "../admin/router";
import { AdminAuthThrottle } from "../admin/auth-throttle";
import { KeyRegistry } from "../auth/registry";
import { RuntimeKeyStore } from "../auth/runtime-keys";
import { PriceTable } from "../budget/pricing";
import { RollupStore } from "../budget/rollup-store";
import { spendApi } from "../admin/api/spend";
import { budgetedKeysReachingUnpriced } from "../budget/unpriced-check";
import type { ResponseCacheStore } from "../cache/cache-store";
import { MemoryCache } from "../cache/memory-cache";
import { RedisCache } from "../cache/redis-cache";
import type { GatewayConfig } from "../config/schema";
import { FailoverStore } from "../limits/failover-store";
import { MemoryStore } from "../limits/memory-store";
import { RedisStore } from "../limits/redis-store";
import type { LimitStore } from "../limits/store";
import { loadTokenizer } from "../limits/tokens";
import { FleetRegistry } from "../limits/fleet-registry";
import { FleetShareStore } from "../limits/fleet-share";
import { processesInGroup } from "../cluster/group-size";
import { migrateLegacyKeys } from "../store/legacy-keys";
import { createRedisClient, isCluster, pingAll, waitForReady, type RedisClient } from "../store/redis-client";
import { ownEntry } from "../config/reserved-names";
import { Admitter } from "./admitter";
import { noopLogger, noopMetrics, type LoggerPort, type TrafficMetrics } from "./metrics-port";
import { GatewayTrafficControl, type LiveParts, type TrafficParts } from "./traffic-control";

export type { LoggerPort, TrafficMetrics, CounterPort, GaugePort } from "./metrics-port";
export { noopLogger, noopMetrics } from "./metrics-port";
export { GatewayTrafficControl } from "./traffic-control";
export * from "./types";

export interface TrafficDeps {
  metrics?: TrafficMetrics;
  logger?: LoggerPort;
  env?: NodeJS.ProcessEnv;
  /** How long startup waits for Redis before serving on local limits (default 2 s). */
  redisReadyTimeoutMs?: number;
  /** How often a degraded replica pings Redis to go back to shared limits (default 1 s). */
  redisProbeIntervalMs?: number;
  /** How often replicas check Redis for key changes (default 1 s): a change reaches every replica within it. */
  keyRefreshMs?: number;
  /** How often a replica tells Redis it is alive, for the fleet size (default 2 s). */
  fleetHeartbeatMs?: number;
  /** The clock of the in-process stores (tests); Redis uses its own TIME. */
  now?: () => number;
}

/**
 * Where limits and the cache live: limits in the state Redis whenever there is a redis section;
 * the cache in its own Redis (`cache.redis`) or else in process memory, never in the state Redis,
 * whose memory belongs to limits, spend and keys.
 */
export function storesOf(config: GatewayConfig): { limits: "memory" | "redis"; cache: "memory" | "redis" } {
  return { limits: config.limits.store ?? (config.redis ? "redis" : "memory"), cache: config.cache.store ?? (config.cache.redis ? "redis" : "memory") };
}

/**
 * How long a concurrency slot can be held without a release: admission comes after the body is
 * read, then the deadline before the first byte and the longest stream, plus a minute of margin.
 */
export function leaseMaxMsOf(config: GatewayConfig): number {
  return config.upstreamDefaults.deadlineMs + config.upstreamDefaults.maxStreamMs + 60_000;
}

function usesTokenLimits(config: GatewayConfig): boolean {
  return config.keys.some((k) => k.limits.tokensPerMinute !== undefined) || Object.values(config.plans).some((p) => p.tokensPerMinute !== undefined) || (!!config.redis && !!config.auth.adminKey);
}

/**
 * Synchronous, as the pipeline builds it at startup: the Redis connection and the first load
 * of runtime keys finish in the background, and the first requests wait for them (up to
 * `redisReadyTimeoutMs`); `ready()` resolves when that is over.
 */
export function createTrafficControl(config: GatewayConfig, deps: TrafficDeps = {}): GatewayTrafficControl {
  const metrics = deps.metrics ?? noopMetrics;
  const logger = deps.logger ?? noopLogger;
  const closers: TrafficParts["closers"] = [];
  const runtimeKeys = !!config.redis && !!config.auth.adminKey;
  const stores = storesOf(config);
  const needsRedis = !!config.redis && (stores.limits === "redis" || runtimeKeys);

  // Before the Redis wait starts: loading the vocabulary blocks the event loop (seconds on a
  // loaded machine), which would otherwise use up the startup wait before the connection is read.
  if (usesTokenLimits(config)) loadTokenizer();
  let client: RedisClient | null = null;
  let connected: Promise<unknown> = Promise.resolve();
  if (config.redis && needsRedis) {
    const redis = createRedisClient(config.redis, { logger, metrics }, deps.env);
    client = redis;
    const prefixNow = config.redis.keyPrefix;
    connected = waitForReady(redis, deps.redisReadyTimeoutMs ?? 2_000).then(async (ready) => {
      if (!ready) return logger.warn({ store: "redis" }, "redis not reachable at startup; starting anyway");
      if (!isCluster(redis)) await migrateLegacyKeys(redis, prefixNow, logger).catch((err: unknown) => logger.warn({ store: "redis", err: err instanceof Error ? err.message : String(err) }, "could not carry over state from the old key names"));
    });
  }
  const prefix = config.redis?.keyPrefix ?? "aigw:";

  const leaseMaxMs = leaseMaxMsOf(config);
  const memory = new MemoryStore(deps.now, { leaseMaxMs });
  let limitStore: LimitStore = memory;
  if (client && config.redis && stores.limits === "redis") {
    const redis = client;
    // Fail open, each replica enforces its share of the last known fleet size, not every limit whole.
    let local: LimitStore = memory;
    if (config.redis.failOpen) {
      const fleet = new FleetRegistry(redis, { prefix, heartbeatMs: deps.fleetHeartbeatMs, logger, minSize: processesInGroup(deps.env ?? process.env) });
      connected = connected.then(() => fleet.start());
      closers.push(() => fleet.close());
      local = new FleetShareStore(memory, () => fleet.size);
    }
    limitStore = new FailoverStore(new RedisStore(redis, { prefix, leaseTtlMs: config.limits.leaseTtlMs, leaseMaxMs }), local, {
      failOpen: config.redis.failOpen,
      probe: () => pingAll(redis),
      probeIntervalMs: deps.redisProbeIntervalMs ?? 1_000,
      metrics,
      logger,
    });
  }
  closers.push(() => limitStore.close());

  let runtime: RuntimeKeyStore | null = null;
  if (client && runtimeKeys) {
    const store = new RuntimeKeyStore(client, prefix, { pollMs: deps.keyRefreshMs ?? 1_000, auditMaxEvents: config.auth.auditMaxEvents, onError: () => metrics.storeErrors.inc({ store: "redis" }) });
    runtime = store;
    connected = connected.then(() => store.start());
    closers.push(() => store.close());
  }
  const registry = new KeyRegistry(config, runtime);

  let cache: TrafficParts["cache"] = null;
  let cacheStore: ResponseCacheStore | null = null;
  if (config.cache.enabled) {
    let store: ResponseCacheStore = new MemoryCache(config.cache.maxBytes, deps.now);
    if (config.cache.redis && stores.cache === "redis") {
      // Its own connection to its own instance: a large write never delays a limit script.
      const cacheClient = createRedisClient(config.cache.redis, { logger, metrics }, deps.env, { store: "cache", passwordEnv: "CACHE_REDIS_PASSWORD" });
      store = new RedisCache(cacheClient, config.cache.redis.keyPrefix);
      const cacheReady = waitForReady(cacheClient, deps.redisReadyTimeoutMs ?? 2_000).then((ready) => {
        if (!ready) logger.warn({ store: "cache" }, "cache redis not reachable at startup; starting anyway (cache misses)");
      });
      connected = Promise.all([connected, cacheReady]);
      closers.push(async () => {
        await cacheClient.quit().catch(() => cacheClient.disconnect());
      });
    }
    cache = { store, ttlMs: config.cache.ttlMs, scope: config.cache.scope, kind: store instanceof RedisCache ? "redis" : "memory", maxEntryBytes: config.cache.maxEntryBytes };
    cacheStore = store;
    closers.push(() => store.close());
  }

  const admitter = new Admitter({ store: limitStore, prices: new PriceTable(config.pricing), metrics, logger, defaultMaxTokens: config.limits.defaultMaxTokens,
    refusalDelay: { maxDelayMs: config.limits.refusalDelayMs, maxHeldPerKey: config.limits.refusalDelayMaxHeld.perKey, maxHeldTotal: config.limits.refusalDelayMaxHeld.total },
    now: deps.now,
  });
  // Spend rollups go to the state Redis whenever there is one (else they stay in this process).
  const rollups = new RollupStore(client ?? (config.redis ? (client = createRedisClient(config.redis, { logger, metrics }, deps.env)) : null), prefix, {
    retentionMonths: config.spend.retentionMonths,
    flushIntervalMs: config.spend.flushIntervalMs,
    logger,
    onStoreError: () => metrics.storeErrors.inc({ store: "redis" }),
  });
  closers.push(() => rollups.close());
  /** Its prices follow config reloads (configure() below). */
  const spend: { prices: PriceTable; rollups: RollupStore; liveRuntimeKeys: () => ReadonlySet<string> | null } = { prices: new PriceTable(config.pricing), rollups, liveRuntimeKeys: () => runtime?.names() ?? null };

  /** What a config reload can change: built here at start, and again for each reload. */
  const configure = (cfg: GatewayConfig): LiveParts => {
    if (usesTokenLimits(cfg)) loadTokenizer();
    registry.reconfigure(cfg);
    const prices = new PriceTable(cfg.pricing, (model) => logger.warn({ model }, "no price for this model: keys without a budget spend $0 on it, budgeted keys are refused (set pricing in config, or pricing.default)"));
    for (const { key, models } of budgetedKeysReachingUnpriced(cfg, prices)) {
      logger.warn({ keyName: key, models }, `key "${key}" has a budget but can reach models with no price (${models.join(", ")}): it will be refused on them; set pricing for them or pricing.default`);
    }
    admitter.reconfigure({ prices, defaultMaxTokens: cfg.limits.defaultMaxTokens });
    spend.prices = prices;
    const perIp = cfg.auth.perIp ? { store: limitStore, requests: cfg.auth.perIp.requests, windowMs: cfg.auth.perIp.windowMs } : null;
    const throttle = new AdminAuthThrottle(limitStore, cfg.auth.adminThrottle, logger);
    // The admin API's resources: each module is one line here.
    const adminModules: AdminModule[] = [keysApi({ config: cfg, registry, runtime, logger }), auditApi(runtime), spendApi({ rollups, logger, now: deps.now })];
    const admin = cfg.auth.adminKey ? createAdminRouter({ adminKey: cfg.auth.adminKey, throttle, logger, modules: adminModules }) : null;
    const liveCache = cache && cacheStore ? { ...cache, ttlMs: cfg.cache.ttlMs, scope: cfg.cache.scope, maxEntryBytes: cfg.cache.maxEntryBytes } : null;
    const authRequired = cfg.auth.required ?? registry.hasKeys;
    const passthrough = !authRequired && !registry.hasKeys && !perIp && !liveCache && !admin;
    return { passthrough, authRequired, perIp, cache: liveCache, admin, adminThrottle: admin ? throttle : null };
  };
  /** Runtime keys on a plan the new config drops would silently lose their limits: refuse such a reload. */
  const reloadProblems = (cfg: GatewayConfig): string[] =>
    (runtime?.snapshotRecords() ?? [])
      .filter((r) => r.plan !== "default" && ownEntry(cfg.plans, r.plan) === undefined)
      .map((r) => `plans: runtime key "${r.name}" is on plan "${r.plan}", which this config no longer defines (the key would lose its limits); move the key to another plan first (PATCH /admin/keys/${r.name})`);
  const live = configure(config);

  if (client) {
    const redis = client;
    closers.push(async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
  }
  logger.info(
    { passthrough: live.passthrough, authRequired: live.authRequired, configKeys: config.keys.length, runtimeKeys, limitsStore: limitStore === memory ? "memory" : "redis", cache: cache ? cache.kind : "off", perIp: !!live.perIp },
    "traffic control ready",
  );
  const startup = client || cache?.kind === "redis" ? connected.then(() => undefined) : null;
  return new GatewayTrafficControl({ ...live, registry, admitter, metrics, logger, startup, closers, configure, reloadProblems, spend });
}
