/**
 * Admission for one authenticated key: builds the store checks (budgets, requests and tokens
 * per minute, concurrency) for one atomic call, turns a refusal into the OpenAI-shaped error,
 * and returns the settle() that releases the slot, corrects the token reservation with the
 * real usage and adds the spend.
 */
import { REJECTION_REASONS } from "../metrics/names";
import { randomBytes } from "node:crypto";
import type { ResolvedKey } from "../auth/key-record";
import type { PriceTable } from "../budget/pricing";
import { crossedThresholds, keySpendKey, monthOf, SPEND_TTL_MS, teamSpendKey } from "../budget/spend";
import { usdToNano } from "../budget/pricing";
import { GatewayError } from "../errors";
import { formatDuration, rateLimitHeaders, retryAfterHeaders, type LimitSnapshot } from "../limits/headers";
import type { AdmitResult, BudgetCheck, LimitStore, RateCheck, SettleInput } from "../limits/store";
import { estimateRequestTokens } from "../limits/tokens";
import type { LoggerPort, TrafficMetrics } from "./metrics-port";
import type { Admission, AdmissionRequest, Usage } from "./types";

const MINUTE_MS = 60_000;

const ZERO_USAGE: Usage = Object.freeze({ promptTokens: 0, completionTokens: 0 });

export const NOOP_ADMISSION: Admission = Object.freeze({ headers: [], settle() {} });

type BudgetKind = "key" | "team";

export interface AdmitterOptions {
  store: LimitStore;
  prices: PriceTable;
  metrics: TrafficMetrics;
  logger: LoggerPort;
  defaultMaxTokens: number;
  now?: () => number;
}

export class Admitter {
  private readonly replicaId = randomBytes(6).toString("hex");
  private leaseCounter = 0;
  private readonly now: () => number;
  /** Requests answered from the cache: they settle as zero usage whatever the pipeline passes. */
  private readonly cacheHits = new WeakSet<AdmissionRequest>();

