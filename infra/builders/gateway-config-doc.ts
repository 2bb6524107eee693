/**
 * Turns a typed gateway config into the YAML the ConfigMap holds. Secrets never enter it: upstream
 * keys, the Redis URL and password and the admin key become `${ENV}` placeholders that the gateway
 * fills from the Secret at start. The result is then loaded exactly as the gateway loads it
 * (YAML parse, interpolation, schema and cross-field checks) so that a bad config fails at preview.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { parseConfigText } from "../../gateway/src/config/load";
import type { GatewayConfig, GatewayConfigInput } from "../../gateway/src/config/schema";
import { ConfigError } from "../../gateway/src/config/validate";
import { restartView } from "../../gateway/src/reload/reload-scope";
import { DEFAULT_ADMIN_PORT } from "./pod-spec";
import { deriveShutdownGraceMs } from "./shutdown";

/** Environment variables the Secret provides; the gateway config refers to them by name. */
export const SECRET_ENV = {
  redisUrl: "REDIS_URL",
  redisPassword: "REDIS_PASSWORD",
  cacheRedisUrl: "CACHE_REDIS_URL",
  cacheRedisPassword: "CACHE_REDIS_PASSWORD",
  adminKey: "GATEWAY_ADMIN_KEY",
} as const;

export interface GatewayConfigDocumentOptions {
  /** `model/target` of every upstream key the Secret holds. */
  upstreamKeyRefs?: readonly string[];
  /** The Secret holds REDIS_URL (and REDIS_PASSWORD when `password` is true). */
  redis?: { password: boolean };
  /** The Secret holds CACHE_REDIS_URL (and CACHE_REDIS_PASSWORD): the cache's own Redis. */
  cacheRedis?: { password: boolean };
  /** The Secret holds GATEWAY_ADMIN_KEY. */
  adminKey?: boolean;
  /** Further variables the Secret holds, for `${VAR}` placeholders the config writes itself. */
  extraSecretEnvNames?: readonly string[];
}

export interface GatewayConfigDocument {
  /** What goes into the ConfigMap. */
  yaml: string;
  /** sha256 of `yaml`: changes with any change of the config. */
  checksum: string;
  /**
   * sha256 of the fields only a restart applies (restartView): the pod template's annotation, so
   * pods roll for those and not for what the gateway reloads live from the mounted ConfigMap.
   */
  restartChecksum: string;
  /** The config as the gateway will see it (placeholders filled with stand-ins). */
  effective: GatewayConfig;
  /** `model/target` to the env var that carries its key. */
  upstreamKeyEnv: Record<string, string>;
  /** Every env var the Secret must provide. */
  secretEnvNames: string[];
}

const PLACEHOLDER = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envPart(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

/**
 * The env var for a target's upstream key: `UPSTREAM_KEY_<MODEL>_<TARGET>`, both upper-cased with
 * every run of other characters turned into one `_` (`gpt-4.1` + `openai` gives
 * `UPSTREAM_KEY_GPT_4_1_OPENAI`). Two targets that sanitise to the same name are an error.
 */
export function upstreamKeyEnvName(model: string, target: string): string {
  return `UPSTREAM_KEY_${envPart(model)}_${envPart(target)}`;
}

/** How callers name a target in `upstreamKeys`: `model/target`. */
export function upstreamKeyRef(model: string, target: string): string {
  return `${model}/${target}`;
}

function isLiteralSecret(value: unknown): boolean {
  return typeof value === "string" && value.length > 0 && !PLACEHOLDER.test(value);
}

/** Stand-in values shaped like the real ones, for the preview-time load. */
function standInEnv(names: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of names) env[name] = name === SECRET_ENV.redisUrl || name === SECRET_ENV.cacheRedisUrl ? "redis://redis.invalid:6379" : `stand-in-${"x".repeat(32)}`;
  return env;
}

