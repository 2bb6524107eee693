/**
 * Admission for one authenticated key: builds the store checks (budgets with their worst-case
 * reservation, requests and tokens per minute, concurrency) for one atomic call, turns a refusal
 * into the OpenAI-shaped error, and returns the settle() that releases the slot and the budget
 * reservation, corrects the token reservation with the real usage and adds the spend.
 * Without usable usage from the upstream, the spend is the gateway's own count (prompt estimate
 * plus what was delivered), marked estimated.
 */
import { REJECTION_REASONS } from "../metrics/names";
import { randomBytes } from "node:crypto";
import type { ResolvedKey } from "../auth/key-record";
import type { PriceTable } from "../budget/pricing";
import { keySpendKey, monthOf, SPEND_TTL_MS, teamSpendKey } from "../budget/spend";
import { ChainPricing, worstOfChain } from "../budget/worst-case";
import { GatewayError } from "../errors";
import { appendRateLimitHeaders, formatDuration, rateLimitHeaders, REQUEST_HEADER_NAMES, retryAfterHeaders, TOKEN_HEADER_NAMES, type LimitSnapshot } from "../limits/headers";
import type { AdmitInput, AdmitResult, BudgetCheck, LimitStore, RateCheck, Reservation, SettleInput, SettleResult } from "../limits/store";
import { completionCeiling, estimateRequestTokens } from "../limits/tokens";
import { setTimeout as sleep } from "node:timers/promises";
import { LocalGate } from "./local-gate";
import { KeyChecksCache, type KeyChecks } from "./key-checks";
import { refused } from "./refusal-reason";
import { RefusalDelay, type RefusalDelayOptions } from "./refusal-delay";
import type { LoggerPort, TrafficMetrics } from "./metrics-port";
import { refusal, type BudgetKind } from "./refusal";
import { reportSpend } from "./spend-report";
import type { Admission, AdmissionRequest, Charged, SettleDetails, Usage } from "./types";

const MINUTE_MS = 60_000;

type SpendAdd = SettleInput["spends"][number];
/** The longest hold of a refusal for concurrency (its slot may free at any time). */
const CONCURRENCY_HOLD_MS = 500;

const ZERO_USAGE: Usage = Object.freeze({ promptTokens: 0, completionTokens: 0 });
const NOT_CHARGED: Charged = Object.freeze({ usage: null, estimated: false });

const NO_RESERVATIONS: Reservation[] = [];
const NO_BUDGETS: BudgetCheck[] = [];
const NO_BUDGET_KINDS: BudgetKind[] = [];
const NO_ESTIMATE = Object.freeze({ prompt: 0, completion: 0 });

/** An admission waiting for the store's answer: what deciding it needs. */
interface Draft {
  request: AdmissionRequest;
  key: ResolvedKey;
  checks: KeyChecks;
  input: AdmitInput & { leaseId: string; budgets: BudgetCheck[]; rates: RateCheck[] };
  estimate: { prompt: number; completion: number };
  rpmIndex: number;
  tpmIndex: number;
  budgetKinds: BudgetKind[];
  reserveNano: number;
  servable: Set<string> | undefined;
}

export const NOOP_ADMISSION: Admission = Object.freeze({ headers: [], settle: () => NOT_CHARGED });

export interface AdmitterOptions {
  store: LimitStore;
  prices: PriceTable;
  metrics: TrafficMetrics;
  logger: LoggerPort;
  defaultMaxTokens: number;
  /** How refusals decided before the body is read are held (default: never). */
  refusalDelay?: RefusalDelayOptions;
  now?: () => number;
}

/** What settle() needs of an admission, and nothing more (see Admitter.settlementOf). */
interface SettlePlan {
  key: ResolvedKey;
  /** The key's immutable id, which its state follows. */
  name: string;
  /** The request, when a cache hit may mark it; null for streams. */
  hitKey: AdmissionRequest | null;
  model: string;
  estimatePrompt: number;
  /** The completion limit the upstream was sent (max_tokens × n…); null when the client set none. */
  completionCeiling: number | null;
  /** Tokens reserved against tokens per minute. */
  reserved: number;
  tpmRate: RateCheck | null;
  concurrencyKey: string | null;
  leaseId: string;
  reservations: Reservation[];
  budgets: BudgetCheck[];
  budgetKinds: BudgetKind[];
  store: LimitStore;
}

