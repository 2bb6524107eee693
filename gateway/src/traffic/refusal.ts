/**
 * Turns a refused admission into the OpenAI-shaped error the client gets, counting the reason:
 * budgets (429 insufficient_quota, saying whether the budget is spent or this request's worst
 * case does not fit next to the others in flight), concurrency, requests or tokens per minute.
 */
import type { ResolvedKey } from "../auth/key-record";
import { GatewayError } from "../errors";
import { formatDuration, retryAfterHeaders } from "../limits/headers";
import type { AdmitResult, BudgetCheck, RateCheck } from "../limits/store";
import { REJECTION_REASONS } from "../metrics/names";
import type { TrafficMetrics } from "./metrics-port";
import { refused } from "./refusal-reason";

export type BudgetKind = "key" | "team";

export interface RefusalInput {
  result: AdmitResult;
  key: ResolvedKey;
  kinds: BudgetKind[];
  budgets: readonly BudgetCheck[];
  rates: RateCheck[];
  rpmIndex: number;
  headers: [string, string][];
  metrics: TrafficMetrics;
}

const usd = (nano: number): string => `$${(nano / 1e9).toFixed(nano < 1e7 ? 6 : 2)}`;

function budgetRefusal({ result, key, kinds, budgets, headers, metrics }: RefusalInput, index: number): GatewayError {
  const team = kinds[index] === "team";
  metrics.rejections.inc({ reason: team ? REJECTION_REASONS.teamBudget : REJECTION_REASONS.budget });
  const whose = team ? `Team "${key.identity.team}"` : "This key";
  const budget = budgets[index];
  const spent = result.spentNano[index] ?? 0;
  if (spent >= budget.limitNano) {
    return new GatewayError("GW_ERR_BUDGET_EXCEEDED", `${whose} has used its monthly budget. Requests resume next month or when the budget is raised.`, [...headers, ["x-should-retry", "false"]]);
  }
  const held = result.heldNano[index] ?? 0;
  const left = Math.max(0, budget.limitNano - spent);
  if (result.retryAfterMs < 0) {
    return new GatewayError(
      "GW_ERR_BUDGET_EXCEEDED",
      `This request may cost up to ${usd(budget.reserveNano ?? 0)}, more than the ${usd(left)} left in ${team ? `team "${key.identity.team}"'s` : "this key's"} monthly budget. Lower max_tokens or the prompt.`,
      [...headers, ["x-should-retry", "false"]],
    );
  }
  return new GatewayError(
    "GW_ERR_BUDGET_EXCEEDED",
    `${whose} has ${usd(left)} of its monthly budget left, of which ${usd(held)} is reserved by requests in flight; this request may cost up to ${usd(budget.reserveNano ?? 0)}. Retry when they finish.`,
    [...headers, ...retryAfterHeaders(result.retryAfterMs)],
  );
}

export function refusal(input: RefusalInput): GatewayError {
  const error = refusalError(input);
  const { failed } = input.result;
  const reason =
    failed?.kind === "budget"
      ? input.kinds[failed.index] === "team" ? REJECTION_REASONS.teamBudget : REJECTION_REASONS.budget
      : failed?.kind === "concurrency" ? REJECTION_REASONS.concurrency
      : (failed?.index ?? 0) === input.rpmIndex ? REJECTION_REASONS.requests : REJECTION_REASONS.tokens;
  return refused(error, reason);
}

function refusalError(input: RefusalInput): GatewayError {
  const { result, key, rates, rpmIndex, headers, metrics } = input;
  const failed = result.failed;
  if (failed?.kind === "budget") return budgetRefusal(input, failed.index);
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
