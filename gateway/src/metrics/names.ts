/**
 * The gateway's metric names and labels: a stable, documented contract. Alert rules, the HPA
 * adapter rule and dashboards are written against these; a test checks every one they use exists.
 */
export const METRICS = {
  requests: { name: "aigw_requests_total", help: "Requests answered, by route, model, final target, HTTP status, client key and team", labels: ["route", "model", "target", "status", "key", "team"] },
  requestDuration: {
    name: "aigw_request_duration_seconds",
    help: "Whole request duration, until the last byte to the client, by status class (2xx, 4xx, 5xx; refused: traffic control said no; an interrupted stream is 5xx)",
    labels: ["route", "model", "status"],
  },
  upstreamDuration: { name: "aigw_upstream_duration_seconds", help: "One upstream attempt, from dispatch to its response headers", labels: ["model", "target"] },
  timeToFirstToken: { name: "aigw_time_to_first_token_seconds", help: "Streams: time from request start to the first chunk from the upstream", labels: ["model"] },
  tokens: {
    name: "aigw_tokens_total",
    help: "Tokens counted from upstream usage, by kind: prompt, completion, and their parts cached_prompt, cache_write (of prompt) and reasoning (of completion)",
    labels: ["model", "kind", "key", "team"],
  },
  spend: { name: "aigw_spend_usd_total", help: "Spend in USD at the price table's rates, by client key, team and served model", labels: ["key", "team", "model"] },
  usageEstimated: { name: "aigw_usage_estimated_total", help: "Requests charged from the gateway's own token count because the upstream's usage was missing or invalid", labels: ["model"] },
  inflight: { name: "aigw_inflight_requests", help: "Requests being served now", labels: [] },
  targetUp: { name: "aigw_target_up", help: "1 when the target is healthy (active and passive checks), else 0", labels: ["model", "target"] },
  modelHealthyTargets: { name: "aigw_model_healthy_targets", help: "Healthy targets per model", labels: ["model"] },
  retries: { name: "aigw_upstream_retries_total", help: "Upstream attempts that failed and were retried elsewhere, by reason", labels: ["model", "target", "reason"] },
  streamsInterrupted: { name: "aigw_streams_interrupted_total", help: "Streams cut after their first byte reached the client", labels: ["model", "target"] },
  rejections: { name: "aigw_rejections_total", help: "Requests refused by traffic control, by reason", labels: ["reason"] },
  budgetUsedRatio: { name: "aigw_budget_used_ratio", help: "Share of the monthly budget spent, per client key name", labels: ["key", "team"] },
  teamBudgetUsedRatio: { name: "aigw_team_budget_used_ratio", help: "Share of the monthly budget spent, per team", labels: ["team"] },
  cacheRequests: { name: "aigw_cache_requests_total", help: "Response cache look-ups, by result (hit or miss)", labels: ["result"] },
  storeErrors: { name: "aigw_store_errors_total", help: "Errors talking to the shared store, by store", labels: ["store"] },
  bufferedBytes: { name: "aigw_buffered_bytes", help: "Request and non-streaming response body bytes held in memory now (bounded by server.bufferedBytesLimit)", labels: [] },
  configReloads: { name: "aigw_config_reload_total", help: "Config reloads (SIGHUP or the config file changing), by result (success or failure: the old config stays)", labels: ["result"] },
  configLastReloadSuccess: { name: "aigw_config_last_reload_success_timestamp_seconds", help: "When the running config was last loaded successfully (start or reload), Unix seconds", labels: [] },
  configRestartPending: { name: "aigw_config_restart_pending", help: "1 while the config file changes fields only a restart applies (see docs/operating.md)", labels: [] },
  upstreamAuthFailures: { name: "aigw_upstream_auth_failures_total", help: "Upstream 401/403 answers to the gateway's credentials for a target (a misconfigured key, org or project), by status", labels: ["model", "target", "status"] },
  targetHealthInfo: { name: "aigw_target_health_info", help: "1 for each target's current health state (up, down, ejected, rate_limited, misconfigured) and its bounded reason", labels: ["model", "target", "state", "reason"] },
  tracingSpans: { name: "aigw_tracing_spans_total", help: "Trace spans by export result: exported, dropped (queue full), failed (collector error or timeout)", labels: ["result"] },
  requestsShed: { name: "aigw_requests_shed_total", help: "Proxied requests refused at once with 503 server_overloaded (server.overload), by reason: in_flight (the concurrency ceiling), open_connections (near the open-file limit), event_loop_lag, accept_delay (new connections wait too long before the process takes them) or event_loop_utilization", labels: ["reason"] },
  clientConnections: { name: "aigw_client_connections", help: "Client connections open on the gateway's listeners, busy or idle (each holds a file descriptor; past the open-file ceiling new requests are shed)", labels: [] },
  logLinesDropped: { name: "aigw_log_lines_dropped_total", help: "Log lines dropped because the log reader (stdout's pipe) stayed blocked past 16 MiB of waiting lines; the log itself says so once the reader recovers", labels: [] },
  eventLoopUtilization: { name: "aigw_event_loop_utilization", help: "Share of the last second the event loop was not idle (1: saturated); shedding at server.overload.maxEventLoopUtilization when set", labels: [] },
  acceptDelay: { name: "aigw_accept_delay_seconds", help: "How long the overload guard's last probe connection waited before the process answered it (the kernel's accept queue plus a loop turn: what a new client waits before its request is read); shedding starts at server.overload.maxAcceptDelayMs", labels: [] },
  eventLoopLag: { name: "aigw_event_loop_lag_seconds", help: "The event-loop lag the overload guard last sampled (how late a 100 ms timer fired); shedding starts at server.overload.maxEventLoopLagMs", labels: [] },
  storeFallback: { name: "aigw_store_fallback", help: "1 while the gateway runs on local limits because the shared store is unreachable", labels: [] },
} as const;

