/**
 * The gateway's configuration schema: one zod schema that the gateway validates its YAML with
 * and that `infra/` uses to build (and check, at preview time) the ConfigMap from a typed object.
 */
import { z } from "zod";
import { cidrProblem, type TrustedProxies } from "../http/client-ip";
import { consoleSchema } from "./console-schema";
import { overloadSchema } from "./overload-schema";
import { priceSchema } from "./price-schema";
import { PROVIDER_NAMES } from "../providers/provider";
import { forwardHeadersSchema, targetHealthCheckSchema, tracingSchema } from "./upstream-schema";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const durationMs = nonNegativeInt;

export const STRATEGIES = ["round-robin", "weighted", "least-busy", "latency"] as const;

const targetSchema = z
  .object({
    /** Unique within its model; used in metrics, logs and `x-gateway-target`. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.' and '-' only"),
    /** `https://host/v1`, or `mock://name` for the built-in mock upstream. */
    baseUrl: z
      .string()
      .regex(/^(https?|mock):\/\/[^\s]+$/, "must be an http(s):// or mock:// URL")
      .transform((url) => url.replace(/\/+$/, "")),
    apiKey: z.string().optional(),
    /**
     * The API the target speaks: `openai` (OpenAI-compatible, base URL ending in /v1) or
     * `anthropic` (the native Messages API, base URL https://api.anthropic.com).
     */
    provider: z.enum(PROVIDER_NAMES).default("openai"),
    /** The model name sent upstream; defaults to the model's own name. */
    model: z.string().min(1).optional(),
    weight: positiveInt.default(1),
    /** Extra headers sent upstream (e.g. an organisation id). */
    headers: z.record(z.string()).default({}),
    timeoutMs: durationMs.optional(),
    /** This target's active check, over the provider's default probe and the global healthCheck. */
    healthCheck: targetHealthCheckSchema.optional(),
    /** Client headers passed to this target (default: the provider's safe list). */
    forwardHeaders: forwardHeadersSchema.optional(),
    /**
     * How `/v1/responses` reaches this target: `native` passes the Responses API through (OpenAI,
     * Azure OpenAI: targets that serve `POST {baseUrl}/responses`); `translate` (default, safe for
     * DeepSeek, vLLM, Gemini's compat endpoint and resellers) sends Chat Completions and keeps
     * the conversation state in the gateway.
     */
    responsesApi: z.enum(["native", "translate"]).optional(),
    /** Settings of the built-in mock upstream (mock:// targets only). */
    mock: z
      .object({
        latencyMs: durationMs.default(0),
        ttftMs: durationMs.default(0),
        interTokenMs: durationMs.default(0),
        tokens: positiveInt.default(16),
      })
      .strict()
      .default({}),
  })
  .strict();

const modelSchema = z
  .object({
    /** What clients send as `model`. */
    name: z.string().min(1),
    strategy: z.enum(STRATEGIES).default("round-robin"),
    /** Models tried, in order, once every target of this one has failed. */
    fallbacks: z.array(z.string().min(1)).default([]),
    targets: z.array(targetSchema).min(1),
  })
  .strict();

/** Exported for the admin API, which validates runtime keys with it. */
export const limitsSchema = z
  .object({
    requestsPerMinute: positiveInt.optional(),
    tokensPerMinute: positiveInt.optional(),
    concurrent: positiveInt.optional(),
    /** Monthly budget in USD for the key (calendar month, UTC). */
    monthlyBudgetUsd: z.number().positive().optional(),
  })
  .strict();

/** An ISO 8601 instant with a time zone, as the admin API and config write expiry dates. */
export const isoInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, "an ISO 8601 date or date-time with a zone, e.g. 2026-12-31T00:00:00Z")
  .refine((v) => Number.isFinite(Date.parse(v)), "not a valid date");
/** Key metadata, bounded: it is stored with every runtime key and shown in lists. */
export const keyOwnerSchema = z.string().min(1).max(256);
export const keyLabelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.\/-]{1,63}$/, "label names: 1-63 letters, digits, '_', '.', '/' or '-'"), z.string().max(256))
  .refine((labels) => Object.keys(labels).length <= 32, "at most 32 labels");

const keySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.' and '-' only"),
    /** SHA-256 of the key, hex. Preferred: the clear key never sits in config. */
    keyHash: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits (sha256)").optional(),
    /** The clear key (use `${ENV_VAR}`); hashed at load and never kept. */
    key: z.string().min(8).optional(),
    team: z.string().default("default"),
    plan: z.string().default("default"),
    /** Models this key may use; empty means all. */
    models: z.array(z.string()).default([]),
    limits: limitsSchema.default({}),
    disabled: z.boolean().default(false),
    /** After this instant (ISO 8601, e.g. `2026-12-31T00:00:00Z`) the key gets 401 "expired". */
    expiresAt: isoInstant.optional(),
    /** Who is responsible for the key (a person, a team address); shown by the admin API. */
    owner: keyOwnerSchema.optional(),
    labels: keyLabelsSchema.optional(),
  })
  .strict()
  .refine((k) => (k.keyHash === undefined) !== (k.key === undefined), {
    message: "exactly one of key or keyHash is required",
  });

/**
 * A TCP port, or a string of digits: YAML values are interpolated after parsing, so
 * `port: ${PORT:-8080}` (one config file for several processes) arrives as a string.
 */
const portNumber = z
  .union([z.number(), z.string().regex(/^\d{1,5}$/).transform(Number)], { errorMap: () => ({ message: "must be a port number" }) })
  .pipe(z.number().int().min(0).max(65535));

const WORKERS_MESSAGE = 'must be a positive integer or "auto"';

const redisUrl = z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL");

const redisConnectionShape = {
  /** One Redis (or a proxy in front of several); exactly one of `url` and `cluster`. */
  url: redisUrl.optional(),
  /**
   * A Redis Cluster: some of its nodes (`redis://host:port`, the rest are discovered). Keys are
   * hash-tagged so every script touches one slot (gateway/src/store/redis-keys.ts).
   */
  cluster: z.array(redisUrl).min(1).optional(),
  password: z.string().optional(),
  keyPrefix: z.string().default("aigw:"),
  commandTimeoutMs: positiveInt.default(500),
};

const cacheRedisSchema = z.object(redisConnectionShape).strict();

