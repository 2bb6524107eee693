/**
 * Which config fields a running gateway applies on reload and which need a restart: pure, shared
 * with `infra/`, which rolls pods only when a restart-needing field changes (its pod annotation
 * hashes restartView(), not the whole config).
 *
 * Live on reload: models and targets, routing, health checks, upstream timeouts and attempts,
 * connection pool settings (new pools; old ones drain), keys, plans, teams, pricing, per-IP
 * limits, auth.required, the admin key's value, the admin throttle, the cache's TTL, scope and
 * entry size, limits.defaultMaxTokens, logging, server.bodyLimitBytes, writeTimeoutMs, readiness,
 * overload and the trusted proxies.
 * Restart: everything below (listener, connection timeouts, memory budget, stores and their
 * addresses, whether the admin API and the cache exist at all, the stream and deadline bounds the
 * pod's grace period and the limit leases are sized from).
 */
import { isDeepStrictEqual } from "node:util";
import type { GatewayConfig, GatewayConfigInput } from "../config/schema";

type AnyConfig = GatewayConfig | GatewayConfigInput;

/** The fields only a restart applies, by their config path. */
export function restartView(config: AnyConfig): Record<string, unknown> {
  const server = config.server ?? {};
  const defaults = config.upstreamDefaults ?? {};
  const cache = config.cache ?? {};
  const limits = config.limits ?? {};
  return {
    "server.host": server.host,
    "server.port": server.port,
    "server.adminHost": server.adminHost,
    "server.adminPort": server.adminPort,
    "server.workers": server.workers,
    "server.headersTimeoutMs": server.headersTimeoutMs,
    "server.requestTimeoutMs": server.requestTimeoutMs,
    "server.keepAliveTimeoutMs": server.keepAliveTimeoutMs,
    "server.shutdownGraceMs": server.shutdownGraceMs,
    "server.bufferedBytesLimit": server.bufferedBytesLimit,
    "server.listenBacklog": server.listenBacklog,
    "upstreamDefaults.deadlineMs": defaults.deadlineMs,
    "upstreamDefaults.maxStreamMs": defaults.maxStreamMs,
    tracing: config.tracing,
    spend: config.spend,
    redis: config.redis,
    "auth.adminKey (on or off)": config.auth?.adminKey !== undefined,
    "cache.enabled": cache.enabled,
    "cache.store": cache.store,
    "cache.redis": cache.redis,
    "cache.maxBytes": cache.maxBytes,
    "limits.store": limits.store,
    "limits.leaseTtlMs": limits.leaseTtlMs,
    "limits.refusalDelayMs": limits.refusalDelayMs,
    "limits.refusalDelayMaxHeld": limits.refusalDelayMaxHeld,
  };
}

/** The restart-needing fields that differ between two configs. */
export function restartFieldsChanged(running: AnyConfig, next: AnyConfig): string[] {
  const a = restartView(running);
  const b = restartView(next);
  return Object.keys(a).filter((field) => !isDeepStrictEqual(a[field], b[field]));
}
