/**
 * Decides what this process is: the single gateway process (workers = 1), the primary of N
 * workers, or one of those workers; the entry points (../main.ts) call it once the config is
 * loaded. A worker count that is invalid, or that would multiply the memory store's limits,
 * exits 1 with the reason before anything is forked. A worker applies the same rule to every
 * config it loads later (a reload, or its own restart after the file changed): a config that
 * adds limits on the memory store is refused, not enforced N times over.
 */
import cluster from "node:cluster";
import type { GatewayConfig } from "../config/schema";
import { ConfigError } from "../config/validate";
import type { Gateway, GatewayOptions } from "../gateway";
import { createLogger } from "../log";
import { runPrimary } from "./primary";
import { connectWorkerMetrics, workerLogDestination } from "./worker";
import { processesInGroup } from "./group-size";
import { multiWorkerProblem, workerCountFrom } from "./worker-count";

export type ProcessMode =
  | { kind: "primary" }
  | {
      kind: "serve";
      worker: boolean;
      gatewayOptions: GatewayOptions;
      afterStart(gateway: Gateway): void;
      /** Throws a ConfigError when this process cannot run `config` (a reload is then refused). */
      checkConfig(config: GatewayConfig): void;
    };

/** The check of a worker among `workers`: the limits of a new config must not multiply. */
function workerConfigCheck(workers: number): (config: GatewayConfig) => void {
  return (config) => {
    const problem = multiWorkerProblem(config, workers);
    if (problem) throw new ConfigError([problem]);
  };
}

/** The worker count from argv, WORKERS and the config; a ConfigError when it cannot run. */
export function resolveWorkers(argv: readonly string[], env: NodeJS.ProcessEnv, config: GatewayConfig): number {
  const workers = workerCountFrom(argv, env, config.server.workers);
  const problem = multiWorkerProblem(config, workers);
  if (problem) throw new ConfigError([problem]);
  return workers;
}

export function enterProcessMode(argv: readonly string[], config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): ProcessMode {
  if (cluster.isWorker) {
    const checkConfig = workerConfigCheck(Math.max(2, processesInGroup(env)));
    try {
      checkConfig(config);
    } catch (err) {
      // A restart after the file changed under a running group: the siblings keep the old config.
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    return { kind: "serve", worker: true, gatewayOptions: { logDestination: workerLogDestination() }, afterStart: (gateway) => connectWorkerMetrics(gateway.runtime.metrics), checkConfig };
  }
  let workers: number;
  try {
    workers = resolveWorkers(argv, env, config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (workers <= 1) return { kind: "serve", worker: false, gatewayOptions: {}, afterStart: () => undefined, checkConfig: () => undefined };
  // The primary shares stdout with the workers: its writes too stay within PIPE_BUF, whole lines.
  runPrimary({ workers, graceMs: config.server.shutdownGraceMs, logger: createLogger(config.logging.level === "silent" ? "silent" : "info", workerLogDestination()) });
  return { kind: "primary" };
}
