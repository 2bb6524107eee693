/**
 * Per-target data computed once at start: where to send, the upstream header array with the
 * target's key injected, and the response header values the gateway adds.
 */
import type { GatewayConfig } from "../config/schema";
import type { TargetState } from "../routing/target-state";
import { clientPassthroughFor, type ClientPassthrough } from "./attempt-headers";
import type { Dispatchers, UpstreamEndpoint } from "./dispatchers";
import { PROVIDER_DEFAULTS } from "./provider-defaults";
import { compileSecret, type TargetSecret } from "./redact";

export interface PreparedTarget {
  state: TargetState;
  endpoint: UpstreamEndpoint;
  /** Name sent upstream as `model`. */
  upstreamModel: string;
  /** Flat [name, value, …] list; the request id is appended per request. */
  baseHeaders: string[];
  /** The same without content-type, for active health checks. */
  probeHeaders: string[];
  timeoutMs: number;
  /** The key and credential-like header values, redacted from what the upstream answers. */
  secrets: TargetSecret[];
  /** Client headers this target receives (`forwardHeaders`, User-Agent). */
  passthrough: ClientPassthrough;
}

/** Header names that carry credentials (Azure's `api-key`, `x-api-key`, `x-goog-api-key`, tokens…). */
const CREDENTIAL_HEADER = /key|token|secret|auth|password|credential|signature/i;

export function prepareTarget(state: TargetState, dispatchers: Dispatchers, defaults: GatewayConfig["upstreamDefaults"]): PreparedTarget {
  const config = state.config;
  const probeHeaders: string[] = [];
  for (const [name, value] of Object.entries(config.headers)) probeHeaders.push(name.toLowerCase(), value);
  if (config.apiKey) probeHeaders.push("authorization", `Bearer ${config.apiKey}`);
  const secrets = Object.entries(config.headers)
    .filter(([name, value]) => CREDENTIAL_HEADER.test(name) && value.length >= 8)
    .map(([, value]) => value);
  if (config.apiKey) secrets.push(config.apiKey);
  return {
    state,
    endpoint: dispatchers.endpointFor(config),
    upstreamModel: config.model ?? state.model,
    baseHeaders: ["content-type", "application/json", ...probeHeaders],
    probeHeaders,
    timeoutMs: config.timeoutMs ?? defaults.timeoutMs,
    secrets: secrets.map(compileSecret),
    passthrough: clientPassthroughFor(config.headers, config.forwardHeaders ?? PROVIDER_DEFAULTS[config.provider].forwardHeaders),
  };
}
