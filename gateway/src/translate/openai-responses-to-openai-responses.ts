/**
 * The Responses API passed through to a target that serves it natively (`responsesApi: native`:
 * OpenAI, Azure OpenAI). The client's bytes go up unchanged unless the target renames the model
 * or the request continues what the gateway keeps (then the conversation is sent in full, without
 * the gateway's ids, which the upstream does not know). Answers pass through unchanged; the usage
 * is read from the final event (`response.completed`, `.incomplete`, `.failed`) or the object,
 * and the final response is recorded for the store. A stream the upstream breaks off, or that
 * ends without a final event, ends with `response.failed` and an `error` event.
 */
import { sseEvent } from "../dialects/openai-responses/chat-stream-to-events";
import { isObject, type Item } from "../dialects/openai-responses/input-items";
import { usageFromResponses } from "../dialects/openai-responses/usage";
import { countTextTokens } from "../limits/tokens";
import { tokensOfTally, type DeltaTally } from "../stream/delta-count";
import { SseDataReader } from "../stream/sse-data-reader";
import type { Usage } from "../traffic/types";
import { turnOf } from "../responses/prepare";
import type { ResponsesTurn } from "../responses/turn";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, TranslatorPair, UpstreamRequest } from "./translator";

const NO_HEADERS: readonly string[] = [];
const EMPTY = Buffer.alloc(0);
const FINAL_EVENTS: ReadonlySet<string> = new Set(["response.completed", "response.incomplete", "response.failed"]);
const DELTA_EVENTS: ReadonlySet<string> = new Set(["response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta", "response.reasoning_text.delta", "response.reasoning_summary_text.delta"]);

/** A stored item as input for an upstream that never saw it: no gateway id, no reasoning (it has no encrypted content). */
function forUpstream(items: readonly Item[]): Item[] {
  return items.filter((item) => item.type !== "reasoning").map(({ id: _id, status: _status, ...rest }) => rest);
}

/** The text of the output items of a buffered response (for a delivered-tokens charge). */
function outputText(response: Record<string, unknown>): string {
  const texts: string[] = [];
  for (const item of Array.isArray(response.output) ? response.output.filter(isObject) : []) {
    if (typeof item.arguments === "string") texts.push(item.arguments);
    for (const part of Array.isArray(item.content) ? item.content.filter(isObject) : []) {
      if (typeof part.text === "string") texts.push(part.text);
      if (typeof part.refusal === "string") texts.push(part.refusal);
    }
  }
  return texts.join("\n");
}

class ResponsesPassThrough implements Translator {
  private readonly turn: ResponsesTurn;
  private readonly bodies = new Map<string, Buffer>();
  private reader: SseDataReader | null = null;
  /** The trailing partial event, not yet sent: a cut stream must not leave half an event before its error. */
  private carry: Buffer = EMPTY;
  private usage: Usage | null = null;
  private ended = false;
  private responseId: string | null = null;
  private nextSequence = 0;
  private readonly tally: DeltaTally = { pieces: 0, bytes: 0 };
  private json: Record<string, unknown> | null = null;

  constructor(private readonly client: ClientRequest) {
    this.turn = client.responses ?? turnOf(client.body);
  }

  request(target: TranslationTarget): UpstreamRequest {
    const body = this.client.body;
    if (!this.turn.expanded && target.upstreamModel === body.model) return { operation: "responses", body: this.client.rawBody, headers: NO_HEADERS };
    let bytes = this.bodies.get(target.upstreamModel);
    if (bytes === undefined) {
      const rewritten: Record<string, unknown> = { ...body, model: target.upstreamModel };
      if (this.turn.expanded && this.turn.continuesNative) {
        rewritten.input = forUpstream(this.turn.input);
      } else if (this.turn.expanded) {
        rewritten.input = forUpstream([...(this.turn.history ?? []), ...this.turn.input]);
        delete rewritten.previous_response_id;
      }
      bytes = Buffer.from(JSON.stringify(rewritten));
      this.bodies.set(target.upstreamModel, bytes);
    }
    return { operation: "responses", body: bytes, headers: NO_HEADERS };
  }