export function buildGatewayConfigDocument(
  input: GatewayConfigInput,
  options: GatewayConfigDocumentOptions = {},
): GatewayConfigDocument {
  const config = structuredClone(input) as GatewayConfigInput;
  const problems: string[] = [];
  const secretEnvNames: string[] = [];

  // The pod must listen on every interface, and drain for as long as the longest stream. Its
  // /metrics and /admin always get their own listener, which only the Service's admin port reaches.
  for (const field of ["host", "adminHost"] as const) {
    const value = config.server?.[field];
    if (value !== undefined && value !== "0.0.0.0" && value !== "::") {
      problems.push(`server.${field}: "${value}" is unreachable from the Service in a pod; leave it unset (0.0.0.0)`);
    }
  }
  config.server = {
    ...config.server,
    host: "0.0.0.0",
    adminHost: "0.0.0.0",
    adminPort: config.server?.adminPort ?? DEFAULT_ADMIN_PORT,
    shutdownGraceMs: deriveShutdownGraceMs(input),
  };

  // Upstream keys: a literal would sit in a ConfigMap in clear text.
  const upstreamKeyEnv: Record<string, string> = {};
  const envOwner = new Map<string, string>();
  (config.models ?? []).forEach((model, i) =>
    (model.targets ?? []).forEach((target, j) => {
      if (isLiteralSecret(target.apiKey)) {
        problems.push(
          `models[${i}].targets[${j}].apiKey: a literal key would be stored in a ConfigMap; pass it as upstreamKeys["${upstreamKeyRef(model.name, target.name)}"]`,
        );
      }
    }),
  );
  for (const ref of options.upstreamKeyRefs ?? []) {
    const slash = ref.lastIndexOf("/");
    const [modelName, targetName] = slash > 0 ? [ref.slice(0, slash), ref.slice(slash + 1)] : [ref, ""];
    const target = config.models?.find((m) => m.name === modelName)?.targets.find((t) => t.name === targetName);
    if (!target) {
      problems.push(`upstreamKeys["${ref}"]: no model "${modelName}" with a target "${targetName}" (expected "model/target")`);
      continue;
    }
    const env = upstreamKeyEnvName(modelName, targetName);
    const owner = envOwner.get(env);
    if (owner !== undefined) {
      problems.push(`upstreamKeys["${ref}"]: its env var ${env} is also the one of "${owner}"; rename a model or target`);
      continue;
    }
    if (target.apiKey !== undefined && !isLiteralSecret(target.apiKey)) {
      problems.push(`upstreamKeys["${ref}"]: the target already sets apiKey "${target.apiKey}"; use one or the other`);
    }
    envOwner.set(env, ref);
    target.apiKey = `\${${env}}`;
    upstreamKeyEnv[ref] = env;
    secretEnvNames.push(env);
  }

  // Redis: the connection comes from the Secret, the tuning (prefix, failOpen...) from the config.
  if (options.redis) {
    if (config.redis?.url !== undefined || config.redis?.password !== undefined) {
      problems.push("redis.url/redis.password: set by the deployment from its Redis; leave them out of the gateway config");
    }
    config.redis = { ...config.redis, url: `\${${SECRET_ENV.redisUrl}}` };
    secretEnvNames.push(SECRET_ENV.redisUrl);
    if (options.redis.password) {
      config.redis.password = `\${${SECRET_ENV.redisPassword}}`;
      secretEnvNames.push(SECRET_ENV.redisPassword);
    }
  } else if (isLiteralSecret(config.redis?.password)) {
    problems.push("redis.password: a literal password would be stored in a ConfigMap; pass the Redis connection to the component");
  }

  // The cache's own Redis, likewise from the Secret; without it the cache stays in pod memory.
  if (options.cacheRedis) {
    if (config.cache?.enabled !== true) problems.push("cacheRedis: the gateway config does not enable the cache (cache.enabled: true)");
    if (config.cache?.redis !== undefined) {
      problems.push("cache.redis: set by the deployment from its cache Redis; leave it out of the gateway config");
    }
    config.cache = { ...config.cache, redis: { url: `\${${SECRET_ENV.cacheRedisUrl}}` } };
    secretEnvNames.push(SECRET_ENV.cacheRedisUrl);
    if (options.cacheRedis.password) {
      config.cache.redis!.password = `\${${SECRET_ENV.cacheRedisPassword}}`;
      secretEnvNames.push(SECRET_ENV.cacheRedisPassword);
    }
  } else if (isLiteralSecret(config.cache?.redis?.password)) {
    problems.push("cache.redis.password: a literal password would be stored in a ConfigMap; pass the cache Redis to the component");
  }

  if (isLiteralSecret(config.auth?.adminKey)) {
    problems.push("auth.adminKey: a literal key would be stored in a ConfigMap; pass it as adminKey (a secret)");
  }
  if (options.adminKey) {
    config.auth = { ...config.auth, adminKey: `\${${SECRET_ENV.adminKey}}` };
    secretEnvNames.push(SECRET_ENV.adminKey);
  }

  (config.keys ?? []).forEach((key, i) => {
    if (isLiteralSecret(key.key)) {
      problems.push(`keys[${i}].key: a clear client key would be stored in a ConfigMap; use keyHash, or "\${VAR}" with the value in extra secret env`);
    }
  });

  for (const name of options.extraSecretEnvNames ?? []) {
    if (!ENV_NAME.test(name)) problems.push(`extra secret env "${name}": not a valid environment variable name`);
    else if (secretEnvNames.includes(name)) problems.push(`extra secret env "${name}": the component already sets it`);
    else secretEnvNames.push(name);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const yaml = `# Generated by the ai-gateway Pulumi components. \${VAR} placeholders come from the pod's Secret.\n${stringify(config, { lineWidth: 0 })}`;
  // Load it exactly as the gateway will: a missing ${VAR} or a schema error fails here, at preview.
  const effective = parseConfigText(yaml, standInEnv(secretEnvNames));
  const checksum = createHash("sha256").update(yaml).digest("hex");
  const restartChecksum = createHash("sha256").update(JSON.stringify(restartView(effective))).digest("hex");
  return { yaml, checksum, restartChecksum, effective, upstreamKeyEnv, secretEnvNames };
}
