/**
 * Models and targets as the console shows them: strategy, fallbacks, and per target its health
 * (up, down, ejected, rate limited, misconfigured, and why), load and recent figures. Pure over
 * the router's live state and this replica's window.
 */
import type { Router } from "../../routing/router";
import type { TargetState } from "../../routing/target-state";
import type { ModelView, TargetHealthState, TargetView } from "./contract";
import type { TargetWindowStats } from "./window-stats";

/** The target's state and reason; TargetState.healthInfo when the router has it, else derived. */
export function healthOf(state: TargetState, now: number): { state: TargetHealthState; reason: string } {
  const withInfo = state as unknown as { healthInfo?: (now: number) => { state: string; reason: string } };
  if (typeof withInfo.healthInfo === "function") {
    const info = withInfo.healthInfo(now);
    return { state: info.state as TargetHealthState, reason: info.reason };
  }
  if (!state.activeUp) return { state: "down", reason: "active_check_failed" };
  if (!state.isHealthy(now)) return { state: "ejected", reason: "consecutive_failures" };
  if (!state.isAvailable(now)) return { state: "rate_limited", reason: "status_429" };
  return { state: "up", reason: "ok" };
}

/** A base URL without credentials or query: what an operator needs to recognise the upstream. */
export function displayUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    if (url.protocol === "mock:") return `mock://${url.host}${url.pathname}`;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return "(invalid url)";
  }
}

export function modelsView(router: Router, now: number, recent: (targetId: string) => TargetWindowStats): ModelView[] {
  const out: ModelView[] = [];
  for (const pool of router.pools.values()) {
    const targets: TargetView[] = pool.targets.map((state) => {
      const health = healthOf(state, now);
      const window = recent(state.id);
      return {
        name: state.name,
        base_url: displayUrl(state.config.baseUrl),
        upstream_model: state.config.model ?? pool.name,
        weight: state.config.weight,
        state: health.state,
        reason: health.reason,
        inflight: state.inflight,
        ewma_ms: state.ewmaMs === 0 ? null : Math.round(state.ewmaMs * 10) / 10,
        recent: { requests: window.requests, errors: window.errors, latency_p50_ms: window.latencyP50Ms },
      };
    });
    out.push({ name: pool.name, strategy: pool.config.strategy, fallbacks: [...pool.config.fallbacks], healthy_targets: pool.healthyCount(now), targets });
  }
  return out;
}
