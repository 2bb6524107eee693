/**
 * Entry point: `node dist/gateway/src/main.js [--config FILE]` (or GATEWAY_CONFIG=FILE); with
 * neither, the embedded default config serves mock models. SIGTERM/SIGINT drain, then exit 0.
 */
import { loadConfig } from "./config/load";
import { ConfigError } from "./config/validate";
import { startGateway } from "./gateway";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const gateway = await startGateway(config);
  const { logger } = gateway.runtime;
  logger.info({ url: gateway.url, models: config.models.map((m) => m.name) }, "gateway listening");
  process.on("uncaughtException", (err) => logger.error({ err }, "uncaught exception"));
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal, graceMs: config.server.shutdownGraceMs }, "draining");
    void gateway.shutdown().then(() => {
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((err) => {
  process.stderr.write(`gateway failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
