/**
 * The pipeline's part of `POST /v1/responses`: the request checks the Responses API makes of
 * its own fields, the turn built before admission (so reservations count the whole conversation
 * the upstream will read), and the store write when the answer is final.
 */
import { invalid } from "../dialects/openai-responses/input-items";
import type { Item } from "../dialects/openai-responses/input-items";
import type { ClientIdentity } from "../traffic/types";
import { prepareTurn } from "../responses/prepare";
import type { ResponsesTurn } from "../responses/turn";
import type { GatewayRuntime } from "./runtime";

/** `max_output_tokens` and `top_logprobs` as OpenAI checks them; `n` has no place here. */
export function checkResponsesParams(body: Record<string, unknown>): void {
  const max = body.max_output_tokens;
  if (max !== undefined && max !== null && (typeof max !== "number" || !Number.isSafeInteger(max) || max < 1)) {
    throw invalid("Invalid 'max_output_tokens': expected an integer >= 1.", "max_output_tokens");
  }
  const top = body.top_logprobs;
  if (top !== undefined && top !== null && (typeof top !== "number" || !Number.isInteger(top) || top < 0 || top > 20)) {
    throw invalid("Invalid 'top_logprobs': expected an integer between 0 and 20.", "top_logprobs");
  }
  if (body.store !== undefined && body.store !== null && typeof body.store !== "boolean") throw invalid("Invalid 'store': expected a boolean.", "store");
}

/** Whose responses these are: the key's immutable id, or "" when the gateway requires no keys. */
export function ownerOf(identity: ClientIdentity | null): string {
  return identity?.keyId ?? "";
}

export async function responsesTurnFor(rt: GatewayRuntime, body: Record<string, unknown>, identity: ClientIdentity | null, model: string): Promise<ResponsesTurn> {
  checkResponsesParams(body);
  const owner = ownerOf(identity);
  const maxBytes = Math.max(rt.config.server.bodyLimitBytes, rt.config.responses.maxEntryBytes) * 4;
  return prepareTurn(rt.responses, body, owner, { maxBytes }, (turn) => {
    if (body.store === false || turn.result === null) return;
    const id = turn.result.id;
    if (typeof id !== "string") return;
    const previous = typeof body.previous_response_id === "string" ? body.previous_response_id : null;
    const record = { id, owner, model, previousResponseId: previous, input: turn.input, response: turn.result };
    rt.responses.put(record).then(
      (kept) => {
        if (!kept) rt.logger.warn({ responseId: id, model }, "response not stored: larger than responses.maxEntryBytes");
      },
      (err: unknown) => {
        rt.metrics.storeErrors.inc({ store: "responses" });
        rt.logger.warn({ responseId: id, err: (err as Error).message }, "response store write failed");
      },
    );
  });
}

/** The body admission estimates and caches by: the whole conversation when it continues one. */
export function admissionBody(body: Record<string, unknown>, turn: ResponsesTurn): Record<string, unknown> {
  if (turn.history === null || turn.history.length === 0) return turn.expanded ? { ...body, input: turn.input } : body;
  const input: Item[] = [...turn.history, ...turn.input];
  return { ...body, input };
}
