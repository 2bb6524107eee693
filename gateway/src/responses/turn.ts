/**
 * One `POST /v1/responses` request as the translators see it: the id the gateway gives the
 * response, the conversation it continues (resolved from the store before forwarding, so the
 * translators stay pure), and, once answered, the response object the client received, for the
 * pipeline to store.
 */
import type { Item } from "../dialects/openai-responses/input-items";
import type { ResponseContext } from "../dialects/openai-responses/response-object";

export interface ResponsesTurn {
  /** The context every translated event and object of this response shares (id, model, request). */
  readonly context: ResponseContext;
  /**
   * Earlier turns, oldest first, from the store; null when `previous_response_id` names a native
   * upstream's response whose earlier turns the store no longer holds (only that upstream can continue it).
   */
  readonly history: Item[] | null;
  /** This request's input items: normalised, ids assigned, gateway item references resolved. */
  readonly input: Item[];
  /**
   * The request must be rewritten for any target: it continues or references what the gateway
   * keeps (an upstream does not know those ids), so the conversation is sent in full.
   */
  readonly expanded: boolean;
  /** `previous_response_id` names a response a native target made: a native target continues it itself. */
  readonly continuesNative: boolean;
  /** The final response object, once the translator that answered has one (never for a failed one). */
  result: Record<string, unknown> | null;
  /**
   * Called by that translator with the final response before its last bytes go to the client,
   * so the pipeline stores it before the client can ask to continue it. Sets `result`.
   */
  complete(response: Record<string, unknown>): void;
}
