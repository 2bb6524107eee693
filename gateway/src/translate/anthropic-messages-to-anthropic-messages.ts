/**
 * The pass-through pair for Anthropic's Messages API (and count_tokens) to a native Anthropic
 * target: the client's bytes go upstream unchanged (cache_control, thinking, betas and all) unless
 * the target renames the model, with the client's `anthropic-beta` header kept; answers pass
 * through unchanged while the usage is read from message_start / message_delta.
 */
import { anthropicStreamError } from "../dialects/anthropic/stream-error";
import { mergeAnthropicUsage, usageFromAnthropic, usageFromAnthropicCounts, type AnthropicUsageCounts } from "../dialects/anthropic/usage";
import { deliveredAnthropicTokens, ANTHROPIC_DELTA_FIELDS } from "../dialects/anthropic/delivered";
import { tallyDeltas, tokensOfTally, type DeltaTally } from "../stream/delta-count";
import { SseReader } from "../stream/sse-reader";
import type { Usage } from "../traffic/types";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";

/** The client headers a pass-through keeps: the betas it asked for (prompt caching, tools, context). */
export function anthropicBetaHeaders(client: ClientRequest): string[] {
  const beta = client.headers["anthropic-beta"];
  const value = Array.isArray(beta) ? beta.join(",") : beta;
  return value ? ["anthropic-beta", value] : [];
}

class AnthropicPassThrough implements Translator {
  private readonly headers: string[];
  private bodies: Map<string, Buffer> | null = null;
  private reader: SseReader | null = null;
  private counts: AnthropicUsageCounts = {};
  /** message_delta came: the output count is the upstream's final one. */
  private sawOutputCount = false;
  private usage: Usage | null = null;
  private readonly tally: DeltaTally | null;
  private json: Record<string, unknown> | null = null;

  constructor(private readonly client: ClientRequest) {
    this.headers = anthropicBetaHeaders(client);
    this.tally = client.countDelivered ? { pieces: 0, bytes: 0 } : null;
  }

  request(target: TranslationTarget): UpstreamRequest {
    const operation = this.client.route === "messages.count_tokens" ? "messages.count_tokens" : "messages";
    return { operation, body: this.bodyFor(target.upstreamModel), headers: this.headers };
  }

  private bodyFor(upstreamModel: string): Buffer {
    if (upstreamModel === this.client.body.model) return this.client.rawBody;
    const cache = (this.bodies ??= new Map());
    let body = cache.get(upstreamModel);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify({ ...this.client.body, model: upstreamModel }));
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
      this.usage = this.client.route === "messages" ? usageFromAnthropic(json.usage) : null;
      return { body: piece, usage: this.usage };
    }
    if (this.tally && piece.length > 0) tallyDeltas(piece, 0, piece.length, this.tally, ANTHROPIC_DELTA_FIELDS);
    const reader = (this.reader ??= new SseReader());
    const events = reader.push(piece);
    if (endOfStream) events.push(...reader.flush());
    for (const event of events) {
      // Only message_start and message_delta carry usage; skip parsing the rest.
      if (event.data === null || !event.data.includes('"usage"')) continue;
      try {
        const parsed = JSON.parse(event.data) as { type?: unknown; message?: { usage?: unknown }; usage?: unknown };
        if (parsed.type === "message_start") mergeAnthropicUsage(this.counts, parsed.message?.usage);
        else if (parsed.type === "message_delta") {
          mergeAnthropicUsage(this.counts, parsed.usage);
          this.sawOutputCount = true;
        }
        // message_start's usage says `output_tokens: 1`: a stream ending before message_delta is
        // charged what it delivered, never that.
        this.usage = this.sawOutputCount ? usageFromAnthropicCounts(this.counts) : null;
      } catch {
        // Not JSON: passed on as it is; the usage stays what it was.
      }
    }
    return { body: piece, usage: this.usage };
  }

  deliveredTokens(): number | null {
    if (!this.client.countDelivered) return null;
    if (this.tally && this.reader) return tokensOfTally(this.tally);
    return this.json ? deliveredAnthropicTokens(this.json) : null;
  }

  errorBody(_status: number, body: Buffer): Buffer {
    return body;
  }

  streamError(message: string): Buffer {
    return anthropicStreamError(message);
  }
}

export const anthropicMessagesToAnthropicMessages: TranslatorPair = {
  name: "anthropic-messages-to-anthropic-messages",
  create: (client) => new AnthropicPassThrough(client),
};
