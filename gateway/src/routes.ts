/** The endpoints the gateway proxies: exact paths only, so odd paths never match. */
import { localCountTokens } from "./dialects/anthropic/count-tokens";
import { checkCountTokensRequest, checkMessagesRequest } from "./dialects/anthropic/validate";
import { checkResponsesParams } from "./dialects/openai-responses/validate";
import type { ModelPool } from "./routing/router";
import type { ClientDialect } from "./translate/translator";

export interface ProxyRoute {
  /** Metric and log label; also the operation a translator is chosen for (see translate/registry.ts). */
  name: string;
  /** The client's wire format: request and answer bodies, and the shape of every error. */
  dialect: ClientDialect;
  /** Whether `stream: true` is honoured. */
  streams: boolean;
  /** The dialect's own checks of a parsed body; throws a GatewayError (a 400 in the route's dialect). */
  check?: (body: Record<string, unknown>) => void;
  /** An answer the gateway gives itself, without an upstream, for this chain (JSON); null to forward. */
  answerLocally?: (body: Record<string, unknown>, chain: readonly ModelPool[]) => Buffer | null;
}

export const PROXY_ROUTES: ReadonlyMap<string, ProxyRoute> = new Map<string, ProxyRoute>([
  ["/v1/chat/completions", { name: "chat.completions", dialect: "openai", streams: true }],
  ["/v1/completions", { name: "completions", dialect: "openai", streams: true }],
  ["/v1/embeddings", { name: "embeddings", dialect: "openai", streams: false }],
  ["/v1/images/generations", { name: "images.generations", dialect: "openai", streams: false }],
  ["/v1/responses", { name: "responses", dialect: "openai", streams: true, check: checkResponsesParams }],
  ["/v1/messages", { name: "messages", dialect: "anthropic", streams: true, check: checkMessagesRequest }],
  ["/v1/messages/count_tokens", { name: "messages.count_tokens", dialect: "anthropic", streams: false, check: checkCountTokensRequest, answerLocally: localCountTokens }],
]);
