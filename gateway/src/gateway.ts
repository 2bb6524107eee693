/**
 * Builds a gateway from a validated config (router, pools, health checks, traffic control,
 * metrics), serves it, and shuts it down gracefully: readiness fails at once, no new
 * connections, in-flight requests and streams finish within the grace period.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DestinationStream } from "pino";
import { trustedProxiesOf, type GatewayConfig } from "./config/schema";
import { BufferBudget, defaultBufferedBytesLimit } from "./http/buffer-budget";
import { clientIpResolver } from "./http/client-ip";
import { createLoggers, flushLogger, type Logger } from "./log";
import { GatewayMetrics } from "./metrics/registry";
import { keyLabelsFor } from "./metrics/key-labels";
import type { GatewayRuntime } from "./handlers/runtime";
import { createRequestListener } from "./server";
import { createTrafficControl } from "./traffic";
import type { TrafficControl } from "./traffic/types";
import { applyConfig, type ApplyContext, type ReloadReport } from "./reload/apply-config";
import { LiveUpstreams } from "./upstream/upstream-set";
import { createConsole } from "./admin/console";

export interface GatewayOptions {
  /** Where logs go (tests capture them); stdout, asynchronously, by default. */
  logDestination?: DestinationStream;
  /** Traffic control to use; built from the config by default. */
  trafficControl?: (config: GatewayConfig, deps: { metrics: GatewayMetrics; logger: Logger }) => TrafficControl;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly runtime: GatewayRuntime;
  readonly server: Server;
  /** Drains: readiness fails, in-flight work gets `graceMs`, then everything closes. */
  shutdown(graceMs?: number): Promise<void>;
  /**
   * Loads a config and applies it live (see reload/apply-config.ts); throws, keeping the running
   * config, when loading or applying fails. Counted in aigw_config_reload_total.
   */
  reload(load: () => GatewayConfig): ReloadReport;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const { logger, accessLog } = createLoggers(config.logging.level, options.logDestination);
  const metrics = new GatewayMetrics({ maxRequestSeconds: (config.upstreamDefaults.deadlineMs + config.upstreamDefaults.maxStreamMs) / 1000 });
  const keyLabels = keyLabelsFor(config, metrics);
  const buffers = new BufferBudget(
    config.server.bufferedBytesLimit ?? defaultBufferedBytesLimit(Math.max(config.server.bodyLimitBytes, config.upstreamDefaults.maxResponseBytes)),
  );
  // Router, pools, health checks and forwarder: rebuilt and swapped by a config reload.
  const upstreams = new LiveUpstreams(config, { metrics, logger, buffers });
  const traffic = (options.trafficControl ?? ((cfg, deps) => createTrafficControl(cfg, deps)))(config, { metrics, logger });
  const resolveClientIp = clientIpResolver(trustedProxiesOf(config.server));
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
    admin: consoleParts ? consoleParts.server.wrapAdmin(traffic.handleAdmin ?? null) : traffic.handleAdmin ?? null,
    console: consoleParts?.server ?? null,
    recorder: consoleParts?.recorder ?? null,
    clientIp: (req) => resolveClientIp(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
    keyLabels,
    spend: traffic.spend ?? null,
    draining: false,
  };
  metrics.onScrape(() => {
    const now = Date.now();
    metrics.bufferedBytes.set(buffers.usedBytes);
    for (const state of runtime.router.allTargets) metrics.targetUp.labels(state.model, state.name).set(state.isAvailable(now) ? 1 : 0);
    for (const pool of runtime.router.pools.values()) metrics.modelHealthyTargets.labels(pool.name).set(pool.healthyCount(now));
    // A runtime key deleted (here or on another replica) leaves no series behind.
    const live = traffic.spend?.liveRuntimeKeys();
    if (live) for (const name of runtime.keyLabels.runtimeKeyNames()) if (!live.has(name)) runtime.keyLabels.forget(name);
  });

  /** Responses not yet closed: the drain waits for them. */
  const active = new Set<ServerResponse>();
  const listener = createRequestListener(runtime, (err) => logger.error({ err }, "unhandled request error"));
  const server = createServer(
    {
      headersTimeout: config.server.headersTimeoutMs,
      requestTimeout: config.server.requestTimeoutMs,
      keepAliveTimeout: config.server.keepAliveTimeoutMs,
      // Node checks both timeouts only every 30 s by default, so a slowloris client would hold a
      // socket for up to 30 s past them; check at least once a second.
      connectionsCheckingInterval: Math.min(1_000, config.server.headersTimeoutMs),
      // A long stream must not be cut by the request timeout: it only bounds receiving the request.
    },
    (req, res) => {
      active.add(res);
      res.once("close", () => active.delete(res));
      listener(req, res);
    },
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const body = JSON.stringify({ error: { message: `Bad request: ${status.slice(4)}.`, type: "invalid_request_error", param: null, code: status.slice(0, 3) === "408" ? "request_timeout" : "bad_request" } });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  // Serve only once Redis answered (or startup gave up on it, bounded) and runtime keys loaded.
  await traffic.ready?.();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  upstreams.current.healthChecker.start();
  metrics.configLastReloadSuccess.set(Date.now() / 1000);
  const reloadContext: ApplyContext = { started: config, runtime, upstreams, traffic, logger, accessLog, metrics };
  const port = (server.address() as AddressInfo).port;
  const host = config.server.host === "0.0.0.0" || config.server.host === "::" ? "127.0.0.1" : config.server.host;

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (graceMs = config.server.shutdownGraceMs): Promise<void> => {
    shuttingDown ??= (async () => {
      runtime.draining = true;
      upstreams.current.healthChecker.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + graceMs;
      // Answers not begun yet close their connection after them, so keep-alive clients reconnect
      // elsewhere instead of racing the idle-connection close below with their next request.
      for (const res of active) if (!res.headersSent) res.setHeader("connection", "close");
      while (active.size > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      server.closeAllConnections();
      await closed;
      await Promise.all([traffic.close(), upstreams.destroy()]);
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

  return { url: `http://${host}:${port}`, port, runtime, server, shutdown, reload };
}
