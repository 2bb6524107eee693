/**
 * Builds a gateway from a validated config (router, pools, health checks, traffic control,
 * metrics), serves it, and shuts it down gracefully: readiness fails at once, no new
 * connections, in-flight requests and streams finish within the grace period.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { DestinationStream } from "pino";
import { trustedProxiesOf, type GatewayConfig } from "./config/schema";
import { BufferBudget, defaultBufferedBytesLimit } from "./http/buffer-budget";
import { clientIpResolver, directListenerTrust } from "./http/client-ip";
import { dropRatiosOfPastMonths } from "./metrics/budget-month";
import { createGatewayServer, listen, urlOf } from "./http/http-server";
import { OverloadGuard } from "./http/overload-guard";
import { createLoggers, flushLogger, type Logger } from "./log";
import { GatewayMetrics } from "./metrics/registry";
import { keyLabelsFor } from "./metrics/key-labels";
import { TargetHealthInfo } from "./metrics/target-health-info";
import { createTracer } from "./tracing/tracer";
import type { GatewayRuntime } from "./handlers/runtime";
import { createRequestListener } from "./server";
import { createTrafficControl } from "./traffic";
import type { TrafficControl } from "./traffic/types";
import { applyConfig, type ApplyContext, type ReloadReport } from "./reload/apply-config";
import { LiveUpstreams } from "./upstream/upstream-set";
import { createConsole } from "./admin/console";
import { createResponseStore } from "./responses/create-store";
import { SETTLE_WAIT_MS, untilNoneInFlight } from "./shutdown-settle";

export interface GatewayOptions {
  /** Where logs go (tests capture them); stdout, asynchronously, by default. */
  logDestination?: DestinationStream;
  /** Traffic control to use; built from the config by default. */
  trafficControl?: (config: GatewayConfig, deps: { metrics: GatewayMetrics; logger: Logger }) => TrafficControl;
  /** The open-file limit the overload ceilings derive from; read from /proc by default (null: none). */
  openFileLimit?: number | null;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  /** The admin listener (`server.adminPort`): /metrics and /admin/… live there; null without one. */
  readonly adminUrl: string | null;
  readonly adminPort: number | null;
  readonly runtime: GatewayRuntime;
  readonly server: Server;
  readonly adminServer: Server | null;
  /** Drains: readiness fails, in-flight work gets `graceMs`, then everything closes. */
  shutdown(graceMs?: number): Promise<void>;
  /**
   * Loads a config and applies it live (see reload/apply-config.ts); throws, keeping the running
   * config, when loading or applying fails. Counted in aigw_config_reload_total.
   */
  reload(load: () => GatewayConfig): ReloadReport;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const { logger, accessLog, sink } = createLoggers(config.logging.level, options.logDestination);
  const metrics = new GatewayMetrics({ maxRequestSeconds: (config.upstreamDefaults.deadlineMs + config.upstreamDefaults.maxStreamMs) / 1000 });
  if (sink) metrics.countDroppedLogLines(() => sink.dropped);
  const keyLabels = keyLabelsFor(config, metrics);
  const buffers = new BufferBudget(
    config.server.bufferedBytesLimit ?? defaultBufferedBytesLimit(Math.max(config.server.bodyLimitBytes, config.upstreamDefaults.maxResponseBytes)),
  );
  // Router, pools, health checks and forwarder: rebuilt and swapped by a config reload.
  const upstreams = new LiveUpstreams(config, { metrics, logger, buffers });
  const traffic = (options.trafficControl ?? ((cfg, deps) => createTrafficControl(cfg, deps)))(config, { metrics, logger });
  const resolveClientIp = clientIpResolver(trustedProxiesOf(config.server));
  const resolveAdminClientIp = clientIpResolver(directListenerTrust(trustedProxiesOf(config.server)));
  const tracer = createTracer(config.tracing, logger, (result, spans) => metrics.tracingSpans.labels(result).inc(spans));
  const consoleParts = createConsole(config, { throttle: () => traffic.adminThrottle, logger, router: () => runtime.router, config: () => runtime.config });
  const runtime: GatewayRuntime = {
    config,
    router: upstreams.current.router,
    forwarder: upstreams.current.forwarder,
    metrics,
    logger,
    accessLog: config.logging.accessLog ? accessLog : null,
    traffic,
    buffers,
    overload: new OverloadGuard(config.server.overload, metrics, options.openFileLimit === undefined ? undefined : options.openFileLimit),
    responses: createResponseStore(config, { logger, metrics }),
    admin: consoleParts ? consoleParts.server.wrapAdmin(traffic.handleAdmin ?? null) : traffic.handleAdmin ?? null,
    console: consoleParts?.server ?? null,
    recorder: consoleParts?.recorder ?? null,
    clientIp: (req) => resolveClientIp(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
    adminListenerClientIp: (req) => resolveAdminClientIp(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
    keyLabels,
    spend: traffic.spend ?? null,
    draining: false,
    tracer,
  };
  metrics.onScrape(dropRatiosOfPastMonths([metrics.budgetUsedRatio, metrics.teamBudgetUsedRatio]));
  const healthInfo = new TargetHealthInfo(metrics.targetHealthInfo);
  metrics.onScrape(() => {
    const now = Date.now();
    metrics.bufferedBytes.set(buffers.usedBytes);
    for (const state of runtime.router.allTargets) metrics.targetUp.labels(state.model, state.name).set(state.isAvailable(now) ? 1 : 0);
    for (const pool of runtime.router.pools.values()) metrics.modelHealthyTargets.labels(pool.name).set(pool.healthyCount(now));
    // A runtime key deleted (here or on another replica) leaves no series behind.
    const live = traffic.spend?.liveRuntimeKeys();
    if (live) for (const name of runtime.keyLabels.runtimeKeyNames()) if (!live.has(name)) runtime.keyLabels.forget(name);
    healthInfo.refresh(runtime.router.allTargets, now);
  });

  /** Responses not yet closed, on either listener: the drain waits for them. */
  const active = new Set<ServerResponse>();
  // One listener function for every response (it reads the response from `this`): no closure per request.
  const untrack = function (this: ServerResponse) {
    active.delete(this);
  };
  const track = (listener: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    res.on("close", untrack);
    listener(req, res);
  };
  const onError = (err: unknown) => logger.error({ err }, "unhandled request error");
  const { adminPort, adminHost } = config.server;
  // With server.adminPort the operator's endpoints move to their own listener (see http/listener-surface.ts).
  const server = createGatewayServer(config.server, track(createRequestListener(runtime, onError, adminPort === undefined ? "all" : "public")));
  const adminServer = adminPort === undefined ? null : createGatewayServer(config.server, track(createRequestListener(runtime, onError, "admin")));
  const servers = adminServer === null ? [server] : [server, adminServer];
  for (const listener of servers) runtime.overload.watchConnections(listener);
  // Serve only once Redis answered (or startup gave up on it, bounded) and runtime keys loaded.
  await traffic.ready?.();
  const port = await listen(server, config.server.port, config.server.host, config.server.listenBacklog);
  const boundAdminPort = adminServer === null ? null : await listen(adminServer, adminPort!, adminHost).catch(async (err: unknown) => {
    await new Promise((resolve) => server.close(resolve));
    throw err;
  });
  upstreams.current.healthChecker.start();
  runtime.overload.start({ host: config.server.host, port });
  const { maxInFlight, maxConnections } = runtime.overload;
  if (maxInFlight !== config.server.overload.maxInFlight) logger.warn({ configured: config.server.overload.maxInFlight, maxInFlight, maxConnections }, "server.overload.maxInFlight lowered to what the open-file limit allows (two sockets a request); raise `ulimit -n` for more");
  metrics.configLastReloadSuccess.set(Date.now() / 1000);
  const reloadContext: ApplyContext = { started: config, runtime, upstreams, traffic, logger, accessLog, metrics };

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (graceMs = config.server.shutdownGraceMs): Promise<void> => {
    shuttingDown ??= (async () => {
      runtime.draining = true;
      upstreams.current.healthChecker.stop();
      runtime.overload.stop();
      const closed = Promise.all(servers.map((each) => new Promise<void>((resolve) => each.close(() => resolve()))));
      const deadline = Date.now() + graceMs;
      // Answers not begun yet close their connection after them, so keep-alive clients reconnect
      // elsewhere instead of racing the idle-connection close below with their next request.
      for (const res of active) if (!res.headersSent) res.setHeader("connection", "close");
      while (active.size > 0 && Date.now() < deadline) {
        for (const each of servers) each.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const each of servers) each.closeAllConnections();
      await closed;
      // A request cut above ends within a few turns, but one whose admission is still in Redis
      // ends only when Redis answers: its settlement must be sent before the store closes.
      const unsettled = await untilNoneInFlight(runtime.overload, SETTLE_WAIT_MS);
      if (unsettled > 0) logger.warn({ requests: unsettled, waitedMs: SETTLE_WAIT_MS }, "shutting down with requests not yet settled (their concurrency slots expire with their leases)");
      await Promise.all([traffic.close(), upstreams.destroy(), tracer?.shutdown(Math.min(2_000, config.tracing.exportTimeoutMs)), runtime.responses.close()]);
      flushLogger(logger);
    })();
    return shuttingDown;
  };

  const reload = (load: () => GatewayConfig): ReloadReport => {
    try {
      const report = applyConfig(reloadContext, load());
      metrics.configReloads.inc({ result: "success" });
      metrics.configLastReloadSuccess.set(Date.now() / 1000);
      return report;
    } catch (err) {
      metrics.configReloads.inc({ result: "failure" });
      throw err;
    }
  };

  return {
    url: urlOf(config.server.host, port),
    port,
    adminUrl: boundAdminPort === null ? null : urlOf(adminHost, boundAdminPort),
    adminPort: boundAdminPort,
    runtime,
    server,
    adminServer,
    shutdown,
    reload,
  };
}
