/**
 * What a gateway process does around startGateway(): read the config (a ConfigError exits 1
 * with every problem listed), log stray errors instead of dying, and drain on SIGTERM/SIGINT
 * before exiting 0. Shared by main.ts and the benchmark's entry point.
 */
import { loadConfig } from "./config/load";
import type { GatewayConfig } from "./config/schema";
import { ConfigError } from "./config/validate";
import type { Gateway } from "./gateway";

export function loadConfigOrExit(argv: string[]): GatewayConfig {
  try {
    return loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Logs uncaught errors, and on the first SIGTERM/SIGINT drains for `graceMs`, then exits 0. */
export function runUntilSignalled(gateway: Gateway, graceMs: number): void {
  const { logger } = gateway.runtime;
  process.on("uncaughtException", (err) => logger.error({ err }, "uncaught exception"));
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal, graceMs }, "draining");
    void gateway.shutdown(graceMs).then(() => {
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** Reports a failed start on stderr and exits 1. */
export function exitOnStartFailure(err: unknown): never {
  process.stderr.write(`gateway failed to start: ${(err as Error).message}\n`);
  process.exit(1);
}
