/**
 * Builds the turn of a `POST /v1/responses` request before it is forwarded: a new response id,
 * the input normalised, the conversation it continues loaded from the store (only the caller's
 * own responses: another key's id is "not found"), and references to stored items resolved.
 */
import { isGatewayResponseId, newResponseId } from "../dialects/openai-responses/ids";
import { invalid, normaliseInput } from "../dialects/openai-responses/input-items";
import { history, resolveReferences, type ConversationLimits } from "./conversation";
import type { ResponseStore } from "./store";
import type { ResponsesTurn } from "./turn";

function previousIdOf(body: Record<string, unknown>): string | null {
  const previous = body.previous_response_id;
  if (previous === undefined || previous === null) return null;
  if (typeof previous !== "string" || previous.length === 0) throw invalid("Invalid 'previous_response_id': expected a response id string.", "previous_response_id");
  return previous;
}

/** A turn with no stored state: the request alone (no store, or in unit tests). */
export function turnOf(body: Record<string, unknown>): ResponsesTurn {
  const id = newResponseId();
  const turn: ResponsesTurn = {
    context: { id, createdAt: Math.floor(Date.now() / 1000), model: String(body.model ?? ""), request: body },
    history: [],
    input: normaliseInput(body.input, id),
    expanded: false,
    continuesNative: false,
    result: null,
    complete(response) {
      turn.result = response;
    },
  };
  return turn;
}

/** `onComplete` receives the final response (to store it); the turn's `result` is set either way. */
export async function prepareTurn(store: ResponseStore, body: Record<string, unknown>, owner: string, limits: ConversationLimits, onComplete: (turn: ResponsesTurn) => void): Promise<ResponsesTurn> {
  const turn = turnOf(body);
  const previous = previousIdOf(body);
  // A native upstream's id is continued there; the store still says whose it is, and may hold the
  // whole conversation so a translating target can continue it too.
  const continuesNative = previous !== null && !isGatewayResponseId(previous);
  const earlier = previous === null ? [] : await history(store, owner, previous, limits, continuesNative);
  const input = await resolveReferences(store, owner, turn.input);
  const resolved = input.some((item, i) => item !== turn.input[i]);
  const prepared: ResponsesTurn = {
    ...turn,
    history: earlier,
    input,
    expanded: (previous !== null && !continuesNative) || resolved,
    continuesNative,
    complete(response) {
      prepared.result = response;
      onComplete(prepared);
    },
  };
  return prepared;
}