export class Admitter {
  private readonly replicaId = randomBytes(6).toString("hex");
  private leaseCounter = 0;
  private readonly now: () => number;
  private readonly gate = new LocalGate();
  private readonly delay: RefusalDelay;
  /** Requests answered from the cache: they settle as zero usage whatever the pipeline passes. */
  private readonly cacheHits = new WeakSet<AdmissionRequest>();
  private readonly checks = new KeyChecksCache();
  /** What each model chain can be billed at, for the current price table. */
  private pricing: ChainPricing;

  constructor(private readonly options: AdmitterOptions) {
    this.now = options.now ?? Date.now;
    this.pricing = new ChainPricing(options.prices);
    this.delay = new RefusalDelay(options.refusalDelay ?? { maxDelayMs: 0, maxHeldPerKey: 1, maxHeldTotal: 1 });
  }

  /** A config reload: new prices and default completion reservation for requests admitted from now on. */
  reconfigure(next: Pick<AdmitterOptions, "prices" | "defaultMaxTokens">): void {
    this.options.prices = next.prices;
    this.pricing = new ChainPricing(next.prices);
    this.options.defaultMaxTokens = next.defaultMaxTokens;
  }

  /** A cache hit counts as a request but spends no tokens or budget. */
  markCacheHit(request: AdmissionRequest): void {
    this.cacheHits.add(request);
  }

  /** Refuses, without counting or a store call, what this replica knows cannot pass (see LocalGate). */
  precheck(key: ResolvedKey): void {
    const refused = this.localRefusal(key);
    if (refused) throw refused.error(0);
  }

  /** precheck(), with the refusal held before it is thrown (see RefusalDelay): for requests whose body is unread. */
  precheckHeld(key: ResolvedKey): Promise<void> | void {
    const refused = this.localRefusal(key);
    // No promise when nothing is refused: this runs for every request of a limited key.
    if (refused) return this.holdThenThrow(key.identity.keyId, refused);
  }

  private async holdThenThrow(subject: string, refused: { holdableMs: number; error: (heldMs: number) => GatewayError }): Promise<void> {
    const heldMs = this.delay.acquire(subject, refused.holdableMs);
    if (heldMs > 0) {
      try {
        await sleep(heldMs);
      } finally {
        this.delay.release(subject);
      }
    }
    throw refused.error(heldMs);
  }

  /** Refusals held now, across keys. */
  get heldRefusals(): number {
    return this.delay.heldCount;
  }

  /** Why this replica already knows the key cannot pass, and how long a refusal may be held; null when it may. */
  private localRefusal(key: ResolvedKey): { holdableMs: number; error: (heldMs: number) => GatewayError } | null {
    const { limits, identity } = key;
    if (limits.requestsPerMinute !== undefined) {
      const wait = this.gate.rpmWait(identity.keyId, this.now());
      if (wait) {
        this.options.metrics.rejections.inc({ reason: REJECTION_REASONS.requests });
        const limit = limits.requestsPerMinute;
        return {
          holdableMs: wait.waitMs,
          error: (heldMs) => {
            const waitMs = Math.max(1, wait.waitMs - heldMs);
            const headers = [...rateLimitHeaders({ limit, remaining: 0, resetMs: Math.max(1, wait.resetMs - heldMs) }, null), ...retryAfterHeaders(waitMs)];
            return refused(new GatewayError("GW_ERR_RATE_LIMITED", `Rate limit reached for requests per minute: limit ${limit}, requested 1. Please try again in ${formatDuration(waitMs)}.`, headers), REJECTION_REASONS.requests);
          },
        };
      }
    }
    if (limits.concurrent !== undefined && this.gate.held(identity.keyId) >= limits.concurrent) {
      this.options.metrics.rejections.inc({ reason: REJECTION_REASONS.concurrency });
      const limit = limits.concurrent;
      // A slot may free at any time: hold briefly, and still ask for a retry a second later.
      return {
        holdableMs: CONCURRENCY_HOLD_MS,
        error: () => refused(new GatewayError("GW_ERR_RATE_LIMITED", `Too many concurrent requests for this key (limit ${limit}). Please retry shortly.`, retryAfterHeaders(1000)), REJECTION_REASONS.concurrency),
      };
    }
    return null;
  }

