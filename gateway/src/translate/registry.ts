/**
 * Which translator serves a (route, target) pair: the table of pairs, and the per-request set of
 * translators the forwarder draws from as failover moves between targets of different providers.
 * A pair missing from the table is a target that cannot serve that route: it is skipped, and a
 * model none of whose targets can serve a route is refused with a clear 400 (see routesServedBy,
 * which config validation also uses).
 */
import type { Provider, ProviderName, UpstreamDialect } from "../providers";
import { anthropicMessagesToAnthropicMessages } from "./anthropic-messages-to-anthropic-messages";
import { anthropicMessagesToOpenaiChat } from "./anthropic-messages-to-openai-chat";
import { openaiChatToAnthropicMessages } from "./openai-chat-to-anthropic-messages";
import { openaiToOpenai } from "./openai-to-openai";
import { openaiResponsesToOpenaiChat } from "./openai-responses-to-openai-chat";
import { openaiResponsesToOpenaiResponses } from "./openai-responses-to-openai-responses";
import { openaiResponsesToAnthropicMessages } from "./openai-responses-to-anthropic-messages";
import type { ClientRequest, Translator, TranslatorPair } from "./translator";

/** Route name → upstream dialect → pair. */
const PAIRS: ReadonlyMap<string, Readonly<Partial<Record<UpstreamDialect, TranslatorPair>>>> = new Map<string, Partial<Record<UpstreamDialect, TranslatorPair>>>([
  ["chat.completions", { openai: openaiToOpenai, anthropic: openaiChatToAnthropicMessages }],
  ["completions", { openai: openaiToOpenai }],
  ["embeddings", { openai: openaiToOpenai }],
  ["images.generations", { openai: openaiToOpenai }],
  ["responses", { "openai-responses": openaiResponsesToOpenaiResponses, openai: openaiResponsesToOpenaiChat, anthropic: openaiResponsesToAnthropicMessages }],
  ["messages", { anthropic: anthropicMessagesToAnthropicMessages, openai: anthropicMessagesToOpenaiChat }],
  ["messages.count_tokens", { anthropic: anthropicMessagesToAnthropicMessages }],
]);

/** The pair that serves `route` on a target of `provider`, or undefined when none does: a native pass-through first. */
export function pairFor(route: string, provider: Provider): TranslatorPair | undefined {
  const pairs = PAIRS.get(route);
  if (pairs === undefined) return undefined;
  const native = provider.nativeDialects;
  if (native !== undefined) for (const dialect of native) if (pairs[dialect] !== undefined) return pairs[dialect];
  return pairs[provider.dialect];
}

/** Every route a target of this provider can serve. */
export function routesServedBy(provider: Provider): string[] {
  return [...PAIRS.keys()].filter((route) => pairFor(route, provider) !== undefined);
}

/** Every route name with at least one pair. */
export function translatedRoutes(): string[] {
  return [...PAIRS.keys()];
}

const RELEASED_BYTES = Buffer.alloc(0);
/** What a committed request's parsed body reads as (nothing reads it after commit). */
const RELEASED_BODY: Record<string, unknown> = Object.freeze({});

/** The translators of one request, one per pair, created when a target of that pair is first tried. */
export class RequestTranslators {
  /** The first pair's translator, as two fields rather than an object per request. */
  private firstPair: TranslatorPair | null = null;
  private firstTranslator: Translator | null = null;
  private more: Map<TranslatorPair, Translator> | null = null;

  constructor(private readonly client: ClientRequest) {}

  get request(): ClientRequest {
    return this.client;
  }

  /**
   * `translator`'s answer is committed (a stream's first byte went to the client): the raw bytes,
   * the other pairs' translators and, when `translator` says it no longer reads it, the parsed
   * body are dropped, so a long stream does not hold its request.
   */
  committed(translator: Translator): void {
    this.more = null;
    this.client.rawBody = RELEASED_BYTES;
    if (translator.committed?.() === true) this.client.body = RELEASED_BODY;
  }

  /** The translator for a target of `provider`; null when it cannot serve this route. */
  for(provider: Provider): Translator | null {
    const pair = pairFor(this.client.route, provider);
    if (pair === undefined) return null;
    if (this.firstPair === null) {
      this.firstPair = pair;
      return (this.firstTranslator = pair.create(this.client));
    }
    if (this.firstPair === pair) return this.firstTranslator;
    const more = (this.more ??= new Map());
    let translator = more.get(pair);
    if (translator === undefined) {
      translator = pair.create(this.client);
      more.set(pair, translator);
    }
    return translator;
  }
}

export type { ProviderName };
