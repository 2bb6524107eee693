/**
 * Builds the console from the config, or nothing: it is served only where the admin API is (it
 * needs `auth.adminKey`, and uses the admin API's throttle), and only when `console.enabled`.
 */
import { trustedProxiesOf, type GatewayConfig } from "../../config/schema";
import type { Router } from "../../routing/router";
import type { LoggerPort } from "../../traffic/metrics-port";
import type { AdminAuthThrottle } from "../auth-throttle";
import { ConsoleServer } from "./console-server";
import { ConsoleRecorder } from "./recorder";
import { ConsoleSessions } from "./sessions";
import { defaultAssetDir, UiAssets } from "./ui-assets";

export { ConsoleServer } from "./console-server";
export { ConsoleRecorder, type FinishedRequest } from "./recorder";

export interface ConsoleBuildDeps {
  throttle: (() => AdminAuthThrottle | null | undefined) | null;
  logger: LoggerPort;
  router: () => Router;
  /** The config in force (a reload may change the admin key). */
  config: () => GatewayConfig;
  /** Where the bundle is (tests); dist/console by default. */
  assetDir?: string;
  now?: () => number;
}

export function createConsole(config: GatewayConfig, deps: ConsoleBuildDeps): { server: ConsoleServer; recorder: ConsoleRecorder } | null {
  const adminKey = config.auth.adminKey;
  const throttleOf = deps.throttle;
  if (!config.console.enabled || adminKey === undefined || throttleOf === null || !throttleOf()) return null;
  const now = deps.now ?? Date.now;
  const assets = new UiAssets(deps.assetDir ?? defaultAssetDir());
  if (assets.problem !== null) deps.logger.warn({ event: "console_unavailable" }, assets.problem);
  const trustProxy = trustedProxiesOf(config.server) !== 0;
  const recorder = new ConsoleRecorder(config.console.recentRequests, now(), now);
  const sessions = new ConsoleSessions(adminKey, { ttlMs: config.console.sessionTtlMs, secureCookie: config.console.secureCookie, trustProxy }, now);
  const server = new ConsoleServer({
    adminKey: () => deps.config().auth.adminKey ?? adminKey,
    throttle: () => throttleOf()!,
    logger: deps.logger,
    router: deps.router,
    config: deps.config,
    inflight: () => deps.router().allTargets.reduce((sum, target) => sum + target.inflight, 0),
    recorder,
    assets,
    sessions,
    trustProxy,
    now,
  });
  return { server, recorder };
}