  contentType(upstream: string | undefined): string {
    return upstream ?? "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    if (json !== undefined) {
      this.json = json;
      this.usage = usageFromResponses(json.usage);
      if (json.status !== "failed" && typeof json.id === "string") this.turn.complete(json);
      return { body: piece, usage: this.usage };
    }
    const reader = (this.reader ??= new SseDataReader());
    const messages = reader.push(piece);
    for (const message of messages) this.read(message.event, message.data);
    const all = this.carry.length === 0 ? piece : Buffer.concat([this.carry, piece]);
    const complete = all.length - reader.pendingBytes;
    this.carry = all.subarray(complete);
    if (!endOfStream) return { body: all.subarray(0, complete), usage: this.usage };
    const last = reader.flush();
    for (const message of last) this.read(message.event, message.data);
    // Ended without a final event: the client must not take what it got for the whole answer.
    const tail = this.ended ? this.carry : this.failure("The upstream stream was interrupted before the response was complete.");
    this.carry = EMPTY;
    const head = all.subarray(0, complete);
    return { body: tail.length === 0 ? head : Buffer.concat([head, tail]), usage: this.usage };
  }

  /** Reads what the gateway needs from one event: ids, sequence, deltas (when counting), the final response. */
  private read(event: string | null, data: string): void {
    const type = event ?? "";
    const wanted = type === "response.created" || FINAL_EVENTS.has(type) || (this.client.countDelivered && DELTA_EVENTS.has(type));
    if (!wanted) {
      const at = data.lastIndexOf('"sequence_number":');
      if (at !== -1) this.nextSequence = Math.max(this.nextSequence, parseInt(data.slice(at + 18), 10) + 1 || 0);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(parsed)) return;
    if (typeof parsed.sequence_number === "number") this.nextSequence = Math.max(this.nextSequence, parsed.sequence_number + 1);
    if (DELTA_EVENTS.has(type) && typeof parsed.delta === "string" && parsed.delta.length > 0) {
      this.tally.pieces++;
      this.tally.bytes += Buffer.byteLength(parsed.delta);
    }
    const response = isObject(parsed.response) ? parsed.response : null;
    if (response === null) return;
    if (typeof response.id === "string") this.responseId = response.id;
    if (!FINAL_EVENTS.has(type)) return;
    this.ended = true;
    this.usage = usageFromResponses(response.usage) ?? this.usage;
    if (type !== "response.failed") this.turn.complete(response);
  }

  private failure(message: string): Buffer {
    this.ended = true;
    const code = "upstream_stream_interrupted";
    const response = { id: this.responseId ?? this.turn.context.id, object: "response", created_at: this.turn.context.createdAt, status: "failed", error: { code, message }, incomplete_details: null, model: this.turn.context.model, output: [], usage: null };
    const failed = sseEvent("response.failed", { response, sequence_number: this.nextSequence++ });
    const error = sseEvent("error", { code, message, param: null, error: { type: "server_error", code, message, param: null }, sequence_number: this.nextSequence++ });
    return Buffer.from(failed + error);
  }

  deliveredTokens(): number | null {
    if (!this.client.countDelivered) return null;
    if (this.json !== null) return countTextTokens(outputText(this.json));
    return this.reader === null ? null : tokensOfTally(this.tally);
  }

  errorBody(_status: number, body: Buffer): Buffer {
    return body;
  }

  streamError(message: string): Buffer {
    return this.ended ? EMPTY : this.failure(message);
  }
}

export const openaiResponsesToOpenaiResponses: TranslatorPair = {
  name: "openai-responses-to-openai-responses",
  create: (client) => new ResponsesPassThrough(client),
};
