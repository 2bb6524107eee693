/**
 * The shapes of the console's read-only admin endpoints (GET /admin/overview, /admin/targets,
 * /admin/requests), shared as types with the front end in console/ (type imports only: nothing
 * of the gateway ends up in the browser bundle).
 */

/** One finished request as the console lists it: metadata only, never prompt or answer text. */
export interface RecentRequest {
  /** ISO time the request finished. */
  time: string;
  request_id: string;
  route: string;
  key: string | null;
  team: string | null;
  model: string;
  served_model: string | null;
  target: string | null;
  status: number;
  latency_ms: number;
  ttft_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  /** Why traffic control refused it (rate, tokens, budget, auth, …), or the gateway's error code. */
  refusal: string | null;
  error_code: string | null;
  stream: boolean;
  cache: "HIT" | "MISS" | null;
}

export interface RecentRequestsResponse {
  object: "list";
  /** Requests are kept per replica: this one's. */
  scope: "replica";
  capacity: number;
  data: RecentRequest[];
}

export interface ModelWindowStats {
  model: string;
  requests: number;
  requests_per_second: number;
  /** Share of requests answered 5xx (the gateway's or an upstream's fault). */
  error_rate: number;
  /** Share refused or rejected with a 4xx (keys, limits, budgets, bad requests). */
  client_error_rate: number;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

export interface OverviewResponse {
  object: "gateway.overview";
  /** `replica`: this process's window only. */
  scope: "replica";
  window_seconds: number;
  /** Requests per second over the last minute. */
  requests_per_second: number;
  requests: number;
  error_rate: number;
  client_error_rate: number;
  inflight: number;
  /** Requests per slot, oldest first, for a sparkline. */
  series: { slot_seconds: number; requests: number[]; errors: number[] };
  models: ModelWindowStats[];
  started_at: string;
}

export type TargetHealthState = "up" | "down" | "ejected" | "rate_limited" | "misconfigured";

export interface TargetView {
  name: string;
  base_url: string;
  upstream_model: string;
  weight: number;
  state: TargetHealthState;
  /** Why it is not up (`status_503`, `timeout`, `connect`, …); `ok` when up. */
  reason: string;
  inflight: number;
  /** Smoothed upstream time to headers, ms (null before the first answer). */
  ewma_ms: number | null;
  /** From this replica's recent requests (the window of /admin/overview). */
  recent: { requests: number; errors: number; latency_p50_ms: number | null };
}

export interface ModelView {
  name: string;
  strategy: string;
  fallbacks: string[];
  healthy_targets: number;
  targets: TargetView[];
}

export interface TargetsResponse {
  object: "list";
  scope: "replica";
  data: ModelView[];
}

export interface SessionResponse {
  object: "gateway.console.session";
  authenticated: boolean;
  /** With a session only. */
  csrf_token?: string;
  expires_at?: string;
}

export interface BudgetsResponse {
  object: "gateway.budgets";
  /** Monthly budgets of teams (config `teams`). */
  teams: { team: string; monthly_budget_usd: number }[];
  /** Plans and their limits (config `plans`), for keys' effective budgets and the plan picker. */
  plans: { name: string; limits: { requestsPerMinute?: number; tokensPerMinute?: number; concurrent?: number; monthlyBudgetUsd?: number } }[];
}