  /**
   * Decides one request of an authenticated key. Synchronous on the memory store (no promise per
   * request); a promise when the store is Redis. A refusal is thrown (or the promise rejects).
   */
  admit(request: AdmissionRequest, key: ResolvedKey): Admission | Promise<Admission> {
    this.precheck(key);
    const { limits, identity } = key;
    const name = identity.keyId;
    const checks = this.checks.of(key);
    const leaseId = `${this.replicaId}:${++this.leaseCounter}`;
    // Budgets: the key's own and its team's, in that order (their spend keys made once a month).
    let budgetKinds = NO_BUDGET_KINDS;
    if (limits.monthlyBudgetUsd !== undefined || key.teamBudgetUsd !== undefined) {
      budgetKinds = checks.budgetKinds;
      const month = monthOf(this.now());
      KeyChecksCache.forMonth(checks, name, identity.team, month);
    }
    const rates: RateCheck[] = [];
    let rpmIndex = -1;
    let tpmIndex = -1;
    if (checks.rpm !== null) rpmIndex = rates.push(checks.rpm) - 1;
    // Token counting is the expensive part: only for keys whose limits need it.
    const estimate = limits.tokensPerMinute !== undefined || budgetKinds.length > 0 ? estimateRequestTokens(request.route, request.body, this.options.defaultMaxTokens) : NO_ESTIMATE;
    if (limits.tokensPerMinute !== undefined) {
      tpmIndex = rates.push({ key: checks.tpmKey, limit: limits.tokensPerMinute, periodMs: MINUTE_MS, cost: estimate.prompt + estimate.completion }) - 1;
    }
    let servable: Set<string> | undefined;
    let reserveNano = 0;
    let budgets = NO_BUDGETS;
    if (budgetKinds.length > 0) {
      const candidates = request.candidates ?? [{ name: request.model, upstreamModels: [] }];
      // The chain's prices and unpriced models are worked out once per chain, not per request.
      const chain = this.pricing.of(candidates);
      if (chain.unpriced.length > 0) servable = this.dropUnpriced(request, key, candidates, chain.unpriced);
      reserveNano = worstOfChain(chain, estimate.prompt, estimate.completion);
      budgets = [];
      if (checks.keyLimitNano !== null) budgets.push({ key: checks.keySpendKey, limitNano: checks.keyLimitNano, reserveNano });
      if (checks.teamLimitNano !== null) budgets.push({ key: checks.teamSpendKey, limitNano: checks.teamLimitNano, reserveNano });
    }
    const concurrency = limits.concurrent !== undefined ? { key: checks.concurrencyKey, limit: limits.concurrent, leaseId } : null;
    const draft: Draft = { request, key, checks, input: { budgets, rates, concurrency, leaseId }, estimate, rpmIndex, tpmIndex, budgetKinds, reserveNano, servable };
    // The memory store decides synchronously: no promise and no microtask hop for its answer.
    const store = this.options.store;
    if (store.admitSync !== undefined) return this.decided(draft, store.admitSync(draft.input));
    return store.admit(draft.input).then((result) => this.decided(draft, result));
  }

  /**
   * A request refused before admission (its body failed validation: unknown model, bad field) is
   * still a request: it takes one of the key's requests per minute, so a key looping large invalid
   * bodies is soon refused before they are read. Nothing else is held (no slot, no reservation).
   */
  countRefused(key: ResolvedKey): Promise<void> | void {
    const rpm = this.checks.of(key).rpm;
    if (rpm === null) return;
    const input: AdmitInput = { budgets: NO_BUDGETS, rates: [rpm], concurrency: null };
    const learn = (result: AdmitResult) => this.gate.learnRpm(key.identity.keyId, rpm.limit, MINUTE_MS, result.rates[0], this.now());
    const store = this.options.store;
    if (store.admitSync !== undefined) return learn(store.admitSync(input));
    return store.admit(input).then(learn);
  }

