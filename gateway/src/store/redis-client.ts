/**
 * ioredis connections: the one limits, spend and keys share on the state Redis, and the cache's
 * own (a separate instance, so large cache writes never queue behind limit scripts). Tuned to fail fast:
 * no offline queue and no per-command retries, so while Redis is down a command fails at once
 * and the caller falls back instead of waiting; ioredis keeps reconnecting in the background.
 */
import { Redis } from "ioredis";
import type { GatewayConfig } from "../config/schema";
import type { LoggerPort, TrafficMetrics } from "../traffic/metrics-port";

export type RedisConfig = NonNullable<GatewayConfig["redis"]>;
/** What a connection needs: the state Redis's section, or `cache.redis`. */
export type RedisConnectionConfig = Pick<RedisConfig, "url" | "password" | "commandTimeoutMs"> & Partial<RedisConfig>;

/**
 * Where the password comes from: config (usually `${REDIS_PASSWORD}`), then the environment
 * variable (REDIS_PASSWORD for the state Redis, CACHE_REDIS_PASSWORD for the cache's), then the URL.
 */
export function redisPassword(config: RedisConnectionConfig, env: NodeJS.ProcessEnv = process.env, envName = "REDIS_PASSWORD"): string | undefined {
  return config.password ?? (env[envName] || undefined);
}

export function createRedisClient(
  config: RedisConnectionConfig,
  deps: { logger: LoggerPort; metrics: TrafficMetrics },
  env: NodeJS.ProcessEnv = process.env,
  /** The name in log lines and the password's environment variable. */
  role: { store: string; passwordEnv: string } = { store: "redis", passwordEnv: "REDIS_PASSWORD" },
): Redis {
  const password = redisPassword(config, env, role.passwordEnv);
  const client = new Redis(config.url, {
    ...(password !== undefined ? { password } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(1000, config.commandTimeoutMs * 4),
    enableAutoPipelining: true,
    // Reconnect quickly at first, then every 2 s at most.
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  });
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

/** Resolves once the client is ready, or false after `timeoutMs` (the gateway starts anyway). */
export function waitForReady(client: Redis, timeoutMs: number): Promise<boolean> {
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
