/**
 * The gateway configurations under test, as plain config objects (written to YAML by the
 * harness): `minimal` (no keys, no access log), `full` with limits on the memory store, and
 * `full` with limits on Redis. Limits are set so high they never trigger: what is measured is
 * their cost, not their effect.
 */
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { MOCK_MODEL } from "../mock-upstream";

/** The client key the load generators send to the `full` gateways. */
export const BENCH_CLIENT_KEY = "sk-bench-0123456789abcdef0123456789abcdef";

export type GatewayVariant = "minimal" | "full-memory" | "full-redis";

export interface GatewayConfigOptions {
  variant: GatewayVariant;
  port: number;
  upstreamPorts: number[];
  /** Required for `full-redis`. */
  redisPort?: number;
}

/**
 * The "every feature": `full-memory` plus a monthly budget (worst-case reservation at
 * admission, priced settlement) and the response cache. The benchmark's requests carry no
 * `temperature: 0`, so each is judged and bypasses the cache.
 */
export function withBudgetAndCache(config: GatewayConfigInput): GatewayConfigInput {
  return {
    ...config,
    plans: { bench: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 2_000_000_000, concurrent: 1_000_000, monthlyBudgetUsd: 1_000_000_000 } },
    pricing: { [MOCK_MODEL]: { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    cache: { enabled: true },
  };
}

export function gatewayConfig(options: GatewayConfigOptions): GatewayConfigInput {
  const { variant, port, upstreamPorts } = options;
  const base: GatewayConfigInput = {
    server: { host: "127.0.0.1", port, shutdownGraceMs: 1_000 },
    healthCheck: { enabled: true, path: "/models", intervalMs: 2_000 },
    logging: { level: "info", accessLog: true },
    models: [
      {
        name: MOCK_MODEL,
        strategy: "round-robin",
        targets: upstreamPorts.map((p, i) => ({ name: `upstream-${i + 1}`, baseUrl: `http://127.0.0.1:${p}/v1`, apiKey: "sk-upstream-bench" })),
      },
    ],
  };
  if (variant === "minimal") return { ...base, logging: { level: "warn", accessLog: false } };
  const full: GatewayConfigInput = {
    ...base,
    auth: { required: true },
    plans: { bench: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 2_000_000_000, concurrent: 1_000_000 } },
    keys: [{ name: "bench", key: BENCH_CLIENT_KEY, team: "bench", plan: "bench" }],
    limits: { store: "memory" },
  };
  if (variant === "full-memory") return full;
  if (options.redisPort === undefined) throw new Error("full-redis needs a redisPort");
  return { ...full, limits: { store: "redis" }, redis: { url: `redis://127.0.0.1:${options.redisPort}`, keyPrefix: "aigw-bench:", failOpen: true } };
}
