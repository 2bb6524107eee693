/** Builds TargetState objects for the pure routing tests (no sockets, no config file). */
import type { TargetConfig } from "../../../gateway/src/config/schema";
import { TargetState, type PassiveHealthPolicy } from "../../../gateway/src/routing/target-state";

export const POLICY: PassiveHealthPolicy = { failures: 3, cooldownMs: 1_000, maxCooldownMs: 8_000, maxRetryAfterMs: 60_000 };

export function targetConfig(name: string, weight = 1): TargetConfig {
  return { name, baseUrl: `mock://${name}`, provider: "openai", weight, headers: {}, mock: { latencyMs: 0, ttftMs: 0, interTokenMs: 0, tokens: 16 } };
}

export function makeTarget(name: string, options: { weight?: number; inflight?: number; ewmaMs?: number; policy?: PassiveHealthPolicy } = {}): TargetState {
  const state = new TargetState("m", targetConfig(name, options.weight), options.policy ?? POLICY);
  state.inflight = options.inflight ?? 0;
  state.ewmaMs = options.ewmaMs ?? 0;
  return state;
}

/** Picks `n` times and returns the chosen names in order. */
export function picks(pick: () => TargetState | null, n: number): string[] {
  return Array.from({ length: n }, () => pick()?.name ?? "null");
}

export function counts(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) out[name] = (out[name] ?? 0) + 1;
  return out;
}
