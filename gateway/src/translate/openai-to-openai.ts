/**
 * The pass-through pair for every OpenAI route (chat, completions, embeddings, images) to an
 * OpenAI-compatible target: the hot path, zero-copy. The client's bytes go upstream unchanged
 * unless the target renames the model or a stream needs `stream_options.include_usage` (spliced
 * in without re-serialising when it can be); answers pass through unchanged, with the usage read
 * on the way and the usage-only event the gateway asked for removed from the stream.
 */
import { deliveredCompletionTokens } from "../budget/delivered";
import { tokensOfTally } from "../stream/delta-count";
import { SseUsageFilter } from "../stream/sse-usage-filter";
import { generationUsageFromObject, usageFromObject } from "../stream/usage";
import { spliceIncludeUsage } from "../upstream/splice-usage";
import { topLevelUsage } from "../upstream/answer-usage";
import type { Usage } from "../traffic/types";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";
import type { UpstreamOperation } from "../providers";

const NO_HEADERS: readonly string[] = [];
const EMPTY = Buffer.alloc(0);

/** An SSE event the OpenAI SDKs raise as an APIError. */
export function openaiStreamError(message: string): Buffer {
  return Buffer.from(`data: ${JSON.stringify({ error: { message, type: "server_error", param: null, code: "upstream_stream_interrupted" } })}\n\n`);
}

function includesUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return options?.include_usage === true;
}

class OpenAIPassThrough implements Translator {
  private readonly injectUsage: boolean;
  /** Rewritten bodies by upstream model, made only when a target needs one. */
  private bodies: Map<string, Buffer> | null = null;
  private filter: SseUsageFilter | null = null;
  private usage: Usage | null = null;
  private json: Record<string, unknown> | null = null;
  /** A stream's pieces, one object reused for every chunk (see Translator.responseBody). */
  private readonly streamPiece: TranslatedPiece = { body: EMPTY, usage: null };

  /** How a usage block is read: embeddings count a prompt only; anything else generates. */
  private readonly usageOf: (usage: unknown) => Usage | null;

  constructor(private readonly client: ClientRequest) {
    this.injectUsage = client.stream && !includesUsage(client.body);
    this.usageOf = client.route === "embeddings" ? usageFromObject : generationUsageFromObject;
  }

  request(target: TranslationTarget): UpstreamRequest {
    return { operation: this.client.route as UpstreamOperation, body: this.bodyFor(target.upstreamModel), headers: NO_HEADERS };
  }

  /** The client's body as is, unless the target renames the model or usage must be asked for. */
  private bodyFor(upstreamModel: string): Buffer {
    const req = this.client;
    if (!this.injectUsage && upstreamModel === req.body.model) return req.rawBody;
    const cache = (this.bodies ??= new Map<string, Buffer>());
    let body = cache.get(upstreamModel);
    if (body === undefined && this.injectUsage && upstreamModel === req.body.model && !("stream_options" in req.body)) {
      body = spliceIncludeUsage(req.rawBody) ?? undefined;
      if (body !== undefined) cache.set(upstreamModel, body);
    }
    if (body === undefined) {
      const rewritten: Record<string, unknown> = { ...req.body, model: upstreamModel };
      if (this.injectUsage) rewritten.stream_options = { ...(req.body.stream_options as object | undefined), include_usage: true };
      body = Buffer.from(JSON.stringify(rewritten));
      cache.set(upstreamModel, body);
    }
    return body;
  }

  contentType(upstream: string | undefined): string {
    return upstream ?? "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    if (json !== undefined) {
      this.json = json;
      this.usage = this.usageOf(json.usage);
      return { body: piece, usage: this.usage };
    }
    const filter = (this.filter ??= new SseUsageFilter(this.injectUsage, this.client.countDelivered));
    let out = filter.push(piece);
    if (endOfStream) {
      const rest = filter.flush();
      if (rest.length > 0) out = out.length === 0 ? rest : Buffer.concat([out, rest]);
    }
    const translated = this.streamPiece;
    translated.body = out;
    translated.usage = filter.usage;
    return translated;
  }

  answerAsIs(body: Buffer): TranslatedPiece | null {
    // An answer without a usable usage is parsed in full: delivered tokens are counted from it.
    const usage = this.usageOf(topLevelUsage(body));
    if (usage === null) return null;
    this.usage = usage;
    return { body, usage };
  }

  committed(): boolean {
    // The rewritten bodies only served attempts; the answer needs nothing of the request but its flags.
    this.bodies = null;
    return true;
  }

  deliveredTokens(): number | null {
    if (!this.client.countDelivered) return null;
    if (this.filter) return this.filter.delivered && tokensOfTally(this.filter.delivered);
    return this.json ? deliveredCompletionTokens(this.client.route, this.json) : null;
  }

  errorBody(_status: number, body: Buffer): Buffer {
    return body;
  }

  streamError(message: string): Buffer {
    // An unterminated event still held goes out as it came, as before translation existed.
    const held = this.filter?.flush();
    return held && held.length > 0 ? Buffer.concat([held, openaiStreamError(message)]) : openaiStreamError(message);
  }
}

export const openaiToOpenai: TranslatorPair = {
  name: "openai-to-openai",
  create: (client) => new OpenAIPassThrough(client),
};
