/**
 * What the gateway knows about calling one kind of upstream, as data: the dialect its endpoints
 * speak, the path of each operation under the target's base URL, the headers that authenticate a
 * request, and the default active health probe. Translators (../translate/) decide what to send;
 * providers decide where and with which credentials.
 */

/** The wire formats upstreams speak. */
export type UpstreamDialect = "openai" | "anthropic" | "openai-responses";

/** What an upstream request does, independent of where a provider serves it. */
export type UpstreamOperation = "chat.completions" | "completions" | "embeddings" | "images.generations" | "messages" | "messages.count_tokens" | "responses";

/**
 * A default health probe, as data (per-target overrides are built on top of it). `headers` are
 * added to the target's own headers and credentials; a status in [okMin, okMax] passes.
 */
export interface HealthProbe {
  readonly method: "GET";
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly okMin: number;
  readonly okMax: number;
}

export interface Provider {
  readonly name: ProviderName;
  readonly dialect: UpstreamDialect;
  /**
   * Dialects the target also speaks natively, preferred over translation where a route has a
   * pass-through pair for them (`openai-responses`: a target set `responsesApi: native`).
   */
  readonly nativeDialects?: readonly UpstreamDialect[];
  /** Path of each operation the provider serves, appended to the base URL's path. */
  readonly paths: Readonly<Partial<Record<UpstreamOperation, string>>>;
  /**
   * The headers that authenticate a request with `apiKey` (and pin the API version), flat.
   * `configured` holds the target's own headers (lower-cased names): a version the operator set wins.
   */
  authHeaders(apiKey: string | undefined, configured: ReadonlySet<string>): string[];
  readonly healthProbe: HealthProbe;
  /**
   * Client headers passed on to a target of this provider unless its `forwardHeaders` says
   * otherwise (lower-case). Never organization or project: those pick what the target's key bills.
   */
  readonly forwardHeaders: readonly string[];
}

export const PROVIDER_NAMES = ["openai", "anthropic"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
