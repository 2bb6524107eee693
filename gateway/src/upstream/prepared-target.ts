/**
 * Per-target data computed once at start: where to send, the upstream header array with the
 * target's key injected, and the response header values the gateway adds.
 */
import type { GatewayConfig } from "../config/schema";
import { providerFor, type Provider } from "../providers";
import type { UpstreamOperation } from "../providers/provider";
import type { TargetState } from "../routing/target-state";
import { clientPassthroughFor, type ClientPassthrough } from "./attempt-headers";
import type { Dispatchers, UpstreamEndpoint } from "./dispatchers";
import { compileSecret, type TargetSecret } from "./redact";

export interface PreparedTarget {
  state: TargetState;
  endpoint: UpstreamEndpoint;
  /** Name sent upstream as `model`. */
  upstreamModel: string;
  /** How to call it: operation paths, credentials, default health probe. */
  provider: Provider;
  /** Flat [name, value, …] list; the request id is appended per request. */
  baseHeaders: string[];
  /** The same without content-type, plus the provider's probe headers, for active health checks. */
  probeHeaders: string[];
  timeoutMs: number;
  /** The key and credential-like header values, redacted from what the upstream answers (frozen: redact.ts caches per array). */
  secrets: readonly TargetSecret[];
  /** Client headers this target receives (`forwardHeaders`, User-Agent). */
  passthrough: ClientPassthrough;
  /** The request path of each operation the provider has, its base URL's path in front (built once, not per request). */
  paths: Readonly<Partial<Record<UpstreamOperation, string>>>;
}

/** Header names that carry credentials (Azure's `api-key`, `x-api-key`, `x-goog-api-key`, tokens…). */
const CREDENTIAL_HEADER = /key|token|secret|auth|password|credential|signature/i;

export function prepareTarget(state: TargetState, dispatchers: Dispatchers, defaults: GatewayConfig["upstreamDefaults"]): PreparedTarget {
  const config = state.config;
  const provider = providerFor(config.provider, config.responsesApi);
  const authHeaders: string[] = [];
  const configured = new Set<string>();
  for (const [name, value] of Object.entries(config.headers)) {
    authHeaders.push(name.toLowerCase(), value);
    configured.add(name.toLowerCase());
  }
  authHeaders.push(...provider.authHeaders(config.apiKey, configured));
  const probeHeaders = [...authHeaders];
  for (const [name, value] of provider.healthProbe.headers) if (!probeHeaders.includes(name)) probeHeaders.push(name, value);
  const secrets = Object.entries(config.headers)
    .filter(([name, value]) => CREDENTIAL_HEADER.test(name) && value.length >= 8)
    .map(([, value]) => value);
  if (config.apiKey) secrets.push(config.apiKey);
  const endpoint = dispatchers.endpointFor(config);
  const paths: Partial<Record<UpstreamOperation, string>> = {};
  for (const [operation, path] of Object.entries(provider.paths) as [UpstreamOperation, string | undefined][]) if (path !== undefined) paths[operation] = endpoint.pathPrefix + path;
  return {
    state,
    endpoint,
    paths,
    provider,
    upstreamModel: config.model ?? state.model,
    baseHeaders: ["content-type", "application/json", ...authHeaders],
    probeHeaders,
    timeoutMs: config.timeoutMs ?? defaults.timeoutMs,
    secrets: Object.freeze(secrets.map(compileSecret)),
    passthrough: clientPassthroughFor(config.headers, config.forwardHeaders ?? provider.forwardHeaders),
  };
}
