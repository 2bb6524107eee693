/**
 * Anthropic Messages clients (Claude Code, the Anthropic SDKs) on an OpenAI-compatible target:
 * the request becomes a Chat Completions request (usage asked for on streams), the answer an
 * Anthropic message or event stream, upstream errors Anthropic's error shape.
 */
import { openaiErrorToAnthropic } from "../dialects/anthropic/errors";
import { ANTHROPIC_DELTA_FIELDS } from "../dialects/anthropic/delivered";
import { anthropicStreamError } from "../dialects/anthropic/stream-error";
import { countTextTokens } from "../limits/tokens";
import { tallyDeltas, tokensOfTally, type DeltaTally } from "../stream/delta-count";
import { SseReader } from "../stream/sse-reader";
import type { Usage } from "../traffic/types";
import { anthropicRequestToOpenai } from "./anthropic-openai/request";
import { openaiResponseToAnthropic } from "./anthropic-openai/response";
import { OpenaiStreamToAnthropic } from "./anthropic-openai/stream-to-anthropic";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";

const NO_HEADERS: readonly string[] = [];

class AnthropicToOpenaiChat implements Translator {
  private bodies = new Map<string, Buffer>();
  private reader: SseReader | null = null;
  private stream: OpenaiStreamToAnthropic | null = null;
  private usage: Usage | null = null;
  private delivered: string | null = null;
  private readonly tally: DeltaTally | null;

  constructor(private readonly client: ClientRequest) {
    this.tally = client.countDelivered ? { pieces: 0, bytes: 0 } : null;
  }

  request(target: TranslationTarget): UpstreamRequest {
    let body = this.bodies.get(target.upstreamModel);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(anthropicRequestToOpenai(this.client.body, target.upstreamModel, this.client.stream)));
      this.bodies.set(target.upstreamModel, body);
    }
    return { operation: "chat.completions", body, headers: NO_HEADERS };
  }

  contentType(): string {
    return "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    const model = String(this.client.body.model);
    if (json !== undefined) {
      const { message, usage } = openaiResponseToAnthropic(json, model);
      this.usage = usage;
      if (this.tally) this.delivered = JSON.stringify(message.content);
      return { body: Buffer.from(JSON.stringify(message)), usage };
    }
    const reader = (this.reader ??= new SseReader());
    const stream = (this.stream ??= new OpenaiStreamToAnthropic(model));
    let out = stream.push(reader.push(piece));
    if (endOfStream) out += stream.push(reader.flush()) + stream.end();
    const bytes = Buffer.from(out);
    if (this.tally && bytes.length > 0) tallyDeltas(bytes, 0, bytes.length, this.tally, ANTHROPIC_DELTA_FIELDS);
    this.usage = stream.usage;
    return { body: bytes, usage: this.usage };
  }

  deliveredTokens(): number | null {
    if (this.tally === null) return null;
    if (this.stream) return tokensOfTally(this.tally);
    return this.delivered === null ? null : countTextTokens(this.delivered);
  }

  errorBody(status: number, body: Buffer): Buffer {
    return openaiErrorToAnthropic(status, body);
  }

  streamError(message: string): Buffer {
    return anthropicStreamError(message);
  }
}

export const anthropicMessagesToOpenaiChat: TranslatorPair = {
  name: "anthropic-messages-to-openai-chat",
  create: (client) => new AnthropicToOpenaiChat(client),
};
