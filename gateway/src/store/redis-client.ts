/**
 * ioredis connections: the one limits, spend and keys share on the state Redis, and the cache's
 * own (a separate instance, so large cache writes never queue behind limit scripts). Either one
 * Redis (`url`) or a Redis Cluster (`cluster`: some of its nodes; ioredis finds the rest and
 * follows slot moves and failovers). Tuned to fail fast: no offline queue and no per-command
 * retries, so while Redis is down a command fails at once and the caller falls back instead of
 * waiting; ioredis keeps reconnecting in the background.
 */
import type { Cluster, Redis } from "ioredis";
import type { GatewayConfig } from "../config/schema";
import type { LoggerPort, TrafficMetrics } from "../traffic/metrics-port";

export type RedisConfig = NonNullable<GatewayConfig["redis"]>;
/** What a connection needs: the state Redis's section, or `cache.redis`. */
export type RedisConnectionConfig = Pick<RedisConfig, "url" | "cluster" | "password" | "commandTimeoutMs"> & Partial<RedisConfig>;
/** One Redis or a cluster: the commands the gateway uses are the same on both. */
export type RedisClient = Redis | Cluster;

/**
 * Where the password comes from: config (usually `${REDIS_PASSWORD}`), then the environment
 * variable (REDIS_PASSWORD for the state Redis, CACHE_REDIS_PASSWORD for the cache's), then the URL.
 */
export function redisPassword(config: RedisConnectionConfig, env: NodeJS.ProcessEnv = process.env, envName = "REDIS_PASSWORD"): string | undefined {
  return config.password ?? (env[envName] || undefined);
}

/** Reconnect quickly at first, then every 2 s at most. */
const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

/** A cluster seed `redis://[:password@]host:port` as ioredis wants it. */
function clusterNode(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 6379) };
}

/**
 * ioredis, loaded with the first connection: a gateway on the memory store (one process, no
 * cache Redis) never loads its ~50 modules (≈ 1 MB of heap, 1.3 MB of RSS measured at start).
 */
function ioredis(): typeof import("ioredis") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("ioredis") as typeof import("ioredis");
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

export function createRedisClient(
  config: RedisConnectionConfig,
  deps: { logger: LoggerPort; metrics: TrafficMetrics },
  env: NodeJS.ProcessEnv = process.env,
  /** The name in log lines and the password's environment variable. */
  role: { store: string; passwordEnv: string } = { store: "redis", passwordEnv: "REDIS_PASSWORD" },
): RedisClient {
  const password = redisPassword(config, env, role.passwordEnv);
  const perConnection = {
    ...(password !== undefined ? { password } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(1000, config.commandTimeoutMs * 4),
  };
  let client: RedisClient;
  if (config.cluster) {
    const seeds = config.cluster;
    const urlPassword = new URL(seeds[0]).password;
    const tls = seeds[0].startsWith("rediss://") ? { tls: {} } : {};
    client = new (ioredis().Cluster)(seeds.map(clusterNode), {
      redisOptions: { ...perConnection, ...(password === undefined && urlPassword ? { password: decodeURIComponent(urlPassword) } : {}), ...tls },
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      scaleReads: "master",
      // A failover moves slots: re-read the map soon after errors, and every 5 s regardless.
      slotsRefreshInterval: 5_000,
      slotsRefreshTimeout: Math.max(1000, config.commandTimeoutMs * 2),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      clusterRetryStrategy: reconnectDelay,
    });
  } else {
    client = new (ioredis().Redis)(config.url ?? "redis://127.0.0.1:6379", { ...perConnection, enableAutoPipelining: true, retryStrategy: reconnectDelay });
  }
  // Log once per outage; the store wrappers count errors in metrics.
  let down = false;
  client.on("error", (err: Error) => {
    if (down) return;
    down = true;
    deps.logger.warn({ store: role.store, err: err.message }, "redis connection error");
  });
  client.on("ready", () => {
    if (down) deps.logger.info({ store: role.store }, "redis connection ready");
    down = false;
  });
  return client;
}

/**
 * Resolves when every master answers a PING (one Redis: it answers). The limit store's probe:
 * on a cluster a random node answering says nothing about the master of the slot that failed.
 */
export async function pingAll(client: RedisClient): Promise<void> {
  if (!isCluster(client)) {
    await client.ping();
    return;
  }
  const masters = client.nodes("master");
  if (masters.length === 0) throw new Error("redis cluster: no master known");
  await Promise.all(masters.map((node) => node.ping()));
}

/** Resolves once the client is ready, or false after `timeoutMs` (the gateway starts anyway). */
export function waitForReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off("ready", onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on("ready", onReady);
  });
}