export type MetricKey = keyof typeof METRICS;

/** Written by the primary in multi-process mode (server.workers > 1), into the aggregated scrape. */
export const CLUSTER_METRICS = {
  workers: { name: "aigw_cluster_workers", help: "Worker processes alive under this primary (multi-process mode)", labels: [] },
  restarts: { name: "aigw_cluster_worker_restarts_total", help: "Workers that exited unexpectedly and were restarted (multi-process mode)", labels: [] },
  scraped: { name: "aigw_cluster_workers_scraped", help: "Workers whose metrics this scrape includes (a worker that did not answer in time is left out)", labels: [] },
} as const;

/** Every metric name the gateway exports (its own; Node's process_* and nodejs_* come on top). */
export const GATEWAY_METRIC_NAMES: readonly string[] = Object.values(METRICS).map((m) => m.name);

/** Default process metrics (prom-client collectDefaultMetrics) that alerts may use. */
export const PROCESS_METRIC_NAMES = ["process_resident_memory_bytes", "process_cpu_seconds_total", "nodejs_eventloop_lag_p99_seconds", "nodejs_heap_size_used_bytes"] as const;

/** Values of `aigw_rejections_total{reason}`: traffic control writes them, alerts match on them. */
export const REJECTION_REASONS = {
  missingKey: "missing_key",
  invalidKey: "invalid_key",
  expiredKey: "expired_key",
  perIp: "per_ip",
  modelNotAllowed: "model_not_allowed",
  requests: "requests",
  tokens: "tokens",
  concurrency: "concurrency",
  budget: "budget",
  teamBudget: "team_budget",
  unpriced: "unpriced_model",
  storeUnavailable: "store_unavailable",
} as const;

/** Values of `aigw_tokens_total{kind}`: prompt and completion are totals, the others parts of them. */
export const TOKEN_KINDS = { prompt: "prompt", completion: "completion", cachedPrompt: "cached_prompt", cacheWrite: "cache_write", reasoning: "reasoning" } as const;

/** Values of `aigw_request_duration_seconds{status}`. */
export const STATUS_CLASSES = { ok: "2xx", clientError: "4xx", serverError: "5xx", refused: "refused" } as const;

/** The `key` and `team` label of requests without a key, and of keys past the series ceiling. */
export const NO_KEY_LABEL = "";
export const OTHER_KEY_LABEL = "other";

/** The reasons that mean "a rate limit said no" (budgets have their own alert). */
export const RATE_LIMIT_REJECTION_REASONS: readonly string[] = [REJECTION_REASONS.requests, REJECTION_REASONS.tokens, REJECTION_REASONS.concurrency, REJECTION_REASONS.perIp];
