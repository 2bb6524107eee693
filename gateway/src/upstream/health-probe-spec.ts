/**
 * Resolves a target's active check from three layers, most specific first: the target's own
 * `healthCheck`, its provider's default probe (path, method, auth headers), and the global
 * `healthCheck` section (enabled, timing, thresholds, and the path of OpenAI-compatible targets).
 * Pure: the checker (health-checker.ts) does the I/O.
 */
import type { GatewayConfig, TargetConfig } from "../config/schema";
import { PROVIDER_DEFAULTS } from "./provider-defaults";

export interface ProbeSpec {
  enabled: boolean;
  method: "GET" | "HEAD" | "POST";
  /** Relative to the target's baseUrl. */
  path: string;
  /** Flat [name, value, …] list, the key included. */
  headers: string[];
  body: Buffer | null;
  /** Whether a status passes. */
  expects(status: number): boolean;
  /** The expected statuses as written, for log lines. */
  expected: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

/** Compiles `[200, "2xx"]`-style lists to a predicate over a 600-entry table. */
export function expectedStatusMatcher(expected: readonly (number | string)[] | undefined): (status: number) => boolean {
  const table = new Uint8Array(600);
  for (const entry of expected ?? ["2xx"]) {
    if (typeof entry === "number") table[entry] = 1;
    else for (let code = Number(entry[0]) * 100, end = code + 100; code < end; code++) table[code] = 1;
  }
  return (status) => status >= 0 && status < 600 && table[status] === 1;
}

export function resolveProbeSpec(target: TargetConfig, global: GatewayConfig["healthCheck"]): ProbeSpec {
  const own = target.healthCheck ?? {};
  const provider = PROVIDER_DEFAULTS[target.provider];
  const probe = provider.probe(target.baseUrl);
  const method = own.method ?? probe.method;
  const merged = new Map<string, string>();
  for (const [name, value] of Object.entries(target.headers)) merged.set(name.toLowerCase(), value);
  for (const [name, value] of Object.entries(probe.headers)) merged.set(name.toLowerCase(), value);
  if (target.apiKey) {
    const auth = provider.authHeaders(target.apiKey);
    for (let i = 0; i < auth.length; i += 2) merged.set(auth[i], auth[i + 1]);
  }
  // Last, so a probe that needs other credentials than requests can say so.
  for (const [name, value] of Object.entries(own.headers ?? {})) merged.set(name.toLowerCase(), value);
  const headers: string[] = [];
  for (const [name, value] of merged) headers.push(name, value);
  const body = method === "POST" && own.body !== undefined ? Buffer.from(own.body) : null;
  if (body !== null && !merged.has("content-type")) headers.push("content-type", "application/json");
  return {
    enabled: own.enabled ?? global.enabled,
    method,
    path: own.path ?? probe.path ?? global.path,
    headers,
    body,
    expects: expectedStatusMatcher(own.expectedStatuses),
    expected: (own.expectedStatuses ?? ["2xx"]).join(","),
    intervalMs: own.intervalMs ?? global.intervalMs,
    timeoutMs: own.timeoutMs ?? global.timeoutMs,
    rise: own.rise ?? global.rise,
    fall: own.fall ?? global.fall,
  };
}
