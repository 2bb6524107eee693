/**
 * The read-only admin endpoints the console needs and nothing else provides, each a pure
 * function of live state to a JSON answer:
 *   GET /admin/overview    this replica's rolling window: requests/s, error rates, TTFT and latency per model
 *   GET /admin/targets     every model with strategy and fallbacks, every target with health and why
 *   GET /admin/requests    this replica's last requests (metadata only), newest first; ?limit, ?status=error|refused|ok, ?key, ?model
 *   GET /admin/budgets     team budgets and plans from the config (keys' budgets are in /admin/keys)
 */
import type { GatewayConfig } from "../../config/schema";
import { GatewayError } from "../../errors";
import type { Router } from "../../routing/router";
import type { BudgetsResponse, OverviewResponse, RecentRequestsResponse, TargetsResponse } from "./contract";
import type { StoredRequest } from "./request-ring";
import type { ConsoleRecorder } from "./recorder";
import { modelsView } from "./targets-view";

export const CONSOLE_RESOURCES = ["overview", "targets", "requests", "budgets"] as const;
export type ConsoleResource = (typeof CONSOLE_RESOURCES)[number];

export interface ConsoleApiState {
  recorder: ConsoleRecorder;
  router: Router;
  config: Pick<GatewayConfig, "teams" | "plans">;
  inflight: number;
  now: number;
}

export function overview({ recorder, inflight, now }: ConsoleApiState): OverviewResponse {
  const summary = recorder.window.summary(now);
  return {
    object: "gateway.overview",
    scope: "replica",
    window_seconds: recorder.window.windowMs / 1000,
    requests_per_second: summary.requestsPerSecond,
    requests: summary.requests,
    error_rate: summary.errorRate,
    client_error_rate: summary.clientErrorRate,
    inflight,
    series: { slot_seconds: recorder.window.windowMs / 1000 / summary.series.requests.length, ...summary.series },
    models: summary.models,
    started_at: new Date(recorder.startedAt).toISOString(),
  };
}

export function targets({ recorder, router, now }: ConsoleApiState): TargetsResponse {
  return { object: "list", scope: "replica", data: modelsView(router, now, (id) => recorder.window.target(id, now)) };
}

const STATUS_FILTERS: Record<string, (r: StoredRequest) => boolean> = {
  ok: (r) => r.status < 400,
  error: (r) => r.status >= 500,
  refused: (r) => r.status >= 400 && r.status < 500,
};

export function recentRequests({ recorder }: ConsoleApiState, query: URLSearchParams): RecentRequestsResponse {
  for (const name of query.keys()) {
    if (!["limit", "status", "key", "model"].includes(name)) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Unknown query parameter "${name.slice(0, 40)}".`, [], name);
  }
  const capacity = recorder.ring.capacity;
  const limitText = query.get("limit");
  const limit = limitText === null ? capacity : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > Math.max(1, capacity)) throw new GatewayError("GW_ERR_INVALID_REQUEST", `limit: a whole number from 1 to ${Math.max(1, capacity)}.`, [], "limit");
  const status = query.get("status");
  const byStatus = status === null ? null : STATUS_FILTERS[status];
  if (byStatus === undefined) throw new GatewayError("GW_ERR_INVALID_REQUEST", "status: expected ok, error or refused.", [], "status");
  const key = query.get("key");
  const model = query.get("model");
  const data = recorder.ring.newest(limit, (r) => (byStatus === null || byStatus(r)) && (key === null || r.key === key) && (model === null || r.model === model || r.served_model === model));
  return { object: "list", scope: "replica", capacity, data };
}

export function budgets({ config }: ConsoleApiState): BudgetsResponse {
  return {
    object: "gateway.budgets",
    teams: Object.entries(config.teams).map(([team, t]) => ({ team, monthly_budget_usd: t.monthlyBudgetUsd })),
    plans: Object.entries(config.plans).map(([name, limits]) => ({ name, limits })),
  };
}

export function answerConsoleResource(resource: ConsoleResource, state: ConsoleApiState, query: URLSearchParams): unknown {
  if (resource === "overview") return overview(state);
  if (resource === "budgets") return budgets(state);
  if (resource === "targets") return targets(state);
  return recentRequests(state, query);
}