  /** The store's answer to an admission: the refusal to throw, or the admitted request's headers and settle(). */
  private decided(draft: Draft, result: AdmitResult): Admission {
    const { request, key, checks, estimate, rpmIndex, tpmIndex, budgetKinds, reserveNano, servable } = draft;
    const { budgets, rates, concurrency, leaseId } = draft.input;
    const name = key.identity.keyId;
    if (budgets.length > 0) reportSpend(this.options, key, checks, budgets, budgetKinds, result.spentNano, 0);
    if (rpmIndex >= 0) this.gate.learnRpm(name, rates[rpmIndex].limit, MINUTE_MS, result.rates[rpmIndex], this.now());

    if (!result.allowed) {
      const snapshot = (index: number): LimitSnapshot | null => (index < 0 ? null : { limit: rates[index].limit, ...result.rates[index] });
      const headers = rateLimitHeaders(snapshot(rpmIndex), snapshot(tpmIndex));
      throw refusal({ result, key, kinds: budgetKinds, budgets, rates, rpmIndex, headers, metrics: this.options.metrics });
    }
    // The same x-ratelimit-* lines as rateLimitHeaders(), flat for the response head.
    const headers: string[] = [];
    if (rpmIndex >= 0) appendRateLimitHeaders(headers, REQUEST_HEADER_NAMES, checks.rpmLimitText, result.rates[rpmIndex]);
    if (tpmIndex >= 0) appendRateLimitHeaders(headers, TOKEN_HEADER_NAMES, checks.tpmLimitText, result.rates[tpmIndex]);

    this.gate.acquire(name);
    const settle = this.settlementOf({
      key,
      name,
      // Only a non-streaming request can be a cache hit; a stream's settle() must not keep its body.
      hitKey: request.stream ? null : request,
      model: request.model,
      estimatePrompt: estimate.prompt,
      completionCeiling: estimate === NO_ESTIMATE ? null : completionCeiling(request.route, request.body),
      reserved: estimate.prompt + estimate.completion,
      tpmRate: tpmIndex >= 0 ? rates[tpmIndex] : null,
      concurrencyKey: concurrency?.key ?? null,
      leaseId,
      // Most keys have no budget: one shared empty list rather than three per open stream.
      reservations: reserveNano > 0 ? reservationsOf(budgets, leaseId, reserveNano) : NO_RESERVATIONS,
      budgets,
      budgetKinds,
      store: result.store,
    });
    return servable ? { headers, settle, servable } : { headers, settle };
  }

