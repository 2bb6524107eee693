/**
 * Entry point: `node dist/gateway/src/main.js [--config FILE]` (or GATEWAY_CONFIG=FILE); with
 * neither, the embedded default config serves mock models. SIGTERM/SIGINT drain, then exit 0.
 */
import { startGateway } from "./gateway";
import { limitHeapGrowth } from "./heap";
import { exitOnStartFailure, loadConfigOrExit, runUntilSignalled } from "./process-lifecycle";

async function main(): Promise<void> {
  limitHeapGrowth();
  const config = loadConfigOrExit(process.argv.slice(2));
  const gateway = await startGateway(config);
  gateway.runtime.logger.info({ url: gateway.url, models: config.models.map((m) => m.name) }, "gateway listening");
  runUntilSignalled(gateway, config.server.shutdownGraceMs);
}

main().catch(exitOnStartFailure);