export const gatewayConfigSchema = z
  .object({
    server: z
      .object({
        host: z.string().default("0.0.0.0"),
        port: portNumber.default(8080),
        /**
         * A second listener for the operator's endpoints (/metrics, /admin/…, the console): set, they
         * leave the public port (404 there) and only this one serves them; probes answer on both.
         */
        adminPort: portNumber.optional(),
        /** The admin listener's address: loopback unless set (in a pod, 0.0.0.0 so Prometheus reaches it). */
        adminHost: z.string().default("127.0.0.1"),
        bodyLimitBytes: positiveInt.default(10 * 1024 * 1024),
        /** How long in-flight requests and streams may run on after SIGTERM. */
        shutdownGraceMs: durationMs.default(30_000),
        /** Slow clients: time allowed to send all headers, and the whole request. */
        headersTimeoutMs: positiveInt.default(10_000),
        requestTimeoutMs: positiveInt.default(30_000),
        keepAliveTimeoutMs: positiveInt.default(65_000),
        /**
         * When /readyz fails for lack of upstreams: `any-model` (default) only when no model has a
         * healthy target in its fallback chain, so one provider's outage (or one client making one
         * model fail) does not take every replica out of the Service; `every-model` when any has none.
         */
        readiness: z.enum(["every-model", "any-model"]).default("any-model"),
        /** Trust X-Forwarded-For for the client IP (behind an ingress): one proxy, unless trustedProxies says otherwise. */
        trustProxy: z.boolean().optional(),
        /**
         * The proxies in front of the gateway: how many (the client is the N-th X-Forwarded-For
         * entry from the right), or their addresses as CIDRs (the client is the right-most entry
         * outside them). Set, it wins over trustProxy.
         */
        trustedProxies: z
          .union([nonNegativeInt, z.array(z.string().superRefine((cidr, ctx) => {
            const problem = cidrProblem(cidr);
            if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
          }))])
          .optional(),
        /**
         * The most request and non-streaming response body bytes the process holds at once;
         * past it requests get 503 server_overloaded. Default: see http/buffer-budget.ts.
         */
        bufferedBytesLimit: positiveInt.optional(),
        /** A client that leaves a write unread this long is cut (buffered answers and streams). */
        writeTimeoutMs: positiveInt.default(60_000),
        /** Shedding new requests past a concurrency ceiling or event-loop lag (config/overload-schema.ts). */
        overload: overloadSchema,
        /**
         * Connections the kernel queues before the gateway accepts them (Node's default is 511). A
         * lagging process meets a burst of connects with a full queue, and the kernel drops or resets
         * them unanswered; capped by net.core.somaxconn (4096 on Linux 5.4+).
         */
        listenBacklog: positiveInt.default(4096),
        /**
         * Worker processes sharing the port (node:cluster), for VMs and bare metal; `auto`: one per
         * core. `--workers N` and WORKERS override it. Kubernetes runs one process per pod (1).
         */
        workers: z
          .union([z.number(), z.string()], { errorMap: () => ({ message: WORKERS_MESSAGE }) })
          .transform((value, ctx): number | "auto" => {
            if (value === "auto") return value;
            const n = typeof value === "number" ? value : /^\d{1,4}$/.test(value) ? Number(value) : NaN;
            if (Number.isInteger(n) && n >= 1) return n;
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: WORKERS_MESSAGE });
            return z.NEVER;
          })
          .default(1),
      })
      .strict()
      .default({}),
    upstreamDefaults: z
      .object({
        connectTimeoutMs: positiveInt.default(5_000),
        /** Per attempt: until response headers, and then between body chunks. */
        timeoutMs: positiveInt.default(60_000),
        maxAttempts: positiveInt.default(3),
        /** Overall deadline for the whole request across every attempt, before the first byte. */
        deadlineMs: positiveInt.default(120_000),
        /** Longest a stream may run in total; infra sets the pod's grace period above it. */
        maxStreamMs: positiveInt.default(600_000),
        connectionsPerTarget: positiveInt.default(16_384), // a stream holds one throughout; see README
        /** How long an idle upstream connection is kept; below the upstream's own idle timeout, it never goes stale under a request. */
        idleConnectionMs: positiveInt.default(30_000),
        /** Largest non-streaming upstream answer the gateway buffers (images can be big). */
        maxResponseBytes: positiveInt.default(64 * 1024 * 1024),
      })
      .strict()
      .default({}),
    healthCheck: z
      .object({
        enabled: z.boolean().default(true),
        path: z.string().startsWith("/").default("/models"),
        intervalMs: positiveInt.default(10_000),
        timeoutMs: positiveInt.default(3_000),
        rise: positiveInt.default(2),
        fall: positiveInt.default(3),
      })
      .strict()
      .default({}),
    passiveHealth: z
      .object({
        /** Consecutive failures that eject a target. */
        failures: positiveInt.default(3),
        cooldownMs: positiveInt.default(5_000),
        maxCooldownMs: positiveInt.default(60_000),
        /** Cap on the cooldown an upstream's Retry-After (or retry-after-ms) imposes on its target. */
        maxRetryAfterMs: positiveInt.default(60_000),
      })
      .strict()
      .default({}),
    logging: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        accessLog: z.boolean().default(true),
        /** Access-log lines for /healthz, /readyz and /metrics too (probes and scrapes: off by default). */
        accessLogProbes: z.boolean().default(false),
      })
      .strict()
      .default({}),
    models: z.array(modelSchema).min(1),
    /** OpenTelemetry spans over OTLP/HTTP JSON; off by default. */
    tracing: tracingSchema.default({}),

    /** Shared state for limits, budgets, keys and cache across replicas. */
    redis: z
      .object({
        ...redisConnectionShape,
        /** Keep serving on local limits when Redis is down (false: reject with 503). */
        failOpen: z.boolean().default(true),
      })
      .strict()
      .optional(),
    auth: z
      .object({
        /** Require a client key. Defaults to true when any key is configured. */
        required: z.boolean().optional(),
        /** Admin API key (use `${ENV_VAR}`); the admin API is off without it. */
        adminKey: z.string().min(16).optional(),
        /** Audit events of admin changes kept in Redis (the oldest are dropped past it). */
        auditMaxEvents: positiveInt.max(1_000_000).default(10_000),
        /** Failed admin authentications allowed per client address (GCRA: then one more per windowMs / failures). */
        adminThrottle: z
          .object({ failures: positiveInt.default(10), windowMs: positiveInt.default(600_000) })
          .strict()
          .default({}),
        /** Per-IP limit applied before authentication. */
        perIp: z
          .object({ requests: positiveInt.default(10), windowMs: positiveInt.default(10_000) })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    limits: z
      .object({
        /** Default: `redis` when a redis section is configured (limits hold fleet-wide), else `memory`. */
        store: z.enum(["memory", "redis"]).optional(),
        /** Tokens reserved for the completion when the request sets no max_tokens. */
        defaultMaxTokens: positiveInt.default(1024),
        /**
         * Redis: how long a concurrency slot or budget reservation outlives a replica that stopped
         * renewing it (crashed mid-request). Renewed every third of it while the request runs.
         */
        leaseTtlMs: positiveInt.min(300).default(30_000),
        /**
         * A request refused before its body is read (a key already over its requests per minute or
         * concurrency) is answered after up to this long (never past the time the key's next request
         * fits), so a client that ignores Retry-After cannot loop refusals as fast as it can send.
         * 0 answers at once.
         */
        refusalDelayMs: z.number().int().min(0).max(10_000).default(1_000),
        /** Refusals held at once, per key and in all; past either, a refusal is answered at once. */
        refusalDelayMaxHeld: z
          .object({ perKey: positiveInt.default(256), total: positiveInt.default(4_096) })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    /** Responses the gateway makes by translation, kept for previous_response_id, GET and input_items. */
    responses: z
      .object({
        /** Default: `redis` when `responses.redis` or the state `redis` is configured, else `memory`. */
        store: z.enum(["memory", "redis"]).optional(),
        /** How long a stored response can be continued or read. */
        ttlMs: positiveInt.default(24 * 60 * 60 * 1000),
        /** Memory store: the most bytes of stored responses per replica (least recently used go first). */
        maxBytes: positiveInt.default(64 * 1024 * 1024),
        /** A response (its turn's input and output) larger than this is answered but not stored. */
        maxEntryBytes: positiveInt.default(4 * 1024 * 1024),
        /** A Redis of its own (recommended: the state Redis is noeviction); default: the state Redis. */
        redis: cacheRedisSchema.optional(),
      })
      .strict()
      .default({}),
    plans: z.record(limitsSchema).default({}),
    keys: z.array(keySchema).default([]),
    teams: z.record(z.object({ monthlyBudgetUsd: z.number().positive() }).strict()).default({}),
    /** Spend reporting: daily rollups for the admin API, and the key dimension of metrics. */
    spend: z
      .object({
        /** Daily rollups are kept this many months (31 days each) in Redis. */
        retentionMonths: positiveInt.max(120).default(13),
        /** How often a replica adds its rollups to Redis (one pipelined round trip per flush). */
        flushIntervalMs: positiveInt.min(50).max(60_000).default(1_000),
        /** Runtime keys (and their teams) with metric series of their own; past it they share `key="other"`. Config keys always have theirs. */
        maxKeySeries: nonNegativeInt.default(1_000),
      })
      .strict()
      .default({}),
    /** USD per million tokens, by model (client-facing or upstream name); merged over the defaults. */
    pricing: z.record(priceSchema).default({}),
    cache: z
      .object({
        enabled: z.boolean().default(false),
        /** Default: `redis` when `cache.redis` is configured, else `memory`. */
        store: z.enum(["memory", "redis"]).optional(),
        ttlMs: positiveInt.default(300_000),
        maxBytes: positiveInt.default(64 * 1024 * 1024),
        /** Larger answers are not cached (they would crowd out everything else and stall writes). */
        maxEntryBytes: positiveInt.default(1024 * 1024),
        /**
         * A Redis of the cache's own (configure it allkeys-lru with its own maxmemory): the cache
         * never shares the state Redis, so cache pressure cannot evict limits, spend or keys.
         * Without it the cache lives in process memory.
         */
        redis: cacheRedisSchema.optional(),
        /** `key`: entries are private to a client key; `shared`: across keys. */
        scope: z.enum(["key", "shared"]).default("key"),
      })
      .strict()
      .default({}),
    /** The admin web console at /ui/ (admin/console/). */
    console: consoleSchema,
  })
  .strict();

/** The config as written (defaults optional): what infra builds and YAML holds. */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
/** The config after validation, every default filled in. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type ModelConfig = GatewayConfig["models"][number];
export type TargetConfig = ModelConfig["targets"][number];
export type KeyConfig = GatewayConfig["keys"][number];
export type LimitsConfig = z.output<typeof limitsSchema>;
export type PriceConfig = z.output<typeof priceSchema>;
export type Strategy = (typeof STRATEGIES)[number];

/** The proxies whose X-Forwarded-For entries are believed: `trustedProxies`, else one with `trustProxy`, else none. */
export function trustedProxiesOf(server: GatewayConfig["server"]): TrustedProxies {
  return server.trustedProxies ?? (server.trustProxy ? 1 : 0);
}
