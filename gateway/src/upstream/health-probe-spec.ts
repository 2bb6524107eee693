/**
 * Resolves a target's active check from three layers, most specific first: the target's own
 * `healthCheck`, its provider's default probe (../providers: path, method, auth and probe
 * headers, passing statuses), and the global `healthCheck` section (enabled, timing, thresholds,
 * and the path of OpenAI-compatible targets). Pure: the checker (health-checker.ts) does the I/O.
 */
import type { GatewayConfig, TargetConfig } from "../config/schema";
import { providerFor } from "../providers";

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

/** Compiles `[200, "2xx"]`-style lists to a predicate over a 600-entry table (default: any 2xx). */
export function expectedStatusMatcher(expected: readonly (number | string)[] | undefined): (status: number) => boolean {
  const table = new Uint8Array(600);
  for (const entry of expected ?? ["2xx"]) {
    if (typeof entry === "number") table[entry] = 1;
    else for (let code = Number(entry[0]) * 100, end = code + 100; code < end; code++) table[code] = 1;
  }
  return (status) => status >= 0 && status < 600 && table[status] === 1;
}

/** A provider's passing range as an expected-status list (`200..299` is `"2xx"`). */
function rangeAsList(min: number, max: number): (number | string)[] {
  if (min % 100 === 0 && max === min + 99) return [`${min / 100}xx`];
  return Array.from({ length: Math.max(0, max - min + 1) }, (_, i) => min + i);
}

export function resolveProbeSpec(target: TargetConfig, global: GatewayConfig["healthCheck"]): ProbeSpec {
  const own = target.healthCheck ?? {};
  const provider = providerFor(target.provider);
  const probe = provider.healthProbe;
  const method = own.method ?? probe.method;
  const merged = new Map<string, string>();
  for (const [name, value] of Object.entries(target.headers)) merged.set(name.toLowerCase(), value);
  const auth = provider.authHeaders(target.apiKey, new Set(merged.keys()));
  for (let i = 0; i < auth.length; i += 2) merged.set(auth[i], auth[i + 1]);
  for (const [name, value] of probe.headers) if (!merged.has(name)) merged.set(name, value);
  // Last, so a probe that needs other credentials than requests can say so.
  for (const [name, value] of Object.entries(own.headers ?? {})) merged.set(name.toLowerCase(), value);
  const body = method === "POST" && own.body !== undefined ? Buffer.from(own.body) : null;
  if (body !== null && !merged.has("content-type")) merged.set("content-type", "application/json");
  const headers: string[] = [];
  for (const [name, value] of merged) headers.push(name, value);
  const expected = own.expectedStatuses ?? rangeAsList(probe.okMin, probe.okMax);
  return {
    enabled: own.enabled ?? global.enabled,
    method,
    // The global path is OpenAI-compatible targets' default (backward compatible); others have their own.
    path: own.path ?? (provider.dialect === "openai" ? global.path : probe.path),
    headers,
    body,
    expects: expectedStatusMatcher(expected),
    expected: expected.join(","),
    intervalMs: own.intervalMs ?? global.intervalMs,
    timeoutMs: own.timeoutMs ?? global.timeoutMs,
    rise: own.rise ?? global.rise,
    fall: own.fall ?? global.fall,
  };
}
