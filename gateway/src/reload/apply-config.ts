/**
 * Applies a new, validated config to a running gateway: the upstream set is rebuilt and swapped
 * (requests in flight keep what they picked: see upstream/upstream-set.ts), traffic control takes
 * the new keys, plans, teams, pricing and limits, and logging, the trusted proxies and per-request
 * server settings follow. Fields only a restart applies are reported, not applied. Nothing is
 * changed when the new config is refused.
 */
import type { GatewayConfig } from "../config/schema";
import { trustedProxiesOf } from "../config/schema";
import { ConfigError } from "../config/validate";
import type { GatewayRuntime } from "../handlers/runtime";
import { clientIpResolver } from "../http/client-ip";
import type { AccessLog, Logger } from "../log";
import { keyLabelsFor } from "../metrics/key-labels";
import type { GatewayMetrics } from "../metrics/registry";
import type { TrafficControl } from "../traffic/types";
import type { LiveUpstreams } from "../upstream/upstream-set";
import { restartFieldsChanged } from "./reload-scope";

export interface ReloadReport {
  /** Models served now. */
  models: string[];
  /** Fields that changed but keep their running values until a restart. */
  restartNeeded: string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ApplyContext {
  /** The config the process started with: restart-needing fields keep its values. */
  started: GatewayConfig;
  runtime: Mutable<GatewayRuntime>;
  upstreams: LiveUpstreams;
  traffic: TrafficControl;
  logger: Logger;
  /** The access log at the start level; a reload derives one at the new level. */
  accessLog: AccessLog;
  metrics: GatewayMetrics;
}

/** Applies `next`, or throws ConfigError (and changes nothing) when traffic control refuses it. */
export function applyConfig(ctx: ApplyContext, next: GatewayConfig): ReloadReport {
  const problems = ctx.traffic.reloadProblems?.(next) ?? [];
  if (problems.length > 0) throw new ConfigError(problems);
  const restartNeeded = restartFieldsChanged(ctx.started, next);
  const set = ctx.upstreams.swap(next);
  ctx.traffic.reconfigure?.(next);
  const { runtime } = ctx;
  runtime.router = set.router;
  runtime.forwarder = set.forwarder;
  // Key and team labels: config keys that left lose their series; the labeller learns the new ones.
  const kept = new Set(next.keys.map((k) => `${k.name}\u0000${k.team}`));
  for (const key of runtime.config.keys) if (!kept.has(`${key.name}\u0000${key.team}`)) ctx.metrics.forgetKey(key.name, key.team);
  runtime.keyLabels = keyLabelsFor(next, ctx.metrics);
  runtime.config = next;
  runtime.overload.configure(next.server.overload);
  const resolveClientIp = clientIpResolver(trustedProxiesOf(next.server));
  runtime.clientIp = (req) => resolveClientIp(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
  ctx.logger.level = next.logging.level;
  runtime.accessLog = next.logging.accessLog ? ctx.accessLog.withLevel(next.logging.level) : null;
  ctx.metrics.configRestartPending.set(restartNeeded.length > 0 ? 1 : 0);
  return { models: [...set.router.pools.keys()], restartNeeded };
}
