/**
 * Chat Completions clients on a native Anthropic target: the request becomes a Messages request
 * (max_tokens supplied when the client sent none), the answer a chat completion or chunk stream
 * (usage with cache reads and writes), Anthropic's errors OpenAI's error shape.
 */
import { anthropicErrorToOpenai } from "../dialects/anthropic/errors";
import { countTextTokens } from "../limits/tokens";
import { tallyDeltas, tokensOfTally, type DeltaTally } from "../stream/delta-count";
import { SseReader } from "../stream/sse-reader";
import { usageFromAnthropic } from "../dialects/anthropic/usage";
import type { Usage } from "../traffic/types";
import { openaiRequestToAnthropic } from "./anthropic-openai/request";
import { anthropicResponseToOpenai } from "./anthropic-openai/response";
import { AnthropicStreamToOpenai } from "./anthropic-openai/stream-to-openai";
import { openaiStreamError } from "./openai-to-openai";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";

const NO_HEADERS: readonly string[] = [];

class OpenaiChatToAnthropic implements Translator {
  private bodies = new Map<string, Buffer>();
  private reader: SseReader | null = null;
  private stream: AnthropicStreamToOpenai | null = null;
  private usage: Usage | null = null;
  private delivered: string | null = null;
  private readonly tally: DeltaTally | null;

  constructor(private readonly client: ClientRequest) {
    this.tally = client.countDelivered ? { pieces: 0, bytes: 0 } : null;
  }

  request(target: TranslationTarget): UpstreamRequest {
    let body = this.bodies.get(target.upstreamModel);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(openaiRequestToAnthropic(this.client.body, target.upstreamModel, this.client.stream)));
      this.bodies.set(target.upstreamModel, body);
    }
    return { operation: "messages", body, headers: NO_HEADERS };
  }

  contentType(): string {
    return "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    const model = String(this.client.body.model);
    if (json !== undefined) {
      this.usage = usageFromAnthropic(json.usage);
      const completion = anthropicResponseToOpenai(json, model, this.usage);
      if (this.tally) this.delivered = JSON.stringify(completion.choices);
      return { body: Buffer.from(JSON.stringify(completion)), usage: this.usage };
    }
    const reader = (this.reader ??= new SseReader());
    const options = this.client.body.stream_options as { include_usage?: unknown } | null | undefined;
    const stream = (this.stream ??= new AnthropicStreamToOpenai(model, options?.include_usage === true));
    let out = stream.push(reader.push(piece));
    if (endOfStream) out += stream.push(reader.flush()) + stream.end();
    const bytes = Buffer.from(out);
    if (this.tally && bytes.length > 0) tallyDeltas(bytes, 0, bytes.length, this.tally);
    this.usage = stream.usage;
    return { body: bytes, usage: this.usage };
  }

  deliveredTokens(): number | null {
    if (this.tally === null) return null;
    if (this.stream) return tokensOfTally(this.tally);
    return this.delivered === null ? null : countTextTokens(this.delivered);
  }

  errorBody(status: number, body: Buffer): Buffer {
    return anthropicErrorToOpenai(status, body);
  }

  streamError(message: string): Buffer {
    return openaiStreamError(message);
  }
}

export const openaiChatToAnthropicMessages: TranslatorPair = {
  name: "openai-chat-to-anthropic-messages",
  create: (client) => new OpenaiChatToAnthropic(client),
};
