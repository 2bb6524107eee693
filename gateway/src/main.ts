/**
 * Entry point: `node dist/gateway/src/main.js [--config FILE]` (or GATEWAY_CONFIG=FILE); with
 * neither, the embedded default config serves mock models. SIGTERM/SIGINT drain, then exit 0.
 * `--workers N` (or WORKERS, server.workers) runs N worker processes on the port (./cluster/).
 */
import { ALLOW_OPEN_PROXY_ENV, embeddedProviders, isLoopbackHost } from "./config/default-config";
import type { Logger } from "./log";
import type { GatewayConfig } from "./config/schema";
import { readFileSync } from "node:fs";
import { configFileFrom } from "./config/load";
import { enterProcessMode } from "./cluster/process-mode";
import { startGateway, type Gateway } from "./gateway";
import { ConfigWatcher } from "./reload/config-watcher";
import { limitHeapGrowth } from "./heap";
import { exitOnStartFailure, loadConfigOrExit, runUntilSignalled } from "./process-lifecycle";

async function main(): Promise<void> {
  // SIGHUP's default action ends the process: one that comes while starting (a reload sent to a
  // group whose worker is being restarted, or right after start) is noted and applied once the
  // config watcher runs, instead of killing the process.
  let hangupWhileStarting = false;
  const onEarlyHangup = () => (hangupWhileStarting = true);
  process.on("SIGHUP", onEarlyHangup);
  limitHeapGrowth();
  const config = loadConfigOrExit(process.argv.slice(2));
  // server.workers / --workers / WORKERS > 1: this process becomes the primary of N workers.
  const mode = enterProcessMode(process.argv.slice(2), config);
  if (mode.kind === "primary") {
    process.off("SIGHUP", onEarlyHangup);
    return;
  }
  const gateway = await startGateway(config, mode.gatewayOptions);
  mode.afterStart(gateway);
  gateway.runtime.logger.info({ url: gateway.url, adminUrl: gateway.adminUrl, models: config.models.map((m) => m.name) }, "gateway listening");
  // The console is where the admin API is: the admin listener when there is one (server.adminPort).
  if (gateway.runtime.console !== null) gateway.runtime.logger.info({ event: "console", consoleUrl: `${gateway.adminUrl ?? gateway.url}/ui/` }, "console: open it and log in with the admin key");
  const file = configFileFrom(process.argv.slice(2));
  if (file === null) {
    logEmbeddedProviders(gateway.runtime.logger, config.server.host);
    // SIGHUP's default action would end the process.
    if (hangupWhileStarting) gateway.runtime.logger.warn({ event: "config_reload_failed", trigger: "signal" }, "SIGHUP: the embedded config has no file to reload");
    process.on("SIGHUP", () => gateway.runtime.logger.warn({ event: "config_reload_failed", trigger: "signal" }, "SIGHUP: the embedded config has no file to reload"));
  } else watchConfigFile(file, gateway, mode.checkConfig, hangupWhileStarting);
  process.off("SIGHUP", onEarlyHangup);
  runUntilSignalled(gateway, config.server.shutdownGraceMs);
}

/** SIGHUP and changes to the file (a ConfigMap update) reload it; see reload/config-watcher.ts. */
function watchConfigFile(file: string, gateway: Gateway, checkConfig: (config: GatewayConfig) => void, reloadNow: boolean): void {
  // The process mode's own rule (a worker refuses limits that would multiply) on top of validation.
  const checked = { reload: (load: () => GatewayConfig) => gateway.reload(() => { const config = load(); checkConfig(config); return config; }) };
  const watcher = new ConfigWatcher(file, checked, gateway.runtime.logger);
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // Read a moment ago by the loader; an empty baseline makes the first poll reload it.
  }
  watcher.start(text);
  if (reloadNow) void watcher.reload("signal");
  gateway.server.once("close", () => watcher.stop());
}

/** Says which real providers the embedded config added from the environment, and warns when it serves them to the network. */
function logEmbeddedProviders(logger: Logger, host: string): void {
  const providers = embeddedProviders(process.env);
  const open = providers.length > 0 && process.env[ALLOW_OPEN_PROXY_ENV] === "1" && !isLoopbackHost(host);
  const fields = { event: "embedded_config", providers, host, openProxy: open };
  if (open) logger.warn(fields, `embedded config: serving ${providers.join(", ")} without client keys beyond loopback (${ALLOW_OPEN_PROXY_ENV}=1)`);
  else logger.info(fields, providers.length > 0 ? `embedded config: real providers added from ${providers.join(", ")}` : "embedded config: mock models only");
}

main().catch(exitOnStartFailure);
