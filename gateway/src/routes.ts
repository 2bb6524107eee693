/** The OpenAI endpoints the gateway proxies: exact paths only, so odd paths never match. */
export interface ProxyRoute {
  /** Metric and log label. */
  name: string;
  /** Appended to the target's base URL. */
  upstreamPath: string;
  /** Whether `stream: true` is honoured. */
  streams: boolean;
}

export const PROXY_ROUTES: ReadonlyMap<string, ProxyRoute> = new Map([
  ["/v1/chat/completions", { name: "chat.completions", upstreamPath: "/chat/completions", streams: true }],
  ["/v1/completions", { name: "completions", upstreamPath: "/completions", streams: true }],
  ["/v1/embeddings", { name: "embeddings", upstreamPath: "/embeddings", streams: false }],
  ["/v1/images/generations", { name: "images.generations", upstreamPath: "/images/generations", streams: false }],
]);