  /**
   * The settle() of one admitted request. A function of its own so its closure keeps only
   * `plan`, not admit()'s whole scope (the parsed body, the store's answer): a stream holds its
   * settle() for as long as it runs.
   */
  private settlementOf(plan: SettlePlan): Admission["settle"] {
    let settled = false;
    return (reported: Usage | null, upstreamModel: string, details: SettleDetails = {}): Charged => {
      if (settled) return NOT_CHARGED;
      settled = true;
      const { key, name, estimatePrompt, completionCeiling: ceiling, budgets, budgetKinds, reservations, leaseId } = plan;
      const identity = key.identity;
      this.gate.release(name);
      const hit = plan.hitKey !== null && this.cacheHits.has(plan.hitKey);
      let usage = hit ? ZERO_USAGE : reported;
      let estimated = false;
      if (usage === null && details.deliveredTokens !== undefined && details.deliveredTokens !== null) {
        usage = { promptTokens: estimatePrompt, completionTokens: details.deliveredTokens };
        estimated = true;
      }
      // Upstreams stop at the max_tokens (× n) they were sent: a count above it is not believed past
      // it. Not the gateway's default when the client set none: the upstream never saw that one.
      if (usage && ceiling !== null && usage.completionTokens > ceiling) usage = { ...usage, completionTokens: ceiling };
      const input: SettleInput = { rates: [], concurrency: plan.concurrencyKey === null ? null : { key: plan.concurrencyKey, leaseId }, spends: [], reservations };
      // Unknown usage (null): the token reservation stands, as the tokens may have been spent.
      if (usage && plan.tpmRate !== null) {
        const delta = usage.promptTokens + usage.completionTokens - plan.reserved;
        if (delta !== 0) input.rates = [{ ...plan.tpmRate, delta }];
      }
      let addNano = 0;
      // The served model's price (a fallback's, when one answered): the billed name, then the pool's.
      const costNano = usage && !hit ? this.options.prices.usageCostNano(usage, upstreamModel, details.servedModel ?? plan.model) : 0;
      const checks = this.checks.of(key);
      if (usage && budgets.length > 0) {
        addNano = costNano;
        if (addNano > 0) input.spends = this.spendsOf(checks, name, identity.team, budgetKinds, addNano);
      }
      const charged: Charged = { usage: hit ? null : usage, estimated, costNano };
      if (input.rates.length === 0 && !input.concurrency && input.spends.length === 0 && reservations.length === 0) return charged;
      const store = plan.store;
      if (store.settleSync !== undefined) {
        // The memory store settles synchronously: no promise and no callbacks made.
        try {
          const settledResult = store.settleSync(input);
          if (addNano > 0) reportSpend(this.options, key, checks, budgets, budgetKinds, settledResult.spentNano, addNano);
        } catch (err) {
          this.settlementFailed(identity.keyName, err);
        }
      } else {
        store.settle(input).then(
          (settledResult) => {
            if (addNano > 0) reportSpend(this.options, key, checks, budgets, budgetKinds, settledResult.spentNano, addNano);
          },
          (err: unknown) => this.settlementFailed(identity.keyName, err),
        );
      }
      return charged;
    };
  }

  private settlementFailed(keyName: string, err: unknown): void {
    this.options.logger.warn({ keyName, err: err instanceof Error ? err.message : String(err) }, "settlement failed");
  }

  /**
   * What a settlement adds to each budget: the month the request ends in (a request across
   * midnight of the 1st spends in the new month), whose keys the key's checks hold once made.
   */
  private spendsOf(checks: KeyChecks, keyId: string, team: string, kinds: readonly BudgetKind[], addNano: number): SpendAdd[] {
    const settleMonth = monthOf(this.now());
    const same = settleMonth === checks.month;
    const spends: SpendAdd[] = [];
    for (let i = 0; i < kinds.length; i++) {
      const key = kinds[i] === "key" ? (same ? checks.keySpendKey : keySpendKey(keyId, settleMonth)) : same ? checks.teamSpendKey : teamSpendKey(team, settleMonth);
      spends.push({ key, addNano, ttlMs: SPEND_TTL_MS });
    }
    return spends;
  }

  /**
   * A budget cannot bound a model with no price: the requested model is refused, unpriced
   * fallbacks are dropped from the chain (the returned set is what may serve).
   */
  private dropUnpriced(request: AdmissionRequest, key: ResolvedKey, candidates: readonly { name: string }[], unpriced: string[]): Set<string> {
    if (unpriced.includes(request.model)) {
      this.options.metrics.rejections.inc({ reason: REJECTION_REASONS.unpriced });
      throw refused(new GatewayError(
        "GW_ERR_MODEL_UNPRICED",
        `The model '${request.model}' has no price configured, so this ${key.limits.monthlyBudgetUsd !== undefined ? "key's" : "team's"} budget cannot be enforced on it. Ask the gateway operator to set pricing for it (or pricing.default).`,
        [],
        "model",
      ), REJECTION_REASONS.unpriced);
    }
    return new Set(candidates.map((c) => c.name).filter((name) => !unpriced.includes(name)));
  }
}

/** One reservation per budget checked, all for the same lease and amount. */
function reservationsOf(budgets: readonly BudgetCheck[], leaseId: string, reserveNano: number): Reservation[] {
  const out: Reservation[] = [];
  for (let i = 0; i < budgets.length; i++) out.push({ key: budgets[i].key, leaseId, reserveNano });
  return out;
}
