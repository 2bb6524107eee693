/**
 * The Responses API served by a native Anthropic target, by composition: the Responses request
 * becomes a Chat request (openai-responses-to-openai-chat's mapping, with the stored
 * conversation), which openai-chat-to-anthropic-messages sends as Messages; the answer comes back
 * the same way, Anthropic → Chat → Responses, streams included. A stream that ends without
 * Anthropic's `message_stop` ends with `response.failed`, not as a completed response.
 */
import { responsesToChatRequest } from "../dialects/openai-responses/request-to-chat";
import { invalid } from "../dialects/openai-responses/input-items";
import { turnOf } from "../responses/prepare";
import type { Usage } from "../traffic/types";
import { openaiChatToAnthropicMessages } from "./openai-chat-to-anthropic-messages";
import { openaiResponsesToOpenaiChat } from "./openai-responses-to-openai-chat";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";

const STOP = Buffer.from('"message_stop"');

class ResponsesToAnthropic implements Translator {
  /** Responses ↔ Chat (this request's own translator, reading Chat answers). */
  private readonly outer: Translator;
  /** Chat ↔ Anthropic, for the Chat request the outer leg makes. */
  private inner: Translator | null = null;
  /** The last bytes of the previous piece: `"message_stop"` may straddle two. */
  private tail: Buffer = Buffer.alloc(0);
  private sawStop = false;
  private usage: Usage | null = null;

  constructor(private readonly client: ClientRequest) {
    this.outer = openaiResponsesToOpenaiChat.create(client);
  }

  private innerFor(): Translator {
    if (this.inner !== null) return this.inner;
    const turn = this.client.responses ?? turnOf(this.client.body);
    if (turn.history === null) throw invalid(`Previous response with id '${String(this.client.body.previous_response_id).slice(0, 100)}' can only be continued by the target that made it.`, "previous_response_id");
    const chat = responsesToChatRequest(this.client.body, [...turn.history, ...turn.input], String(this.client.body.model));
    const rawBody = Buffer.from(JSON.stringify(chat));
    this.inner = openaiChatToAnthropicMessages.create({ ...this.client, route: "chat.completions", body: chat, rawBody, responses: undefined });
    return this.inner;
  }

  request(target: TranslationTarget): UpstreamRequest {
    return this.innerFor().request(target);
  }

  contentType(): string {
    return "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    const inner = this.innerFor();
    if (json !== undefined) {
      const chat = inner.responseBody(piece, true, json);
      this.usage = chat.usage;
      const out = this.outer.responseBody(chat.body, true, JSON.parse(chat.body.toString("utf8")) as Record<string, unknown>);
      return { body: out.body, usage: this.usage ?? out.usage };
    }
    if (!this.sawStop) {
      const window = this.tail.length === 0 ? piece : Buffer.concat([this.tail, piece]);
      this.sawStop = window.includes(STOP);
      this.tail = window.subarray(Math.max(0, window.length - STOP.length));
    }
    const complete = endOfStream && this.sawStop;
    const chat = inner.responseBody(piece, complete);
    this.usage = chat.usage ?? this.usage;
    const out = this.outer.responseBody(chat.body, complete);
    if (!endOfStream || complete) return { body: out.body, usage: this.usage };
    const failed = this.outer.streamError("The upstream stream was interrupted before the response was complete.");
    return { body: Buffer.concat([out.body, failed]), usage: this.usage };
  }

  deliveredTokens(): number | null {
    return this.inner?.deliveredTokens() ?? null;
  }

  errorBody(status: number, body: Buffer): Buffer {
    return this.innerFor().errorBody(status, body);
  }

  streamError(message: string): Buffer {
    return this.outer.streamError(message);
  }
}

export const openaiResponsesToAnthropicMessages: TranslatorPair = {
  name: "openai-responses-to-anthropic-messages",
  create: (client) => new ResponsesToAnthropic(client),
};
