/**
 * Validation of a gateway config: the zod schema plus the checks that span fields
 * (unique names, fallbacks that exist, stores that need Redis). Errors name the field path.
 */
import type { ZodIssue } from "zod";
import { ownEntry, reservedNameProblems } from "./reserved-names";
import { gatewayConfigSchema, type GatewayConfig } from "./schema";
import { keyPrefixProblem } from "../store/redis-keys";
import { routeProblems } from "./route-check";

export class ConfigError extends Error {
  readonly code = "GW_ERR_CONFIG";
  constructor(readonly problems: string[]) {
    super(`invalid gateway config:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${part}` : part), "");
}

function formatIssue(issue: ZodIssue): string {
  const where = formatPath(issue.path) || "(root)";
  if (issue.code === "unrecognized_keys") return `${where}: unknown field(s) ${issue.keys.join(", ")}`;
  return `${where}: ${issue.message}`;
}

/** Problems no single field can see. */
function crossFieldProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const modelNames = new Set<string>();
  config.models.forEach((model, i) => {
    if (modelNames.has(model.name)) problems.push(`models[${i}].name: duplicate model "${model.name}"`);
    modelNames.add(model.name);
    const targetNames = new Set<string>();
    model.targets.forEach((target, j) => {
      if (targetNames.has(target.name)) problems.push(`models[${i}].targets[${j}].name: duplicate target "${target.name}"`);
      targetNames.add(target.name);
    });
  });
  config.models.forEach((model, i) =>
    model.fallbacks.forEach((fallback, j) => {
      if (fallback === model.name) problems.push(`models[${i}].fallbacks[${j}]: a model cannot fall back to itself`);
      else if (!modelNames.has(fallback)) problems.push(`models[${i}].fallbacks[${j}]: unknown model "${fallback}"`);
    }),
  );
  problems.push(...routeProblems(config));
  const keyNames = new Set<string>();
  config.keys.forEach((key, i) => {
    if (keyNames.has(key.name)) problems.push(`keys[${i}].name: duplicate key name "${key.name}"`);
    keyNames.add(key.name);
    if (key.plan !== "default" && ownEntry(config.plans, key.plan) === undefined) problems.push(`keys[${i}].plan: unknown plan "${key.plan}"`);
    key.models.forEach((m, j) => {
      if (!modelNames.has(m)) problems.push(`keys[${i}].models[${j}]: unknown model "${m}"`);
    });
  });
  // Node refuses to create the server otherwise; say so with the field path instead.
  if (config.server.headersTimeoutMs > config.server.requestTimeoutMs) {
    problems.push(`server.headersTimeoutMs: must not exceed server.requestTimeoutMs (${config.server.requestTimeoutMs})`);
  }
  const { port, adminPort } = config.server;
  if (adminPort !== undefined && adminPort !== 0 && adminPort === port) {
    problems.push(`server.adminPort: must differ from server.port (${port}): the admin listener is a second port`);
  }
  const { trustProxy, trustedProxies } = config.server;
  if (trustProxy === false && trustedProxies !== undefined && trustedProxies !== 0) {
    problems.push("server.trustedProxies: contradicts server.trustProxy: false (drop one of them)");
  }
  // Runtime keys live in Redis: without it an admin key turns no client authentication on, and a
  // config that looks locked down would serve anonymous requests. Say so, unless auth.required
  // states the intent (or config keys already require a key).
  if (config.auth.adminKey !== undefined && !config.redis && config.auth.required === undefined && config.keys.length === 0) {
    problems.push("auth.adminKey: without a redis section there are no runtime keys, so client authentication would stay off and anonymous requests would be served; add a redis section, or set auth.required (true: only config keys get in; false: anonymous requests are meant)");
  }
  problems.push(...redisSectionProblems("redis", config.redis), ...redisSectionProblems("cache.redis", config.cache.redis));
  if (config.limits.store === "redis" && !config.redis) problems.push("limits.store: \"redis\" needs a redis section");
  if (config.responses.store === "redis" && !config.responses.redis && !config.redis) problems.push("responses.store: \"redis\" needs responses.redis or a redis section");
  if (config.cache.store === "redis" && !config.cache.redis) {
    problems.push("cache.store: \"redis\" needs cache.redis, a Redis of the cache's own (sharing the state Redis would let cache entries evict limits and spend)");
  }
  const buffered = config.server.bufferedBytesLimit;
  const largest = Math.max(config.server.bodyLimitBytes, config.upstreamDefaults.maxResponseBytes);
  if (buffered !== undefined && buffered < largest) {
    problems.push(`server.bufferedBytesLimit: must hold at least one largest body (server.bodyLimitBytes and upstreamDefaults.maxResponseBytes: ${largest})`);
  }
  return problems;
}

/** A Redis section names one Redis or a cluster's nodes, and a prefix that cannot become a hash tag. */
function redisSectionProblems(path: string, section: { url?: string; cluster?: string[]; keyPrefix: string } | undefined): string[] {
  if (!section) return [];
  const problems: string[] = [];
  if ((section.url === undefined) === (section.cluster === undefined)) problems.push(`${path}: set exactly one of url (one Redis) and cluster (a Redis Cluster's nodes)`);
  const prefix = section.cluster ? keyPrefixProblem(section.keyPrefix) : null;
  if (prefix) problems.push(`${path}.keyPrefix: ${prefix}`);
  return problems;
}

/** Validates a parsed config object; throws ConfigError listing every problem. */
export function validateConfig(raw: unknown): GatewayConfig {
  const reserved = reservedNameProblems(raw);
  if (reserved.length > 0) throw new ConfigError(reserved);
  const parsed = gatewayConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(formatIssue));
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}
