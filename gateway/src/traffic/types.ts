/**
 * The contract between the request pipeline and traffic control (client keys, per-IP limits,
 * rate limits, token quotas, budgets and the response cache). The pipeline calls these hooks in
 * order; every refusal is thrown as a GatewayError (see ../errors.ts) that the pipeline answers.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { ServableModel } from "../budget/worst-case";
import type { AdminAuthThrottle } from "../admin/auth-throttle";
import type { GatewayConfig } from "../config/schema";
import type { PriceTable } from "../budget/pricing";
import type { RollupStore } from "../budget/rollup-store";

export type { ServableModel } from "../budget/worst-case";

/** Who is calling, once authenticated. Never carries the clear key. */
export interface ClientIdentity {
  /** The key's configured name: safe for logs and metric labels. */
  keyName: string;
  /** The key's immutable id: limits, spend and cache entries are keyed by it (see auth/key-hash.ts). */
  keyId: string;
  team: string;
  plan: string;
  /** Models this key may use; null means every model. */
  allowedModels: ReadonlySet<string> | null;
}

/** What admission looks at, once the body is parsed. */
export interface AdmissionRequest {
  identity: ClientIdentity | null;
  /** `chat.completions`, `completions`, `embeddings`, `images.generations`. */
  route: string;
  /** The client-facing model name. */
  model: string;
  /** The parsed request body (read-only). */
  body: Record<string, unknown>;
  stream: boolean;
  /**
   * The models that may answer, in fallback order (the requested one first), already limited to
   * the ones this key may use. Budgets reserve for the most expensive. Default: just `model`.
   */
  candidates?: readonly ServableModel[];
}

export interface Usage {
  /** Every input token, cached ones and cache writes included (OpenAI's `prompt_tokens`). */
  promptTokens: number;
  /** Every output token, reasoning included (OpenAI's `completion_tokens`). */
  completionTokens: number;
  /** Of `promptTokens`, those read from the provider's prompt cache (priced apart where providers do). */
  cachedPromptTokens?: number;
  /** Of `promptTokens`, those written to the provider's prompt cache (Anthropic's `cache_creation_input_tokens`). */
  cacheWriteTokens?: number;
  /** Of `completionTokens`, the reasoning tokens. */
  reasoningTokens?: number;
}

/** What the pipeline knows at the end of a request, beyond the upstream's usage. */
export interface SettleDetails {
  /** The model pool that answered (a fallback's price is the one charged). */
  servedModel?: string;
  /** Completion tokens the gateway counted in what it delivered; null when nothing was. */
  deliveredTokens?: number | null;
}

/** The usage a settlement charged, and whether the gateway estimated it. */
export interface Charged {
  usage: Usage | null;
  estimated: boolean;
  /** What the usage cost (integer nano-USD, the amount added to budgets); absent when not computed. */
  costNano?: number;
}

/** A request that was let in: headers to send, and what to do when it ends. */
export interface Admission {
  /** `x-ratelimit-*` response headers, already formatted, flat: name, value, name, value… (may be empty). */
  readonly headers: readonly string[];
  /** The candidates that may serve this request (unpriced fallbacks of a budgeted key dropped); undefined: all. */
  readonly servable?: ReadonlySet<string>;
  /**
   * Called exactly once when the request ends, successfully or not: releases concurrency,
   * settles the token reservation with the real usage (null when unknown or failed), adds spend.
   * `upstreamModel` is the name the target billed, for the price table.
   * After a cache hit (same AdmissionRequest object passed to cacheLookup) the usage passed is
   * ignored and counts as zero: the request counted, its token reservation is refunded and it
   * spends nothing. Without usage, what was delivered (`details.deliveredTokens`) is charged on
   * top of the prompt estimate and marked estimated; with neither, the token reservation stands.
   * The budget reservation is always released.
   */
  settle(usage: Usage | null, upstreamModel: string, details?: SettleDetails): Charged | void;
}

/** A cached answer, as sent to the client. */
export interface CachedResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface CacheLookup {
  /** The hit, or null on a miss. */
  hit: CachedResponse | null;
  /** Pass to store() after a miss; null when this request is not cacheable. */
  key: string | null;
}

/** What the pipeline prices and records spend with (see ../budget/). */
export interface SpendParts {
  readonly prices: PriceTable;
  readonly rollups: RollupStore;
  /** Names of the runtime keys that exist now (null without runtime keys): series of others are removed. */
  liveRuntimeKeys(): ReadonlySet<string> | null;
}

/**
 * authenticate, admit and cacheLookup may answer synchronously (no promise per request on the
 * memory store and config keys); they never throw synchronously: a refusal is a rejected promise.
 */
export interface TrafficControl {
  /** True when nothing is configured: the pipeline may skip every hook (fast path). */
  readonly passthrough: boolean;
  /** Prices and daily rollups; absent from a hand-built TrafficControl (then no spend is recorded). */
  readonly spend?: SpendParts;
  /** Per-IP limit, then the client key. Returns null when keys are not required. */
  authenticate(headers: IncomingHttpHeaders, clientIp: string): ClientIdentity | null | Promise<ClientIdentity | null>;
  /**
   * Cheap checks before the body is read (no token counting, no store call): refuses a key this
   * replica already knows is over its requests per minute or concurrency. Optional.
   */
  precheck?(identity: ClientIdentity): Promise<void> | void;
  /** A request refused after its body was read, before admission: it takes one of the key's requests per minute. Optional. */
  countRefused?(identity: ClientIdentity): void;
  /** Model permission, budget, requests/tokens per minute, concurrency. */
  admit(request: AdmissionRequest): Admission | Promise<Admission>;
  /** Exact-match cache, for non-streaming deterministic requests. */
  cacheLookup(request: AdmissionRequest, rawBody: Buffer, headers: IncomingHttpHeaders): CacheLookup | Promise<CacheLookup>;
  cacheStore(key: string, response: CachedResponse): void;
  /** The admin API (`/admin/…`), when configured; null when off. */
  readonly handleAdmin?: ((req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<void>) | null;
  /** The admin API's throttle of failed authentications, which the console's login shares. */
  readonly adminThrottle?: AdminAuthThrottle | null;
  /** Resolves once shared stores are reachable (or startup stopped waiting for them). */
  ready?(): Promise<void>;
  /** Why a reloaded config cannot be applied (e.g. runtime keys on a plan it drops); empty when it can. */
  reloadProblems?(config: GatewayConfig): string[];
  /** Applies a reloaded config's keys, plans, teams, pricing and limits to requests from now on. */
  reconfigure?(config: GatewayConfig): void;
  /** Stops timers and closes store connections. */
  close(): Promise<void>;
}
