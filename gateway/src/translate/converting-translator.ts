/**
 * The shape every translator between two dialects shares: the request re-serialised once per
 * upstream model, a non-streamed answer converted whole, a stream converted event by event, and
 * the delivered text tallied on what the client received (charged when usage never arrives). A
 * pair supplies only what differs: the conversions, the client dialect's fields and errors.
 */
import { countTextTokens } from "../limits/tokens";
import { tallyDeltas, tokensOfTally, type DeltaFields, type DeltaTally } from "../stream/delta-count";
import { SseReader, type SseEvent } from "../stream/sse-reader";
import type { Usage } from "../traffic/types";
import type { ClientRequest, TranslatedPiece, TranslationTarget, Translator, UpstreamRequest } from "./translator";
import type { UpstreamOperation } from "../providers";

const NO_HEADERS: readonly string[] = [];

/** A converter of an upstream event stream into the client's events. */
export interface StreamConverter {
  readonly usage: Usage | null;
  push(events: readonly SseEvent[]): string;
  end(): string;
}

export interface Conversion {
  operation: UpstreamOperation;
  /** The upstream request body for `upstreamModel`. */
  request(client: ClientRequest, upstreamModel: string): unknown;
  /** A whole upstream answer as the client's: its body, its usage, and the text it delivers (for the tally). */
  answer(json: Record<string, unknown>, model: string): { body: unknown; usage: Usage | null; delivered: unknown };
  stream(client: ClientRequest, model: string): StreamConverter;
  /** The client dialect's generated-text fields (null: the OpenAI ones). */
  deltaFields: DeltaFields | null;
  errorBody(status: number, body: Buffer): Buffer;
  streamError(message: string): Buffer;
}

export class ConvertingTranslator implements Translator {
  private readonly bodies = new Map<string, Buffer>();
  private reader: SseReader | null = null;
  private stream: StreamConverter | null = null;
  private usage: Usage | null = null;
  private delivered: string | null = null;
  private readonly tally: DeltaTally | null;

  constructor(
    private readonly client: ClientRequest,
    private readonly conversion: Conversion,
  ) {
    this.tally = client.countDelivered ? { pieces: 0, bytes: 0 } : null;
  }

  request(target: TranslationTarget): UpstreamRequest {
    let body = this.bodies.get(target.upstreamModel);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(this.conversion.request(this.client, target.upstreamModel)));
      this.bodies.set(target.upstreamModel, body);
    }
    return { operation: this.conversion.operation, body, headers: NO_HEADERS };
  }

  contentType(): string {
    return "application/json";
  }

  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece {
    const model = String(this.client.body.model);
    if (json !== undefined) {
      const { body, usage, delivered } = this.conversion.answer(json, model);
      this.usage = usage;
      if (this.tally) this.delivered = JSON.stringify(delivered);
      return { body: Buffer.from(JSON.stringify(body)), usage };
    }
    const reader = (this.reader ??= new SseReader());
    const stream = (this.stream ??= this.conversion.stream(this.client, model));
    let out = stream.push(reader.push(piece));
    if (endOfStream) out += stream.push(reader.flush()) + stream.end();
    const bytes = Buffer.from(out);
    if (this.tally && bytes.length > 0) tallyDeltas(bytes, 0, bytes.length, this.tally, this.conversion.deltaFields ?? undefined);
    this.usage = stream.usage;
    return { body: bytes, usage: this.usage };
  }

  deliveredTokens(): number | null {
    if (this.tally === null) return null;
    if (this.stream) return tokensOfTally(this.tally);
    return this.delivered === null ? null : countTextTokens(this.delivered);
  }

  errorBody(status: number, body: Buffer): Buffer {
    return this.conversion.errorBody(status, body);
  }

  streamError(message: string): Buffer {
    return this.conversion.streamError(message);
  }
}
