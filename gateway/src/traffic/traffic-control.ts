/**
 * The TrafficControl the pipeline calls: per-IP limit and key check (authenticate), model
 * permission and limits (admit), and the response cache. Parts are built by ./index.ts.
 */
import { REJECTION_REASONS } from "../metrics/names";
import type { IncomingHttpHeaders } from "node:http";
import type { AdminHandler } from "../admin/router";
import type { AdminAuthThrottle } from "../admin/auth-throttle";
import type { GatewayConfig } from "../config/schema";
import { extractKey } from "../auth/extract";
import type { KeyRegistry } from "../auth/registry";
import { isExpired, type ResolvedKey } from "../auth/key-record";
import { answerHeadersVariant, cacheKey } from "../cache/cache-key";
import { cacheDecision } from "../cache/cacheable";
import type { ResponseCacheStore } from "../cache/cache-store";
import { GatewayError } from "../errors";
import { formatDuration, retryAfterHeaders } from "../limits/headers";
import type { LimitStore } from "../limits/store";
import { redisKeys } from "../store/redis-keys";
import { NOOP_ADMISSION, type Admitter } from "./admitter";
import { refused } from "./refusal-reason";
import type { LoggerPort, TrafficMetrics } from "./metrics-port";
import type { Admission, AdmissionRequest, CachedResponse, CacheLookup, ClientIdentity, SpendParts, TrafficControl } from "./types";

/** The parts a config reload replaces. */
export interface LiveParts {
  passthrough: boolean;
  authRequired: boolean;
  perIp: { store: LimitStore; requests: number; windowMs: number } | null;
  cache: { store: ResponseCacheStore; ttlMs: number; scope: "key" | "shared"; kind: "memory" | "redis"; maxEntryBytes: number } | null;
  admin: AdminHandler | null;
  adminThrottle: AdminAuthThrottle | null;
}

export interface TrafficParts extends LiveParts {
  registry: KeyRegistry;
  admitter: Admitter;
  /** Builds the live parts for a reloaded config (and applies it to the registry and admitter). */
  configure?: (config: GatewayConfig) => LiveParts;
  reloadProblems?: (config: GatewayConfig) => string[];
  spend: SpendParts;
  metrics: TrafficMetrics;
  logger: LoggerPort;
  /** Settles once Redis is ready (or startup gave up waiting) and runtime keys are loaded. */
  startup: Promise<void> | null;
  /** Run by close(), in order. */
  closers: (() => Promise<void> | void)[];
}

const NO_LOOKUP: CacheLookup = Object.freeze({ hit: null, key: null });

export class GatewayTrafficControl implements TrafficControl {
  passthrough: boolean;
  readonly handleAdmin: AdminHandler | null;
  readonly spend: SpendParts;
  /** Non-null until startup is over: the first requests wait for it instead of racing Redis. */
  private starting: Promise<void> | null;

  constructor(private readonly parts: TrafficParts) {
    this.passthrough = parts.passthrough;
    this.spend = parts.spend;
    this.starting = parts.startup;
    void this.starting?.then(() => (this.starting = null));
    // Looked up per request: a reload replaces the admin router (whether there is one needs a restart).
    this.handleAdmin = parts.admin && (async (req, res, clientIp) => {
      if (this.starting) await this.starting;
      const admin = this.parts.admin;
      if (admin) return admin(req, res, clientIp);
    });
  }

  reloadProblems(config: GatewayConfig): string[] {
    return this.parts.reloadProblems?.(config) ?? [];
  }

  /** The admin API's throttle now (a reload rebuilds it with the new settings). */
  get adminThrottle(): AdminAuthThrottle | null {
    return this.parts.adminThrottle;
  }

  reconfigure(config: GatewayConfig): void {
    if (!this.parts.configure) return;
    Object.assign(this.parts, this.parts.configure(config));
    this.passthrough = this.parts.passthrough;
  }

  /** Resolves once the stores are connected (or startup stopped waiting for Redis). */
  async ready(): Promise<void> {
    if (this.starting) await this.starting;
  }

