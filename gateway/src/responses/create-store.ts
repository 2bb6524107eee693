/**
 * Builds the response store from `responses` in the config: in process memory, or in Redis
 * (its own, `responses.redis`, or else the state Redis under the same key prefix) so every
 * replica sees every conversation.
 */
import type { GatewayConfig } from "../config/schema";
import { createRedisClient } from "../store/redis-client";
import type { LoggerPort, TrafficMetrics } from "../traffic/metrics-port";
import { MemoryResponseStore } from "./memory-store";
import { RedisResponseStore } from "./redis-store";
import type { ResponseStore } from "./store";

export function responseStoreKind(config: GatewayConfig): "memory" | "redis" {
  return config.responses.store ?? (config.responses.redis || config.redis ? "redis" : "memory");
}

export function createResponseStore(config: GatewayConfig, deps: { logger: LoggerPort; metrics: TrafficMetrics }): ResponseStore {
  const settings = config.responses;
  if (responseStoreKind(config) === "memory") return new MemoryResponseStore(settings);
  const own = settings.redis;
  const connection = own ?? config.redis!;
  const client = createRedisClient(connection, deps, process.env, own ? { store: "responses", passwordEnv: "RESPONSES_REDIS_PASSWORD" } : { store: "redis", passwordEnv: "REDIS_PASSWORD" });
  return new RedisResponseStore(client, connection.keyPrefix, settings, true);
}
