/**
 * The pipeline's part of `POST /v1/responses`: the turn built before admission (so reservations count the whole conversation
 * the upstream will read), and the store write when the answer is final.
 */
import type { Item } from "../dialects/openai-responses/input-items";
import type { ClientIdentity } from "../traffic/types";
import { prepareTurn } from "../responses/prepare";
import type { ResponsesTurn } from "../responses/turn";
import type { GatewayRuntime } from "./runtime";

/** Whose responses these are: the key's immutable id, or "" when the gateway requires no keys. */
export function ownerOf(identity: ClientIdentity | null): string {
  return identity?.keyId ?? "";
}

export async function responsesTurnFor(rt: GatewayRuntime, body: Record<string, unknown>, identity: ClientIdentity | null, model: string): Promise<ResponsesTurn> {
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