  /**
   * Per-IP limit, then the key. Answered synchronously when nothing needs a store (startup over,
   * no per-IP limit, a config key): no promise per request. A refusal is a rejected promise.
   */
  authenticate(headers: IncomingHttpHeaders, clientIp: string): ClientIdentity | null | Promise<ClientIdentity | null> {
    if (this.starting !== null || this.parts.perIp !== null) return this.authenticateAfterChecks(headers, clientIp);
    try {
      return this.identify(headers);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async authenticateAfterChecks(headers: IncomingHttpHeaders, clientIp: string): Promise<ClientIdentity | null> {
    if (this.starting) await this.starting;
    const perIp = this.parts.perIp;
    if (perIp) await this.checkPerIp(perIp, clientIp);
    return this.identify(headers);
  }

  /** The presented key's identity (null when keys are not required and none is sent); throws the refusal. */
  private identify(headers: IncomingHttpHeaders): ClientIdentity | null | Promise<ClientIdentity | null> {
    const { registry, authRequired, metrics } = this.parts;
    if (!authRequired && !registry.hasKeys) return null;
    const secret = extractKey(headers);
    if (secret === null) {
      if (!authRequired) return null;
      metrics.rejections.inc({ reason: REJECTION_REASONS.missingKey });
      throw refused(new GatewayError("GW_ERR_INVALID_API_KEY", "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' or in the 'x-api-key' header."), REJECTION_REASONS.missingKey);
    }
    let resolved: ResolvedKey | null | Promise<ResolvedKey | null>;
    try {
      resolved = registry.resolveNow(secret);
    } catch (err) {
      throw this.keyStoreFailed(err);
    }
    if (resolved instanceof Promise) {
      return resolved.then(
        (key) => this.identityOf(key),
        (err: unknown) => {
          throw this.keyStoreFailed(err);
        },
      );
    }
    return this.identityOf(resolved);
  }

  private keyStoreFailed(err: unknown): GatewayError {
    const metrics = this.parts.metrics;
    metrics.storeErrors.inc({ store: "redis" });
    metrics.rejections.inc({ reason: REJECTION_REASONS.storeUnavailable });
    this.parts.logger.warn({ store: "redis", err: err instanceof Error ? err.message : String(err) }, "key look-up failed");
    return refused(new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The key store is unavailable; try again shortly.", [["retry-after", "1"]]), REJECTION_REASONS.storeUnavailable);
  }

  private identityOf(resolved: ResolvedKey | null): ClientIdentity | null {
    const { authRequired, metrics } = this.parts;
    // A disabled key is refused even where anonymous requests are served, with an unknown key's answer.
    if (resolved && !resolved.record.disabled) {
      if (!isExpired(resolved, Date.now())) return resolved.identity;
      metrics.rejections.inc({ reason: REJECTION_REASONS.expiredKey });
      throw refused(new GatewayError("GW_ERR_INVALID_API_KEY", `This API key expired at ${new Date(resolved.expiresAtMs as number).toISOString()}. Ask your gateway administrator for a new key or a later expiry date.`), REJECTION_REASONS.expiredKey);
    }
    if (!resolved && !authRequired) return null;
    metrics.rejections.inc({ reason: REJECTION_REASONS.invalidKey });
    throw refused(new GatewayError("GW_ERR_INVALID_API_KEY", "Incorrect API key provided."), REJECTION_REASONS.invalidKey);
  }

  private async checkPerIp(perIp: NonNullable<TrafficParts["perIp"]>, clientIp: string): Promise<void> {
    const result = await perIp.store.admit({ budgets: [], rates: [{ key: redisKeys.perIp(clientIp), limit: perIp.requests, periodMs: perIp.windowMs, cost: 1 }], concurrency: null });
    if (result.allowed) return;
    this.parts.metrics.rejections.inc({ reason: REJECTION_REASONS.perIp });
    throw refused(new GatewayError(
      "GW_ERR_RATE_LIMITED",
      `Too many requests from this address: limit ${perIp.requests} per ${formatDuration(perIp.windowMs)}. Please try again in ${formatDuration(result.retryAfterMs)}.`,
      retryAfterHeaders(result.retryAfterMs),
    ), REJECTION_REASONS.perIp);
  }

  precheck(identity: ClientIdentity): Promise<void> | void {
    const key = this.parts.registry.forIdentity(identity);
    if (key && !key.unlimited) return this.parts.admitter.precheckHeld(key);
  }

  countRefused(identity: ClientIdentity): void {
    const key = this.parts.registry.forIdentity(identity);
    if (!key || key.unlimited) return;
    // The limit store falls back on its own (failOpen); what still fails is logged, never the client's.
    const failed = (err: unknown) => this.parts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "counting a refused request failed");
    try {
      this.parts.admitter.countRefused(key)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  /** Synchronous on the memory store once startup is over (no promise per request); a refusal is a rejected promise. */
  admit(request: AdmissionRequest): Admission | Promise<Admission> {
    if (this.starting) return this.starting.then(() => this.admitNow(request));
    try {
      return this.admitNow(request);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private admitNow(request: AdmissionRequest): Admission | Promise<Admission> {
    const identity = request.identity;
    if (!identity) return NOOP_ADMISSION;
    if (identity.allowedModels && !identity.allowedModels.has(request.model)) {
      this.parts.metrics.rejections.inc({ reason: REJECTION_REASONS.modelNotAllowed });
      throw refused(new GatewayError("GW_ERR_MODEL_NOT_ALLOWED", `This key is not allowed to use the model '${request.model}'.`, [], "model"), REJECTION_REASONS.modelNotAllowed);
    }
    const key = this.parts.registry.forIdentity(identity);
    if (!key || key.unlimited) return NOOP_ADMISSION;
    return this.parts.admitter.admit(request, key);
  }

  /** No promise when there is nothing to look up (no cache, or a request it bypasses). */
  cacheLookup(request: AdmissionRequest, _rawBody: Buffer, headers: IncomingHttpHeaders): CacheLookup | Promise<CacheLookup> {
    const cache = this.parts.cache;
    if (!cache || cacheDecision(request.route, request.body, request.stream, headers) === "bypass") return NO_LOOKUP;
    return this.lookUp(cache, request, answerHeadersVariant(headers));
  }

  private async lookUp(cache: NonNullable<LiveParts["cache"]>, request: AdmissionRequest, headersVariant: string): Promise<CacheLookup> {
    if (this.starting) await this.starting;
    const scope = cache.scope === "shared" ? "shared" : `key:${request.identity?.keyId ?? ""}`;
    const key = cacheKey(scope, request.route, request.model, request.body, headersVariant);
    let hit: CachedResponse | null = null;
    try {
      hit = await cache.store.get(key);
    } catch (err) {
      this.storeError(cache.kind, err, "cache look-up failed");
    }
    this.parts.metrics.cacheRequests.inc({ result: hit ? "hit" : "miss" });
    if (hit) this.parts.admitter.markCacheHit(request);
    return { hit, key };
  }

  cacheStore(key: string, response: CachedResponse): void {
    const cache = this.parts.cache;
    // A large answer would crowd out many small ones and hold the cache connection for its write.
    if (!cache || response.status !== 200 || response.body.length > cache.maxEntryBytes) return;
    cache.store.set(key, response, cache.ttlMs).catch((err: unknown) => this.storeError(cache.kind, err, "cache store failed"));
  }

  private storeError(kind: string, err: unknown, message: string): void {
    const store = kind === "redis" ? "cache" : kind;
    this.parts.metrics.storeErrors.inc({ store });
    this.parts.logger.warn({ store, err: err instanceof Error ? err.message : String(err) }, message);
  }

  async close(): Promise<void> {
    await this.ready();
    for (const close of this.parts.closers) await close();
  }
}
