/**
 * The Responses API served by a Chat-Completions-only target (DeepSeek, vLLM, Gemini's compat
 * endpoint, resellers, the mock): the request, with the conversation the gateway keeps, goes up
 * as Chat Completions; the answer comes back as a `response` object, or a stream comes back as
 * the typed Responses event stream. A stream that ends without its finish, or that the upstream
 * breaks off, ends with `response.failed` and an `error` event, never as a silent truncation.
 */
import { deliveredCompletionTokens } from "../budget/delivered";
import { ChatStreamToResponses } from "../dialects/openai-responses/chat-stream-to-events";
import { chatCompletionToResponse } from "../dialects/openai-responses/chat-to-response";
import { invalid, isObject } from "../dialects/openai-responses/input-items";
import { responsesToChatRequest } from "../dialects/openai-responses/request-to-chat";
import { tallyDeltas, tokensOfTally, type DeltaTally } from "../stream/delta-count";
import { SseDataReader } from "../stream/sse-data-reader";
import type { Usage } from "../traffic/types";
import type { ResponsesTurn } from "../responses/turn";
import { turnOf } from "../responses/prepare";
import { TranslationError, type ClientRequest, type TranslatedPiece, type TranslationTarget, type Translator, type TranslatorPair, type UpstreamRequest } from "./translator";

const NO_HEADERS: readonly string[] = [];
const INTERRUPTED = "upstream_stream_interrupted";

class ResponsesToChat implements Translator {
  private readonly turn: ResponsesTurn;
  private readonly bodies = new Map<string, Buffer>();
  private machine: ChatStreamToResponses | null = null;
  private reader: SseDataReader | null = null;
  /** The Chat stream said it was over (a finish_reason or [DONE]). */
  private sawEnd = false;
  private usage: Usage | null = null;
  private readonly tally: DeltaTally = { pieces: 0, bytes: 0 };
  private chatJson: Record<string, unknown> | null = null;

  constructor(private readonly client: ClientRequest) {
    this.turn = client.responses ?? turnOf(client.body);
  }

  request(target: TranslationTarget): UpstreamRequest {
    const earlier = this.turn.history;
    if (earlier === null) {
      throw invalid(`Previous response with id '${String(this.client.body.previous_response_id).slice(0, 100)}' can only be continued by the target that made it: the gateway no longer keeps its earlier turns.`, "previous_response_id");
    }
    let body = this.bodies.get(target.upstreamModel);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(responsesToChatRequest(this.client.body, [...earlier, ...this.turn.input], target.upstreamModel)));
      this.bodies.set(target.upstreamModel, body);
    }
    return { operation: "chat.completions", body, headers: NO_HEADERS };
  }

  contentType(): string {
    return "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    if (json !== undefined) return this.buffered(json);
    const machine = (this.machine ??= new ChatStreamToResponses(this.turn.context));
    const events = this.reader === null ? machine.start() : [];
    const reader = (this.reader ??= new SseDataReader());
    const messages = reader.push(piece);
    if (endOfStream) messages.push(...reader.flush());
    for (const message of messages) {
      if (message.data === "[DONE]") {
        this.sawEnd = true;
        continue;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(message.data);
      } catch {
        continue;
      }
      if (!isObject(chunk)) continue;
      if (this.client.countDelivered) {
        const bytes = Buffer.from(message.data);
        tallyDeltas(bytes, 0, bytes.length, this.tally);
      }
      events.push(...machine.chunk(chunk));
      const choice = Array.isArray(chunk.choices) ? chunk.choices.find(isObject) : undefined;
      if (choice?.finish_reason) this.sawEnd = true;
    }
    if (endOfStream) {
      events.push(...(this.sawEnd ? machine.finish() : machine.fail(INTERRUPTED, "The upstream stream was interrupted before the response was complete.")));
      if (machine.response && machine.response.status !== "failed") this.turn.complete(machine.response);
    }
    this.usage = machine.usage;
    return { body: events.length === 0 ? EMPTY : Buffer.from(events.join("")), usage: this.usage };
  }

  private buffered(json: Record<string, unknown>): TranslatedPiece {
    const translated = chatCompletionToResponse(json, this.turn.context);
    if (translated === null) throw new TranslationError("a Chat completion without a message");
    this.chatJson = json;
    this.usage = translated.usage;
    this.turn.complete(translated.response);
    return { body: Buffer.from(JSON.stringify(translated.response)), usage: translated.usage };
  }

  deliveredTokens(): number | null {
    if (!this.client.countDelivered) return null;
    if (this.chatJson !== null) return deliveredCompletionTokens("chat.completions", this.chatJson);
    return this.machine === null ? null : tokensOfTally(this.tally);
  }

  /** Chat-compatible servers answer errors in OpenAI's shape, which is the Responses API's too. */
  errorBody(_status: number, body: Buffer): Buffer {
    return body;
  }

  streamError(message: string): Buffer {
    const machine = (this.machine ??= new ChatStreamToResponses(this.turn.context));
    const events = machine.fail(INTERRUPTED, message);
    return events.length === 0 ? EMPTY : Buffer.from(events.join(""));
  }
}

const EMPTY = Buffer.alloc(0);

export const openaiResponsesToOpenaiChat: TranslatorPair = {
  name: "openai-responses-to-openai-chat",
  create: (client) => new ResponsesToChat(client),
};
