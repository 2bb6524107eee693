/**
 * How many worker processes to run, and whether the config allows more than one. Pure: the
 * primary (./primary.ts) calls it before forking anything, so a bad count or a config whose
 * limits would multiply with the workers stops the start with a clear error.
 */
import { availableParallelism } from "node:os";
import type { GatewayConfig } from "../config/schema";
import { storesOf } from "../traffic";
import { effectiveLimits, isUnlimited } from "../auth/plans";
import { ownEntry } from "../config/reserved-names";
import { ConfigError } from "../config/validate";

/** More would only add context switches and memory on any machine this runs on. */
export const MAX_WORKERS = 256;

function parseCount(raw: string, source: string, cores: number): number {
  const text = raw.trim();
  if (text === "auto") return cores;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_WORKERS) {
    throw new ConfigError([`${source}: must be a whole number from 1 to ${MAX_WORKERS}, or "auto" (one per core); got "${raw.slice(0, 40)}"`]);
  }
  return Number(text);
}

/**
 * The worker count: `--workers N|auto`, else the WORKERS environment variable, else
 * `server.workers` (default 1). `auto` is one per core (os.availableParallelism()).
 */
export function workerCountFrom(argv: readonly string[], env: NodeJS.ProcessEnv, configured: number | "auto", cores = availableParallelism()): number {
  const flag = argv.indexOf("--workers");
  if (flag >= 0) {
    const value = argv[flag + 1];
    if (value === undefined || value.startsWith("--")) throw new ConfigError(["--workers: needs a number of workers, or \"auto\""]);
    return parseCount(value, "--workers", cores);
  }
  const fromEnv = env.WORKERS;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return parseCount(fromEnv, "WORKERS", cores);
  return configured === "auto" ? cores : Math.min(configured, MAX_WORKERS);
}

/** True when some limit, budget or throttle of the config keeps state in the limit store. */
export function hasStoredLimits(config: GatewayConfig): boolean {
  if (config.auth.perIp || config.auth.adminKey) return true;
  return config.keys.some((key) => {
    const teamBudget = ownEntry(config.teams, key.team)?.monthlyBudgetUsd;
    return !isUnlimited(effectiveLimits(key.limits, key.plan, config.plans), teamBudget);
  });
}

/**
 * Why `workers` processes cannot run this config, or null. With the memory store each worker
 * would keep its own limits: a key would get `workers` times its rate, concurrency and budget.
 */
export function multiWorkerProblem(config: GatewayConfig, workers: number): string | null {
  if (workers <= 1 || storesOf(config).limits !== "memory" || !hasStoredLimits(config)) return null;
  return `server.workers: ${workers} workers with limits on the memory store would each enforce every limit on its own (${workers} × each rate, concurrency and budget); add a redis section (limits.store: redis) or run one worker`;
}
