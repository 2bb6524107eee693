/**
 * The translation layer's one interface. A client dialect (the endpoint the client called) and
 * an upstream dialect (what the target speaks) make a pair; each pair has a module in this folder
 * named after it (`anthropic-messages-to-openai-chat.ts`), and the pass-through pairs are
 * translators too (`openai-to-openai.ts` is the zero-copy fast path).
 *
 * A translator is created once per request and pair (see registry.ts) and is used for every
 * attempt on targets of that pair: `request()` once per target (renames differ), then for the
 * attempt that answers, `responseBody()` per piece of the answer (a buffered answer is one piece,
 * a stream is every chunk as it arrives, with `endOfStream` on the last), and `errorBody()` for an
 * upstream's error answer that is passed on. Streaming is not a separate path: the same method
 * sees each piece and keeps whatever state it needs between them.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Provider, UpstreamOperation } from "../providers";
import type { Usage } from "../traffic/types";
import type { ResponsesTurn } from "../responses/turn";

/** The wire formats clients call the gateway in. */
export type ClientDialect = "openai" | "anthropic";

/** What a translator knows of the client's request; read-only. */
export interface ClientRequest {
  /** The route's name (`chat.completions`, `messages`, …): which operation of the client dialect. */
  route: string;
  /** The parsed body. */
  body: Record<string, unknown>;
  /** The bytes that parsed as `body` (what a pass-through forwards). */
  rawBody: Buffer;
  stream: boolean;
  /** The client's request headers (`anthropic-beta`, …); never forward credentials from them. */
  headers: IncomingHttpHeaders;
  /** Count the generated text delivered, for a charge when the upstream's usage never comes. */
  countDelivered: boolean;
  /** `POST /v1/responses` only: the response's id and the conversation it continues (see responses/turn.ts). */
  responses?: ResponsesTurn;
}

/** The target an attempt goes to, as far as a translator cares. */
export interface TranslationTarget {
  /** The model name to send upstream. */
  upstreamModel: string;
  provider: Provider;
}

export interface UpstreamRequest {
  /** The provider maps it to a path. */
  operation: UpstreamOperation;
  body: Buffer;
  /** Headers beyond the target's own and its credentials (e.g. `anthropic-beta`), flat. */
  headers: readonly string[];
}

/** What one piece of a 2xx answer became. */
export interface TranslatedPiece {
  /** Bytes for the client (possibly empty: nothing complete yet). */
  body: Buffer;
  /** The usage seen so far, in the gateway's shape; null until some arrived. */
  usage: Usage | null;
}

/** A 2xx answer that cannot be turned into the client's dialect: the attempt fails, another target may answer. */
export class TranslationError extends Error {
  readonly code = "GW_TRANSLATION";
}

export interface Translator {
  /** The upstream request for `target` (the same target gets the same bytes: cache them). */
  request(target: TranslationTarget): UpstreamRequest;
  /** The content type of a buffered 2xx answer as the client gets it (`upstream`: what the upstream said). */
  contentType(upstream: string | undefined): string;
  /**
   * One piece of a 2xx answer. `json` is the parsed body of a buffered answer (when `endOfStream`
   * is true and the answer was not a stream). May throw TranslationError for a buffered answer.
   * A stream's piece is read before the next call: a translator may reuse one object for all
   * of them (the pass-through does: one allocation fewer per event).
   */
  responseBody(piece: Buffer, endOfStream: boolean, json?: Record<string, unknown>): TranslatedPiece;
  /**
   * A pass-through's buffered 2xx answer, unchanged, with its usage read from the body's tail
   * without parsing the rest (../upstream/answer-usage.ts); null when that cannot be done (the
   * caller parses the body and calls responseBody). Absent on translators that rewrite answers.
   */
  answerAsIs?(body: Buffer): TranslatedPiece | null;
  /** Completion tokens counted in what was delivered (when the usage never came); null when not counted. */
  deliveredTokens(): number | null;
  /** An upstream's error answer (4xx, JSON, already redacted) in the client's dialect. */
  errorBody(status: number, body: Buffer): Buffer;
  /**
   * The bytes that end a stream the upstream broke off after its first byte: whatever the
   * translator still holds that may be passed on, then the client dialect's error event (never
   * the dialect's normal end, which would tell the client the answer was complete).
   */
  streamError(message: string): Buffer;
  /**
   * The answer is committed to the client: no attempt will follow, so what only building upstream
   * requests needed may go. Returns true when this translator no longer reads the client's parsed
   * body (the request's copy can then be dropped for the rest of a stream); absent: keeps it.
   */
  committed?(): boolean;
}

/** A (client dialect, upstream dialect) pair: creates the per-request translator. */
export interface TranslatorPair {
  /** The module's name, e.g. `anthropic-messages-to-openai-chat`. */
  readonly name: string;
  create(request: ClientRequest): Translator;
}