  constructor(private readonly options: AdmitterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A cache hit counts as a request but spends no tokens or budget. */
  markCacheHit(request: AdmissionRequest): void {
    this.cacheHits.add(request);
  }

  async admit(request: AdmissionRequest, key: ResolvedKey): Promise<Admission> {
    const { limits, identity } = key;
    // State follows the key's immutable id, never its name (a re-created name starts afresh).
    const name = identity.keyId;
    const month = monthOf(this.now());
    const budgets: BudgetCheck[] = [];
    const budgetKinds: BudgetKind[] = [];
    if (limits.monthlyBudgetUsd !== undefined) {
      budgets.push({ key: keySpendKey(name, month), limitNano: usdToNano(limits.monthlyBudgetUsd) });
      budgetKinds.push("key");
    }
    if (key.teamBudgetUsd !== undefined) {
      budgets.push({ key: teamSpendKey(identity.team, month), limitNano: usdToNano(key.teamBudgetUsd) });
      budgetKinds.push("team");
    }
    const rates: RateCheck[] = [];
    let rpmIndex = -1;
    let tpmIndex = -1;
    if (limits.requestsPerMinute !== undefined) {
      rpmIndex = rates.push({ key: `rl:${name}:rpm`, limit: limits.requestsPerMinute, periodMs: MINUTE_MS, cost: 1 }) - 1;
    }
    let reserved = 0;
    if (limits.tokensPerMinute !== undefined) {
      const estimate = estimateRequestTokens(request.route, request.body, this.options.defaultMaxTokens);
      reserved = estimate.prompt + estimate.completion;
      tpmIndex = rates.push({ key: `rl:${name}:tpm`, limit: limits.tokensPerMinute, periodMs: MINUTE_MS, cost: reserved }) - 1;
    }
    const concurrency = limits.concurrent !== undefined ? { key: `conc:${name}`, limit: limits.concurrent, leaseId: `${this.replicaId}:${++this.leaseCounter}` } : null;

    const result = await this.options.store.admit({ budgets, rates, concurrency });
    this.reportSpend(key, budgets, budgetKinds, result.spentNano);

    const snapshot = (index: number): LimitSnapshot | null => (index < 0 ? null : { limit: rates[index].limit, ...result.rates[index] });
    const headers = rateLimitHeaders(snapshot(rpmIndex), snapshot(tpmIndex));
    if (!result.allowed) throw this.refusal(result, key, budgetKinds, rates, rpmIndex, headers);

    let settled = false;
    const settle = (reported: Usage | null, upstreamModel: string): void => {
      if (settled) return;
      settled = true;
      const usage = this.cacheHits.has(request) ? ZERO_USAGE : reported;
      const input: SettleInput = { rates: [], concurrency: concurrency && { key: concurrency.key, leaseId: concurrency.leaseId }, spends: [] };
      // Unknown usage (null): the reservation stands, as the tokens may have been spent.
      if (usage && tpmIndex >= 0) {
        const delta = usage.promptTokens + usage.completionTokens - reserved;
        if (delta !== 0) input.rates = [{ ...rates[tpmIndex], delta }];
      }
      let addNano = 0;
      if (usage && budgets.length > 0) {
        addNano = this.options.prices.costNano(usage.promptTokens, usage.completionTokens, upstreamModel, request.model);
        if (addNano > 0) {
          const settleMonth = monthOf(this.now());
          input.spends = budgetKinds.map((kind) => ({ key: kind === "key" ? keySpendKey(name, settleMonth) : teamSpendKey(identity.team, settleMonth), addNano, ttlMs: SPEND_TTL_MS }));
        }
      }
      if (input.rates.length === 0 && !input.concurrency && input.spends.length === 0) return;
      result.store.settle(input).then(
        (settledResult) => {
          if (addNano > 0) this.reportSpend(key, budgets, budgetKinds, settledResult.spentNano, addNano);
        },
        (err: unknown) => this.options.logger.warn({ keyName: identity.keyName, err: err instanceof Error ? err.message : String(err) }, "settlement failed"),
      );
    };
    return { headers, settle };
  }

  /** Sets the used-ratio gauges; after a settlement, logs each threshold crossed. */
  private reportSpend(key: ResolvedKey, budgets: BudgetCheck[], kinds: BudgetKind[], spent: number[], added = 0): void {
    const { keyName, team } = key.identity;
    budgets.forEach((budget, i) => {
      const total = spent[i];
      if (!Number.isFinite(total)) return;
      const ratio = total / budget.limitNano;
      if (kinds[i] === "key") this.options.metrics.budgetUsedRatio.set({ key: keyName, team }, ratio);
      else this.options.metrics.teamBudgetUsedRatio.set({ team }, ratio);
      if (added <= 0) return;
      for (const threshold of crossedThresholds(total - added, total, budget.limitNano)) {
        this.options.logger.warn(
          { event: "budget_threshold", scope: kinds[i], keyName: kinds[i] === "key" ? keyName : undefined, team, threshold, ratio: Number(ratio.toFixed(4)), spentUsd: total / 1e9, budgetUsd: budget.limitNano / 1e9 },
          `${kinds[i] === "key" ? `key "${keyName}"` : `team "${team}"`} crossed ${threshold * 100}% of its monthly budget`,
        );
      }
    });
  }

  private refusal(result: AdmitResult, key: ResolvedKey, kinds: BudgetKind[], rates: RateCheck[], rpmIndex: number, headers: [string, string][]): GatewayError {
    const failed = result.failed;
    const metrics = this.options.metrics;
    if (failed?.kind === "budget") {
      const team = kinds[failed.index] === "team";
      metrics.rejections.inc({ reason: team ? REJECTION_REASONS.teamBudget : REJECTION_REASONS.budget });
      const message = team
        ? `Team "${key.identity.team}" has used its monthly budget. Requests resume next month or when the budget is raised.`
        : "This key has used its monthly budget. Requests resume next month or when the budget is raised.";
      return new GatewayError("GW_ERR_BUDGET_EXCEEDED", message, [...headers, ["x-should-retry", "false"]]);
    }
    if (failed?.kind === "concurrency") {
      metrics.rejections.inc({ reason: REJECTION_REASONS.concurrency });
      return new GatewayError("GW_ERR_RATE_LIMITED", `Too many concurrent requests for this key (limit ${key.limits.concurrent}). Please retry shortly.`, [...headers, ...retryAfterHeaders(result.retryAfterMs)]);
    }
    const index = failed?.index ?? 0;
    const isRequests = index === rpmIndex;
    const rate = rates[index];
    metrics.rejections.inc({ reason: isRequests ? REJECTION_REASONS.requests : REJECTION_REASONS.tokens });
    if (result.retryAfterMs < 0) {
      return new GatewayError("GW_ERR_RATE_LIMITED", `Request too large: it may use ${rate.cost} tokens, more than this key's limit of ${rate.limit} tokens per minute. Reduce the prompt or max_tokens.`, [...headers, ["x-should-retry", "false"]]);
    }
    const what = isRequests ? "requests" : "tokens";
    return new GatewayError(
      "GW_ERR_RATE_LIMITED",
      `Rate limit reached for ${what} per minute: limit ${rate.limit}, requested ${rate.cost}. Please try again in ${formatDuration(result.retryAfterMs)}.`,
      [...headers, ...retryAfterHeaders(result.retryAfterMs)],
    );
  }
}
